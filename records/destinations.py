"""Where a cross-region filing (异地就医备案) may point: a whole province, or a
city that is a pooling region of its own (core.models.Region), each by its
GB/T 2260 code."""

from __future__ import annotations

from dataclasses import dataclass

from core.models import Region

# Province-level divisions of GB/T 2260 inside the national cross-region
# settlement network (Hong Kong, Macao and Taiwan are not part of it).
PROVINCES = {
    "110000": "北京市",
    "120000": "天津市",
    "130000": "河北省",
    "140000": "山西省",
    "150000": "内蒙古自治区",
    "210000": "辽宁省",
    "220000": "吉林省",
    "230000": "黑龙江省",
    "310000": "上海市",
    "320000": "江苏省",
    "330000": "浙江省",
    "340000": "安徽省",
    "350000": "福建省",
    "360000": "江西省",
    "370000": "山东省",
    "410000": "河南省",
    "420000": "湖北省",
    "430000": "湖南省",
    "440000": "广东省",
    "450000": "广西壮族自治区",
    "460000": "海南省",
    "500000": "重庆市",
    "510000": "四川省",
    "520000": "贵州省",
    "530000": "云南省",
    "540000": "西藏自治区",
    "610000": "陕西省",
    "620000": "甘肃省",
    "630000": "青海省",
    "640000": "宁夏回族自治区",
    "650000": "新疆维吾尔自治区",
}


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
