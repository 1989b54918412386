"""The staff dashboard's panels of enrollments (registered in the AppConfig)."""

from __future__ import annotations

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from core.dashboard import Panel, choices, panel_register, region_q

from .models import Enrollment


def enrollments_by_category(*, region_code: str | None, year: int) -> Panel:
    """Live enrollments of a benefit year by scheme, category and status (one query)."""
    panel = Panel(
        "enrollments",
        str(_("参保登记（按人员类别）")),
        [str(_("险种")), str(_("人员类别")), str(_("参保状态")), str(_("人数"))],
    )
    schemes, categories, statuses = (
        choices(Enrollment, name) for name in ("scheme", "category", "status")
    )
    rows = (
        Enrollment.objects.filter(region_q("region", region_code), year=year)
        .values("scheme", "category", "status")
        .annotate(count=Count("id"))
        .order_by("scheme", "category", "status")
    )
    panel.rows = [
        [
            schemes.get(r["scheme"], r["scheme"]),
            categories.get(r["category"], r["category"]) or "—",
            statuses.get(r["status"], r["status"]),
            r["count"],
        ]
        for r in rows
    ]
    return panel


def register() -> None:
    panel_register(
        key="enrollments",
        order=20,
        build=lambda *, region_code, start, end, year, limit=None: (
            enrollments_by_category(region_code=region_code, year=year)
        ),
    )
