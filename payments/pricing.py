"""Server-side pricing of orders from enrollment's policy tables (SPEC §4–5).

The client never sends an amount: it chooses what to pay for (an enrollment and,
for a flexible worker, how many months ahead) and these functions say what it costs.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from core.errors import DomainError
from core.money import ZERO, to_money
from enrollment import rules, selectors
from enrollment.models import Enrollment, EnrollmentStatus, Policy, Scheme

from .models import OrderKind

MAX_MONTHS_AHEAD = 12


@dataclass(frozen=True)
class MonthLine:
    period: str
    amount: Decimal
    late_fee: Decimal
    overdue_days: int
    backpay: bool


@dataclass(frozen=True)
class Quote:
    """What an order will cost and why (shown on the check-your-answers page)."""

    scheme: str
    kind: str
    period: str
    periods: list[str]
    category: str
    months: int
    personal_amount: Decimal
    subsidy: Decimal
    late_fee: Decimal
    total: Decimal
    note: str = ""
    lines: list[MonthLine] = field(default_factory=list)


def month_label(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def month_next(period: str) -> str:
    year, month = (int(part) for part in period.split("-"))
    return month_label(year + month // 12, month % 12 + 1)


def month_last_day(period: str) -> dt.date:
    year, month = (int(part) for part in period.split("-"))
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _resident_premium(enrollment: Enrollment) -> tuple[rules.ResidentPremium, str]:
    """The enrollment's one price (the same the enrollment pages show), and a
    note when the category asked for is not the one charged."""
    premium = selectors.resident_premium(enrollment)
    note = ""
    if premium.reduced_withheld:
        note = _(
            "人员类别尚未审核通过，暂按普通居民标准缴费；审核通过前也可等待后再缴费。"
        )
    return premium, str(note)


def quote_repair(
    *, enrollment: Enrollment, paid_periods: set[str], years: int
) -> Quote:
    """断保修复: each past gap year paid at the current personal amount removes
    one added month of the waiting period (SPEC §4). The period is the gap year."""
    gap_years = [str(enrollment.year - k) for k in range(1, enrollment.gap_years + 1)]
    open_years = sorted(y for y in gap_years if y not in paid_periods)[
        : max(enrollment.gap_years - enrollment.repaired_years, 0)
    ]
    if not open_years:
        raise DomainError(
            _("该参保登记没有可修复的断保年度。"), code="nothing_to_repair"
        )
    if not 1 <= years <= len(open_years):
        raise DomainError(
            _("可修复的年数为1至%(n)d年。") % {"n": len(open_years)},
            code="repair_years",
            field="repair",
        )
    chosen = open_years[-years:]  # the most recent gap years first
    premium, note = _resident_premium(enrollment)
    personal = to_money(premium.personal_amount * years)
    return Quote(
        scheme=Scheme.RESIDENT,
        kind=OrderKind.REPAIR,
        period=chosen[0],
        periods=chosen,
        category=premium.category,
        months=0,
        personal_amount=personal,
        subsidy=ZERO,
        late_fee=ZERO,
        total=personal,
        note=note,
    )


def quote_resident(*, enrollment: Enrollment, paid_periods: set[str]) -> Quote:
    """A resident's yearly premium for the enrollment's category; a reduced
    category's price applies only once staff have approved it."""
    period = str(enrollment.year)
    if period in paid_periods or enrollment.status == EnrollmentStatus.ACTIVE:
        raise DomainError(
            _("%(year)s年度的保费已缴纳，无需重复缴费。") % {"year": enrollment.year},
            code="already_paid",
        )
    premium, note = _resident_premium(enrollment)
    return Quote(
        scheme=Scheme.RESIDENT,
        kind=OrderKind.PREMIUM,
        period=period,
        periods=[period],
        category=premium.category,
        months=12,
        personal_amount=premium.personal_amount,
        subsidy=premium.subsidy,
        late_fee=ZERO,
        total=premium.personal_amount,
        note=note,
    )


def quote_flexible(
    *,
    enrollment: Enrollment,
    paid_periods: set[str],
    months_ahead: int,
    today: dt.date,
    policy: Policy | None = None,
) -> Quote:
    """A flexible worker's months: missed months back to `backpay_max_months`
    (补缴, with the late fee where the region charges it), then `months_ahead`
    months from the current one, all within the enrollment's year."""
    if not 1 <= months_ahead <= MAX_MONTHS_AHEAD:
        raise DomainError(_("预缴月数应为1至12个月。"), code="months", field="months")
    # `policy`: the enrollment's, when the caller loaded it with others'.
    if policy is None:
        policy = Policy.objects.get(
            region_id=enrollment.region_id, year=enrollment.year
        )
    monthly = rules.flexible_monthly_premium(
        base=enrollment.contribution_base, rate=policy.flexible_rate
    )
    first_of_year, last_of_year = (
        month_label(enrollment.year, 1),
        month_label(enrollment.year, 12),
    )
    current = month_label(today.year, today.month)
    if current < first_of_year:
        current = first_of_year
    lines: list[MonthLine] = []
    paid_periods = paid_periods | _months_covered(enrollment)
    year_paid = sorted(p for p in paid_periods if "-" in p)
    if year_paid and year_paid[-1] < current:
        # Months missed since the last paid one, if few enough to back-pay.
        missed = []
        month = month_next(year_paid[-1])
        while month < current:
            missed.append(month)
            month = month_next(month)
        if 0 < len(missed) <= policy.backpay_max_months:
            for period in missed:
                overdue = (today - month_last_day(period)).days
                fee = (
                    rules.late_fee(
                        arrears=monthly,
                        overdue_days=overdue,
                        daily_rate=policy.late_fee_daily_rate,
                    )
                    if policy.late_fee_enabled
                    else ZERO
                )
                lines.append(MonthLine(period, monthly, fee, max(overdue, 0), True))
    month = current
    while month in paid_periods:
        month = month_next(month)
    for _index in range(months_ahead):
        if month > last_of_year:
            break
        lines.append(MonthLine(month, monthly, ZERO, 0, False))
        month = month_next(month)
    if not lines:
        raise DomainError(_("本年度各月已缴清，无需再缴费。"), code="already_paid")
    personal = to_money(sum((line.amount for line in lines), ZERO))
    fee = to_money(sum((line.late_fee for line in lines), ZERO))
    backpay = any(line.backpay for line in lines)
    return Quote(
        scheme=Scheme.FLEXIBLE,
        kind=OrderKind.BACKPAY if backpay else OrderKind.PREMIUM,
        period=lines[0].period,
        periods=[line.period for line in lines],
        category="",
        months=len(lines),
        personal_amount=personal,
        subsidy=ZERO,
        late_fee=fee,
        total=personal + fee,
        lines=lines,
    )


def _months_covered(enrollment: Enrollment) -> set[str]:
    """Months paid before this app recorded them (月缴月享: coverage to month M+1
    means month M is paid), so a quote never charges them again."""
    if enrollment.coverage_end is None:
        return set()
    end = enrollment.coverage_end
    last = month_label(end.year, end.month)
    months, month = set(), month_label(enrollment.year, 1)
    while month_next(month) <= last:
        months.add(month)
        month = month_next(month)
    return months


def quote_for(
    *,
    enrollment: Enrollment,
    paid_periods: set[str],
    months_ahead: int = 1,
    today: dt.date,
    repair_years: int = 0,
    policy: Policy | None = None,
) -> Quote:
    if enrollment.status not in (EnrollmentStatus.REGISTERED, EnrollmentStatus.ACTIVE):
        raise DomainError(_("该参保登记当前状态不能缴费。"), code="enrollment_status")
    if repair_years and enrollment.scheme == Scheme.RESIDENT:
        return quote_repair(
            enrollment=enrollment, paid_periods=paid_periods, years=repair_years
        )
    if enrollment.scheme == Scheme.RESIDENT:
        return quote_resident(enrollment=enrollment, paid_periods=paid_periods)
    if enrollment.scheme == Scheme.FLEXIBLE:
        return quote_flexible(
            enrollment=enrollment,
            paid_periods=paid_periods,
            months_ahead=months_ahead,
            today=today,
            policy=policy,
        )
    raise DomainError(_("单位职工医保由单位缴费，无需个人在此缴费。"), code="scheme")
