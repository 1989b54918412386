"""Seed figures for the demo regions' policy tables (SPEC §1, §4–5).

合肥 2025 is from the seed page S0; the other regions' figures are examples of
the same shape (*local* in SPEC), scaled by year. Staff edit the real tables in
the admin; this only fills an empty database.
"""

import datetime as dt
from decimal import Decimal

from .models import Category

D = Decimal

REGIONS = [
    # code, name, province, and their English names (core.models.Region)
    ("340100", "合肥市", "安徽省", "Hefei", "Anhui"),
    ("110000", "北京市", "北京市", "Beijing", "Beijing"),
    ("370200", "青岛市", "山东省", "Qingdao", "Shandong"),
    ("350100", "福州市", "福建省", "Fuzhou", "Fujian"),
]

# Per region: residents' personal amount by category for 2025, subsidy, and the
# flexible workers' figures (monthly average wage, rate), window end (month, day
# in the year before the benefit year, or in the benefit year for "next"), late fee.
REGION_FIGURES = {
    "340100": {
        "amounts": {
            Category.ORDINARY: ("400", "670"),
            Category.STUDENT: ("350", "670"),
            Category.TEKUN: ("0", "1070"),
            Category.DIBAO: ("40", "1030"),
            Category.DIBAO_EDGE_ELDERLY: ("40", "1030"),
            Category.POVERTY_RETURN: ("80", "990"),
            Category.MONITORED: ("200", "870"),
        },
        "average_wage": "8326.00",
        "rate": "0.0800",
        "window_end": ("prev", 12, 31),
        "late_fee": False,
    },
    "110000": {
        "amounts": {
            Category.ORDINARY: ("380", "2200"),
            Category.STUDENT: ("380", "2200"),
            Category.TEKUN: ("0", "2580"),
            Category.DIBAO: ("0", "2580"),
            Category.DIBAO_EDGE_ELDERLY: ("0", "2580"),
            Category.POVERTY_RETURN: ("0", "2580"),
            Category.MONITORED: ("190", "2390"),
        },
        "average_wage": "11937.00",
        "rate": "0.0980",
        "window_end": ("prev", 12, 25),
        "late_fee": True,
    },
    "370200": {
        "amounts": {
            Category.ORDINARY: ("390", "690"),
            Category.STUDENT: ("300", "690"),
            Category.TEKUN: ("0", "1080"),
            Category.DIBAO: ("0", "1080"),
            Category.DIBAO_EDGE_ELDERLY: ("40", "1040"),
            Category.POVERTY_RETURN: ("80", "1000"),
            Category.MONITORED: ("195", "885"),
        },
        "average_wage": "8776.00",
        "rate": "0.0900",
        "window_end": ("next", 2, 28),  # 青岛 extends the window into February
        "late_fee": False,
    },
    "350100": {
        "amounts": {
            Category.ORDINARY: ("380", "670"),
            Category.STUDENT: ("330", "670"),
            Category.TEKUN: ("0", "1050"),
            Category.DIBAO: ("0", "1050"),
            Category.DIBAO_EDGE_ELDERLY: ("40", "1010"),
            Category.POVERTY_RETURN: ("80", "970"),
            Category.MONITORED: ("190", "860"),
        },
        "average_wage": "8236.00",
        "rate": "0.0750",
        "window_end": ("prev", 12, 31),
        "late_fee": True,
    },
}

REDUCED = {
    Category.TEKUN,
    Category.DIBAO,
    Category.DIBAO_EDGE_ELDERLY,
    Category.POVERTY_RETURN,
    Category.MONITORED,
}
# Categories with no waiting period (特殊人群).
EXEMPT = {Category.TEKUN, Category.DIBAO, Category.POVERTY_RETURN, Category.MONITORED}
# Each year after 2025 the personal amount rises by this much (ordinary/student only).
YEARLY_RISE = D("20")


def policy_seed(region_code: str, year: int):
    """Create (or return) the policy of `region_code` for benefit year `year`."""
    from .models import Policy, PolicyCategory

    existing = Policy.objects.filter(region_id=region_code, year=year).first()
    if existing is not None:
        return existing
    figures = REGION_FIGURES[region_code]
    when, month, day = figures["window_end"]
    window_end = dt.date(year - 1 if when == "prev" else year, month, day)
    steps = max(year - 2025, 0)
    policy = Policy.objects.create(
        region_id=region_code,
        year=year,
        window_start=dt.date(year - 1, 9, 1),
        window_end=window_end,
        benefit_start=dt.date(year, 1, 1),
        benefit_end=dt.date(year, 12, 31),
        average_wage=(D(figures["average_wage"]) * (D("1.04") ** steps)).quantize(
            D("0.01")
        ),
        flexible_rate=D(figures["rate"]),
        late_fee_enabled=figures["late_fee"],
    )
    for category, (personal, subsidy) in figures["amounts"].items():
        personal = D(personal)
        if category in (Category.ORDINARY, Category.STUDENT):
            personal += YEARLY_RISE * steps
        PolicyCategory.objects.create(
            policy=policy,
            category=category,
            personal_amount=personal,
            subsidy=D(subsidy) + D("30") * steps,
            needs_verification=category in REDUCED,
            exempt_from_waiting=category in EXEMPT,
        )
    return policy


def regions_seed():
    from core.models import Region

    for code, name, province, name_en, province_en in REGIONS:
        Region.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "province": province,
                "name_en": name_en,
                "province_en": province_en,
            },
        )
