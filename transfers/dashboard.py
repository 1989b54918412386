"""The staff dashboard's panels of transfers (registered in the AppConfig)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.dashboard import Panel, panel_register, region_q

from .models import Transfer


def transfers_on_time(
    *, region_code: str | None, start: dt.date, end: dt.date
) -> Panel:
    """Per leg: steps finished in the period, how many within their deadline
    (outgoing ≤ 10 working days, incoming ≤ 5), and the percentage. Each
    deadline was computed on the working-day calendar when the step began, so
    the comparison is a plain date comparison in the database (one query per leg)."""
    panel = Panel(
        "transfers",
        str(_("转移接续按时办结率（按环节）")),
        [
            str(_("环节")),
            str(_("时限（工作日）")),
            str(_("办结件数")),
            str(_("按时件数")),
            str(_("按时率")),
            str(_("超期未办件数")),
        ],
    )
    today = timezone.localdate()
    legs = [
        (
            str(_("转出地受理并出具信息表")),
            10,
            "outgoing_region",
            "sheet_issued_at",
            "outgoing_deadline",
            ["submitted", "outgoing_review"],
        ),
        (
            str(_("转入地审核并办结")),
            5,
            "incoming_region",
            "completed_at",
            "incoming_deadline",
            ["sheet_issued", "incoming_review"],
        ),
    ]
    for title, days, region_path, done_at, deadline, open_statuses in legs:
        done_in_period = Q(
            **{f"{done_at}__date__gte": start, f"{done_at}__date__lte": end}
        )
        figures = Transfer.objects.filter(region_q(region_path, region_code)).aggregate(
            done=Count("id", filter=done_in_period),
            on_time=Count(
                "id",
                filter=done_in_period & Q(**{f"{done_at}__date__lte": F(deadline)}),
            ),
            overdue_open=Count(
                "id", filter=Q(status__in=open_statuses, **{f"{deadline}__lt": today})
            ),
        )
        percent = (
            f"{figures['on_time'] * 100 / figures['done']:.1f}%"
            if figures["done"]
            else "—"
        )
        panel.rows.append(
            [
                title,
                days,
                figures["done"],
                figures["on_time"],
                percent,
                figures["overdue_open"],
            ]
        )
    return panel


def register() -> None:
    panel_register(
        key="transfers",
        order=30,
        build=lambda *, region_code, start, end, year, limit=None: transfers_on_time(
            region_code=region_code, start=start, end=end
        ),
    )
