"""Where a cross-region filing (异地就医备案) may point: a whole province, or a
city that is a pooling region of its own (core.models.Region), each by its
GB/T 2260 code."""

from __future__ import annotations

from dataclasses import dataclass

from core.models import Region
from core.places import PROVINCES as PLACES
from core.places import place_name

# Provinces (core.places.PROVINCES: code → (中文, English)) by their Chinese
# names, as a filing stores them.
PROVINCES = {code: names[0] for code, names in PLACES.items()}


def province_code_of(code: str) -> str:
    return f"{code[:2]}0000"


def is_province(code: str) -> bool:
    return code.endswith("0000")


@dataclass(frozen=True)
class Destination:
    code: str
    name: str
    region: Region | None

    @property
    def display_name(self) -> str:
        """The name in the active language (`name` is the Chinese one, as filed)."""
        if self.region is not None and not self.is_province:
            return self.region.display_place
        return place_name(self.code, self.name)

    @property
    def is_province(self) -> bool:
        return is_province(self.code)

    def contains(self, region_code: str) -> bool:
        """Whether the pooling region `region_code` lies inside this destination."""
        if self.is_province:
            return region_code[:2] == self.code[:2]
        return region_code == self.code


def destinations() -> list[Destination]:
    """Every province, and every pooling region below province level, ordered
    by code (one query). A municipality (北京市 110000) is both a province and
    a region: it appears once, with its region."""
    regions = {region.code: region for region in Region.objects.order_by("code")}
    found = {
        code: Destination(code=code, name=name, region=regions.get(code))
        for code, name in PROVINCES.items()
    }
    for code, region in regions.items():
        if code in found or province_code_of(code) not in PROVINCES:
            continue
        found[code] = Destination(
            code=code, name=f"{region.province}{region.name}", region=region
        )
    return [found[code] for code in sorted(found)]


def destination_get(code: str) -> Destination | None:
    code = (code or "").strip()
    if not (len(code) == 6 and code.isdigit()):
        return None
    if code in PROVINCES:
        region = Region.objects.filter(code=code).first()
        return Destination(code=code, name=PROVINCES[code], region=region)
    if province_code_of(code) not in PROVINCES:
        return None
    region = Region.objects.filter(code=code).first()
    if region is None:
        return None
    return Destination(code=code, name=f"{region.province}{region.name}", region=region)
