"""Place names in the reader's language: the provinces of GB/T 2260 and the
pooling regions (core.models.Region), each with a Chinese and an English name.

One rule for every page, PDF and message: English when the active language is
English and the place has an English name, else Chinese. A name stored as
issued (a receipt's, a filing's, a certificate's) is shown as stored in
Chinese and, in English, as the place its code names."""

from __future__ import annotations

from django.utils.translation import get_language

# Province-level divisions inside the national cross-region settlement
# network (Hong Kong, Macao and Taiwan are not part of it): code → (中文, English).
PROVINCES: dict[str, tuple[str, str]] = {
    "110000": ("北京市", "Beijing"),
    "120000": ("天津市", "Tianjin"),
    "130000": ("河北省", "Hebei"),
    "140000": ("山西省", "Shanxi"),
    "150000": ("内蒙古自治区", "Inner Mongolia"),
    "210000": ("辽宁省", "Liaoning"),
    "220000": ("吉林省", "Jilin"),
    "230000": ("黑龙江省", "Heilongjiang"),
    "310000": ("上海市", "Shanghai"),
    "320000": ("江苏省", "Jiangsu"),
    "330000": ("浙江省", "Zhejiang"),
    "340000": ("安徽省", "Anhui"),
    "350000": ("福建省", "Fujian"),
    "360000": ("江西省", "Jiangxi"),
    "370000": ("山东省", "Shandong"),
    "410000": ("河南省", "Henan"),
    "420000": ("湖北省", "Hubei"),
    "430000": ("湖南省", "Hunan"),
    "440000": ("广东省", "Guangdong"),
    "450000": ("广西壮族自治区", "Guangxi"),
    "460000": ("海南省", "Hainan"),
    "500000": ("重庆市", "Chongqing"),
    "510000": ("四川省", "Sichuan"),
    "520000": ("贵州省", "Guizhou"),
    "530000": ("云南省", "Yunnan"),
    "540000": ("西藏自治区", "Xizang"),
    "610000": ("陕西省", "Shaanxi"),
    "620000": ("甘肃省", "Gansu"),
    "630000": ("青海省", "Qinghai"),
    "640000": ("宁夏回族自治区", "Ningxia"),
    "650000": ("新疆维吾尔自治区", "Xinjiang"),
}


def in_english() -> bool:
    return (get_language() or "").lower().startswith("en")


def localized(chinese: str, english: str) -> str:
    """`english` on an English page when there is one, else `chinese`."""
    return english if english and in_english() else chinese


def province_code_of(code: str) -> str:
    return f"{code[:2]}0000"


def is_province(code: str) -> bool:
    return code in PROVINCES


def province_name(code: str) -> str:
    """The name of the province `code` lies in (a province's or a region's
    code), in the active language; "" when it is no known province."""
    names = PROVINCES.get(province_code_of(code or ""))
    return localized(*names) if names else ""


def with_code(name: str, code: str) -> str:
    """合肥市（340100） / Hefei (340100)."""
    return f"{name} ({code})" if in_english() else f"{name}（{code}）"


def _regions(codes) -> dict:
    from .models import Region

    return Region.objects.in_bulk([c for c in codes if c])


def region_names(codes) -> dict[str, str]:
    """The regions `codes` by name in the active language, by code: one query
    on an English page, none in Chinese (the names as stored stand there)."""
    if not in_english():
        return {}
    return {code: r.display_name for code, r in _regions(set(codes)).items()}


def place_name(code: str, stored: str = "") -> str:
    """Where a filing points (a province, or a city with its province: 安徽省合肥市
    / Hefei, Anhui), by its code; `stored`, the name as filed, in Chinese and
    for a code no longer known."""
    if not in_english():
        return stored or PROVINCES.get(code, ("",))[0]
    if code in PROVINCES:
        return PROVINCES[code][1]
    region = _regions([code]).get(code)
    return region.display_place if region else stored
