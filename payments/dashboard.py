"""The staff dashboard's panels of payments (registered in the AppConfig)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.dashboard import Panel, choices, panel_register, region_q
from core.money import to_money

from .models import Payment


def premiums_by_day_and_channel(
    *, region_code: str | None, start: dt.date, end: dt.date
) -> Panel:
    """Successful premiums by settlement day and channel (one query)."""
    panel = Panel(
        "premiums",
        str(_("保费收入（按日、按渠道）")),
        [str(_("日期")), str(_("缴费渠道")), str(_("笔数")), str(_("金额（元）"))],
    )
    labels = choices(Payment, "channel")
    rows = (
        Payment.objects.filter(
            region_q("order__region", region_code),
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
    channels, statuses = choices(Payment, "channel"), choices(Payment, "status")
    rows = (
        Payment.objects.filter(
            region_q("order__region", region_code),
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


def register() -> None:
    panel_register(
        key="premiums",
        order=10,
        build=lambda *, region_code, start, end, year, limit=200: (
            premiums_by_day_and_channel(region_code=region_code, start=start, end=end)
        ),
    )
    panel_register(
        key="failed",
        order=40,
        build=lambda *, region_code, start, end, year, limit=200: failed_payments(
            region_code=region_code, start=start, end=end, limit=limit or 10_000
        ),
    )
