"""The rules of SPEC §4–5 as pure functions: waiting periods, coverage dates,
premiums and late fees. Services, selectors and payments' pricing call them
with values read from the policy."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.money import ZERO, to_money

from .models import LATE_FEE_DAILY_RATE, Category, Verification


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def first_of_next_month(day: dt.date) -> dt.date:
    return add_months(day.replace(day=1), 1)


@dataclass(frozen=True)
class Waiting:
    months: int
    reason: str


def resident_waiting(
    *,
    exempt: bool,
    newborn_in_time: bool,
    in_window: bool,
    gap_years: int,
    repaired_years: int = 0,
    fixed_months: int = 3,
    per_gap_year: int = 1,
    long_gap_years: int = 4,
    long_gap_min_months: int = 6,
) -> Waiting:
    """The waiting period (待遇等待期) of a residents' enrollment [国办发〔2024〕38号].

    No wait for newborns within their days, exempt categories, and continuous
    (or first) enrollment inside the window. Otherwise a fixed 3 months, plus
    one per year of gap; each repaired year removes one added month; with a gap
    of 4 years or more the total stays at least 6 months.
    """
    if newborn_in_time:
        return Waiting(0, str(_("新生儿在规定期限内参保，自出生之日起享受待遇")))
    if exempt:
        return Waiting(0, str(_("特殊人群免待遇等待期")))
    if gap_years == 0 and in_window:
        return Waiting(0, str(_("在集中参保期内连续参保，无等待期")))
    repaired = min(max(repaired_years, 0), gap_years)
    months = fixed_months + per_gap_year * (gap_years - repaired)
    if gap_years >= long_gap_years:
        months = max(months, long_gap_min_months)
    if gap_years == 0:
        reason = _("未在集中参保期内参保：固定等待期%(fixed)d个月") % {
            "fixed": fixed_months
        }
    else:
        reason = _(
            "断保%(gap)d年：固定等待期%(fixed)d个月，另加%(added)d个月（已修复%(repaired)d年）"
        ) % {
            "gap": gap_years,
            "fixed": fixed_months,
            "added": months - fixed_months,
            "repaired": repaired,
        }
        if gap_years >= long_gap_years:
            reason += str(
                _("；断保4年及以上，等待期不少于%(min)d个月")
                % {"min": long_gap_min_months}
            )
    return Waiting(months, str(reason))


def resident_coverage_start(
    *,
    paid_on: dt.date,
    benefit_start: dt.date,
    waiting_months: int,
    birth_date: dt.date | None = None,
) -> dt.date:
    """When benefits begin.

    A newborn within their days: the birth date (retroactively). No wait: the
    later of payment and benefit-year start. With a wait: the first day of the
    month after a wait that starts at the later of payment and benefit-year start.
    """
    if birth_date is not None:
        return max(birth_date, benefit_start)
    start = max(paid_on, benefit_start)
    if waiting_months == 0:
        return start
    wait_ends = add_months(start, waiting_months) - dt.timedelta(days=1)
    return first_of_next_month(wait_ends)


def gap_years_before(year: int, covered_years: set[int]) -> int:
    """Whole benefit years without coverage between the last covered year and `year`.
    A person never covered before has no gap (a first enrollment)."""
    earlier = [y for y in covered_years if y < year]
    if not earlier:
        return 0
    return year - max(earlier) - 1


class CategoryAmounts(Protocol):
    """A policy's row for one resident category (PolicyCategory)."""

    category: str
    personal_amount: Decimal
    subsidy: Decimal
    needs_verification: bool


@dataclass(frozen=True)
class ResidentPremium:
    """What a residents' enrollment costs the citizen for its year, and why."""

    category: str  # the category whose amounts apply
    personal_amount: Decimal
    subsidy: Decimal
    verification_pending: bool  # staff have not yet decided the category asked for
    reduced_withheld: bool  # the category asked for is not (yet) the one priced


def resident_premium(
    *, category: str, verification: str, rows: Mapping[str, CategoryAmounts]
) -> ResidentPremium:
    """The one yearly personal amount of a residents' enrollment: what the
    enrollment pages show and what the payment charges.

    A category that needs staff verification is priced only once approved;
    until then, after a rejection, or when the policy lacks the category, the
    ordinary amounts apply. `rows` maps category → the policy's row.
    """
    chosen = rows.get(category)
    if chosen is not None and (
        verification == Verification.APPROVED
        or (verification == Verification.NOT_NEEDED and not chosen.needs_verification)
    ):
        return ResidentPremium(
            category=chosen.category,
            personal_amount=to_money(chosen.personal_amount),
            subsidy=to_money(chosen.subsidy),
            verification_pending=False,
            reduced_withheld=False,
        )
    ordinary = rows.get(Category.ORDINARY)
    if ordinary is None:
        raise DomainError(
            str(_("该地区尚未公布本年度缴费标准，请稍后再试。")), code="no_policy"
        )
    return ResidentPremium(
        category=ordinary.category,
        personal_amount=to_money(ordinary.personal_amount),
        subsidy=to_money(ordinary.subsidy),
        verification_pending=verification == Verification.PENDING,
        reduced_withheld=chosen is not None and chosen.category != Category.ORDINARY,
    )


def percent(ratio: Decimal) -> str:
    """`Decimal("0.60")` → `"60"`, for messages that state a ratio as a percentage."""
    return f"{(Decimal(ratio) * 100).normalize():f}"


def flexible_monthly_premium(*, base: Decimal, rate: Decimal) -> Decimal:
    """round(base × rate, 2), ROUND_HALF_UP."""
    return to_money(Decimal(base) * Decimal(rate))


def late_fee(
    *, arrears: Decimal, overdue_days: int, daily_rate: Decimal = LATE_FEE_DAILY_RATE
) -> Decimal:
    """滞纳金: arrears × 0.05% per overdue day [社会保险法 第86条]."""
    if overdue_days <= 0:
        return ZERO
    return to_money(Decimal(arrears) * Decimal(daily_rate) * overdue_days)


def flexible_month_covers(period: str) -> tuple[dt.date, dt.date]:
    """月缴月享: contributions for month M (`"2026-03"`) cover month M+1."""
    year, month = (int(part) for part in period.split("-"))
    start = first_of_next_month(dt.date(year, month, 1))
    end = first_of_next_month(start) - dt.timedelta(days=1)
    return start, end
