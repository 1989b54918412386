"""The regional dashboard's figures, each one aggregated in the database with
a fixed number of queries whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.money import to_money
from enrollment.models import Enrollment
from payments.models import Payment
from transfers.models import Transfer


def _choices(model, field_name: str) -> dict:
    return {
        str(k): str(v) for k, v in (model._meta.get_field(field_name).choices or [])
    }


@dataclass
class Panel:
    """One list of the dashboard: its title, column headings and rows (all
    plain values, ready for a table, a CSV file or a chart)."""

    key: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    available: bool = True
    note: str = ""


def _region_q(path: str, region_code: str | None) -> Q:
    return Q(**{path: region_code}) if region_code else Q()


def premiums_by_day_and_channel(
    *, region_code: str | None, start: dt.date, end: dt.date
) -> Panel:
    """Successful premiums by settlement day and channel (one query)."""
    panel = Panel(
        "premiums",
        str(_("保费收入（按日、按渠道）")),
        [str(_("日期")), str(_("缴费渠道")), str(_("笔数")), str(_("金额（元）"))],
    )
    labels = _choices(Payment, "channel")
    rows = (
        Payment.objects.filter(
            _region_q("order__region", region_code),
            status="success",
            settled_at__date__gte=start,
            settled_at__date__lte=end,
        )
        .annotate(day=TruncDate("settled_at"))
        .values("day", "channel")
        .annotate(count=Count("id"), total=Sum("amount"))
        .order_by("day", "channel")
    )
    panel.rows = [
        [
            r["day"],
            labels.get(r["channel"], r["channel"]),
            r["count"],
            to_money(r["total"]),
        ]
        for r in rows
    ]
    return panel


def enrollments_by_category(*, region_code: str | None, year: int) -> Panel:
    """Live enrollments of a benefit year by scheme, category and status (one query)."""
    panel = Panel(
        "enrollments",
        str(_("参保登记（按人员类别）")),
        [str(_("险种")), str(_("人员类别")), str(_("参保状态")), str(_("人数"))],
    )
    schemes, categories, statuses = (
        _choices(Enrollment, name) for name in ("scheme", "category", "status")
    )
    rows = (
        Enrollment.objects.filter(_region_q("region", region_code), year=year)
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
        figures = Transfer.objects.filter(
            _region_q(region_path, region_code)
        ).aggregate(
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


def failed_payments(
    *, region_code: str | None, start: dt.date, end: dt.date, limit: int = 200
) -> Panel:
    """Failed and errored payment attempts of the period, newest first (one query)."""
    panel = Panel(
        "failed",
        str(_("缴费失败记录")),
        [
            str(_("支付流水号")),
            str(_("参保人")),
            str(_("缴费期间")),
            str(_("缴费渠道")),
            str(_("金额（元）")),
            str(_("状态")),
            str(_("失败原因")),
            str(_("时间")),
        ],
    )
    channels, statuses = _choices(Payment, "channel"), _choices(Payment, "status")
    rows = (
        Payment.objects.filter(
            _region_q("order__region", region_code),
            status__in=["failed", "error"],
            created_at__date__gte=start,
            created_at__date__lte=end,
        )
        .select_related("insured")
        .order_by("-created_at", "-id")[:limit]
    )
    panel.rows = [
        [
            p.reference,
            str(p.insured),
            p.period,
            channels.get(p.channel, p.channel),
            to_money(p.amount),
            statuses.get(p.status, p.status),
            p.failure_reason,
            timezone.localtime(p.created_at).strftime("%Y-%m-%d %H:%M"),
        ]
        for p in rows
    ]
    return panel


def dashboard(
    *, region_code: str | None, start: dt.date, end: dt.date, year: int
) -> list[Panel]:
    return [
        premiums_by_day_and_channel(region_code=region_code, start=start, end=end),
        enrollments_by_category(region_code=region_code, year=year),
        transfers_on_time(region_code=region_code, start=start, end=end),
        failed_payments(region_code=region_code, start=start, end=end),
    ]


PANELS = {
    "premiums": lambda **kw: premiums_by_day_and_channel(
        region_code=kw["region_code"], start=kw["start"], end=kw["end"]
    ),
    "enrollments": lambda **kw: enrollments_by_category(
        region_code=kw["region_code"], year=kw["year"]
    ),
    "transfers": lambda **kw: transfers_on_time(
        region_code=kw["region_code"], start=kw["start"], end=kw["end"]
    ),
    "failed": lambda **kw: failed_payments(
        region_code=kw["region_code"], start=kw["start"], end=kw["end"], limit=10_000
    ),
}
