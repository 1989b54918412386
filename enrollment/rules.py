"""The rules of SPEC §4–5 as pure functions: waiting periods, coverage dates,
premiums and late fees. Services, selectors and payments' pricing call them
with values read from the policy."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.db import models
from django.utils.translation import gettext, gettext_noop
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


# A waiting period's reason is kept as worded in the catalogue's source
# language (Chinese), whatever the language of the page that registered it,
# and shown in the reader's language by `waiting_reason_text`: these are the
# reasons there are, one home for their words.
REASON_NEWBORN = gettext_noop("新生儿在规定期限内参保，自出生之日起享受待遇")
REASON_EXEMPT = gettext_noop("特殊人群免待遇等待期")
REASON_CONTINUOUS = gettext_noop("在集中参保期内连续参保，无等待期")
REASON_OUTSIDE_WINDOW = gettext_noop("未在集中参保期内参保：固定等待期%(fixed)d个月")
REASON_GAP = gettext_noop(
    "断保%(gap)d年：固定等待期%(fixed)d个月，另加%(added)d个月（已修复%(repaired)d年）"
)
REASON_LONG_GAP = gettext_noop("；断保4年及以上，等待期不少于%(min)d个月")
REASON_NEWBORN_LATE = gettext_noop(
    "新生儿出生%(days)d天后才缴费，按迟参保处理：固定等待期%(fixed)d个月"
)
REASON_FLEXIBLE_GAP = gettext_noop(
    "上次灵活就业参保于%(end)s结束，断缴超过%(limit)d个月：等待期%(months)d个月"
)
REASON_FLEXIBLE_NONE = gettext_noop("无断缴超过%(limit)d个月的情况，无等待期")
_REASONS = (
    REASON_NEWBORN,
    REASON_EXEMPT,
    REASON_CONTINUOUS,
    REASON_OUTSIDE_WINDOW,
    REASON_GAP,
    REASON_LONG_GAP,
    REASON_NEWBORN_LATE,
    REASON_FLEXIBLE_GAP,
    REASON_FLEXIBLE_NONE,
)
_PLACEHOLDER = re.compile(r"%\((\w+)\)([ds])")


def _reason_pattern(msgid: str) -> re.Pattern:
    parts, pos = [], 0
    for found in _PLACEHOLDER.finditer(msgid):
        parts.append(re.escape(msgid[pos : found.start()]))
        kind = r"\d+" if found[2] == "d" else r"[^，；：]+?"
        parts.append(f"(?P<{found[1]}>{kind})")
        pos = found.end()
    parts.append(re.escape(msgid[pos:]))
    return re.compile("".join(parts))


_REASON_PATTERNS = [(msgid, _reason_pattern(msgid)) for msgid in _REASONS]


def _reason_translated(stored: str) -> str | None:
    for msgid, pattern in _REASON_PATTERNS:
        found = pattern.fullmatch(stored)
        if found:
            params = {
                key: int(value) if value.isdigit() else value
                for key, value in found.groupdict().items()
            }
            return gettext(msgid) % params if params else gettext(msgid)
    return None


def waiting_reason_text(stored: str) -> str:
    """A stored waiting-period reason in the page's language (a reason the
    catalogue does not know, such as one kept before reasons were stored in
    the source language, is shown as stored)."""
    if not stored:
        return ""
    whole = _reason_translated(stored)
    if whole is not None:
        return whole
    head, mark, tail = stored.partition("；")
    if mark:
        first, then = _reason_translated(head), _reason_translated(mark + tail)
        if first is not None and then is not None:
            return first + then
    return stored


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
        return Waiting(0, REASON_NEWBORN)
    if exempt:
        return Waiting(0, REASON_EXEMPT)
    if gap_years == 0 and in_window:
        return Waiting(0, REASON_CONTINUOUS)
    repaired = min(max(repaired_years, 0), gap_years)
    months = fixed_months + per_gap_year * (gap_years - repaired)
    if gap_years >= long_gap_years:
        months = max(months, long_gap_min_months)
    if gap_years == 0:
        reason = REASON_OUTSIDE_WINDOW % {"fixed": fixed_months}
    else:
        reason = REASON_GAP % {
            "gap": gap_years,
            "fixed": fixed_months,
            "added": months - fixed_months,
            "repaired": repaired,
        }
        if gap_years >= long_gap_years:
            reason += REASON_LONG_GAP % {"min": long_gap_min_months}
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


# --- Cover as months (SPEC §4–5) ---------------------------------------------------
# A month is an int, year × 12 + month − 1, so that month arithmetic is + and −.


def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def period_index(period: str) -> int:
    """`"2026-03"` → its month index."""
    year, month = (int(part) for part in period.split("-"))
    return year * 12 + month - 1


def month_first(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def month_last(index: int) -> dt.date:
    return month_first(index + 1) - dt.timedelta(days=1)


class CoverState(models.TextChoices):
    """What a person has in one calendar month. Shown as text, never only as
    a colour."""

    COVERED = "covered", _("享受待遇")
    WAITING = "waiting", _("等待期")
    UNPAID = "unpaid", _("未缴费")
    GAP = "gap", _("断缴")
    SUSPENDED = "suspended", _("暂停参保")
    NONE = "none", _("未参保")


# When two enrollments speak of one month (a flexible worker's December pays
# for January, which a residents' enrollment of the next year also names),
# the state that gives the person the most wins.
COVER_PRIORITY = {state: rank for rank, state in enumerate(CoverState.values)}


def flexible_cover(
    *,
    paid: Mapping[int, int | None],
    months: Iterable[int],
    current: int,
    backpay_max: int,
    gap_wait: int,
    first_own: int | None = None,
    registration_wait: int = 0,
    stopped: str | None = None,
) -> dict[int, str]:
    """The state of each cover month in `months` for a flexible worker (SPEC §5).

    `paid` maps each paid contribution month to the month it was paid in
    (None: unknown, taken as in time). 月缴月享: month M paid covers M+1.
    - A gap of at most `backpay_max` months is restored once back-paid; a
      month paid later than that after it (a gap longer than allowed) is
      counted as contributed but restores no cover.
    - After a gap of more than `backpay_max` months, the first `gap_wait`
      months the new payments would cover are a waiting period, and the gap
      is not covered.
    - `registration_wait` months wait from the enrollment's first paid month
      `first_own` (a wait decided at registration).
    - A month not paid: before any payment it is "none" (or "unpaid" while
      it can still be paid); afterwards a gap, or still payable when its
      contribution month has not ended; after the last paid month of a
      suspended or terminated enrollment, `stopped`.
    """
    effective = sorted(
        month
        for month, paid_in in paid.items()
        if paid_in is None or paid_in - month <= backpay_max
    )
    waiting: set[int] = set()
    if first_own is not None and registration_wait > 0:
        waiting.update(range(first_own + 1, first_own + 1 + registration_wait))
    for before, after in zip(effective, effective[1:], strict=False):
        if after - before - 1 > backpay_max:
            waiting.update(range(after + 1, after + 1 + gap_wait))
    paid_set = set(effective)
    first = effective[0] if effective else None
    last = effective[-1] if effective else None
    states = {}
    for month in months:
        source = month - 1
        if source in paid_set:
            state = CoverState.WAITING if month in waiting else CoverState.COVERED
        elif first is None or source < first:
            if source < current:
                state = CoverState.NONE
            else:
                state = stopped or CoverState.UNPAID
        elif stopped and source > last:
            state = stopped
        elif source >= current:
            state = CoverState.UNPAID
        else:
            state = CoverState.GAP
        states[month] = str(state)
    return states


def resident_cover(
    *,
    benefit_start: dt.date,
    benefit_end: dt.date,
    coverage_start: dt.date | None,
    coverage_end: dt.date | None,
    wait_from: dt.date | None,
) -> dict[int, str]:
    """The state of each month of a paid residents' benefit year: covered
    where the month meets the cover (the birth month of a newborn covered from
    the birth date counts), waiting from the month the wait starts, else none."""
    states = {}
    for month in range(month_index(benefit_start), month_index(benefit_end) + 1):
        first, last = month_first(month), month_last(month)
        if (
            coverage_start is not None
            and coverage_start <= last
            and (coverage_end is None or first <= coverage_end)
        ):
            state = CoverState.COVERED
        elif (
            wait_from is not None
            and coverage_start is not None
            and month_index(wait_from) <= month < month_index(coverage_start)
        ):
            state = CoverState.WAITING
        else:
            state = CoverState.NONE
        states[month] = str(state)
    return states


def resident_cover_unpaid(
    *, benefit_start: dt.date, benefit_end: dt.date, unpaid_from: dt.date | None
) -> dict[int, str]:
    """The months of a registered, unpaid residents' year: "unpaid" from the
    month a payment could still cover, none before it (or everywhere when
    paying now would buy no cover)."""
    start = None if unpaid_from is None else month_index(unpaid_from)
    return {
        month: str(
            CoverState.UNPAID
            if start is not None and month >= start
            else CoverState.NONE
        )
        for month in range(month_index(benefit_start), month_index(benefit_end) + 1)
    }


def cover_merge(*maps: Mapping[int, str]) -> dict[int, str]:
    merged: dict[int, str] = {}
    for states in maps:
        for month, state in states.items():
            known = merged.get(month)
            if known is None or COVER_PRIORITY[state] < COVER_PRIORITY[known]:
                merged[month] = state
    return merged


@dataclass(frozen=True)
class MonthCell:
    year: int
    month: int
    state: str

    @property
    def label(self) -> str:
        return str(CoverState(self.state).label)


@dataclass(frozen=True)
class YearStrip:
    """One year of a person's cover, month by month (the coverage page's strip)."""

    year: int
    cells: tuple[MonthCell, ...]

    @property
    def covered(self) -> int:
        return sum(cell.state == CoverState.COVERED for cell in self.cells)


def cover_strips(states: Mapping[int, str], years: Iterable[int]) -> list[YearStrip]:
    """Twelve cells per year, newest year first; a month nothing speaks of is none."""
    return [
        YearStrip(
            year,
            tuple(
                MonthCell(
                    year, month, states.get(year * 12 + month - 1, CoverState.NONE)
                )
                for month in range(1, 13)
            ),
        )
        for year in sorted(set(years), reverse=True)
    ]


# --- Honest registration (SPEC §4) ------------------------------------------------


def resident_cover_if_paid(
    *,
    paid_on: dt.date,
    benefit_start: dt.date,
    benefit_end: dt.date,
    waiting_months: int,
    birth_date: dt.date | None = None,
) -> dt.date | None:
    """The day cover would start if the premium were paid on `paid_on`, or
    None when it would start after the benefit year ends (the premium would
    buy no cover, which the portal never takes)."""
    start = resident_coverage_start(
        paid_on=paid_on,
        benefit_start=benefit_start,
        waiting_months=waiting_months,
        birth_date=birth_date,
    )
    return start if start <= benefit_end else None


def resident_payment_due(
    *, today: dt.date, window_end: dt.date, newborn_until: dt.date | None = None
) -> dt.date | None:
    """The pay-by date a page may name: a newborn's last day to be covered
    from birth, else the end of the enrollment window; only a date still to
    come (None: no date applies, pay now)."""
    for due in (newborn_until, window_end):
        if due is not None and due >= today:
            return due
    return None


def flexible_first_cover(*, today: dt.date, year: int, waiting_months: int) -> dt.date:
    """When a flexible worker registering today would first be covered: the
    month after the first month paid (this month, or January of a later
    year), after any waiting period."""
    first_paid = max(month_index(today), year * 12)
    return month_first(first_paid + 1 + waiting_months)


def flexible_resume_outlook(
    *, last_paid: int | None, current: int, backpay_max: int, gap_wait: int
) -> tuple[int, int]:
    """(months missed before the current one, waiting months a resumption
    now brings): a gap of at most `backpay_max` months can be back-paid and
    is restored; a longer one brings a new waiting period of `gap_wait`."""
    if last_paid is None:
        return 0, 0
    missed = max(0, current - last_paid - 1)
    return missed, gap_wait if missed > backpay_max else 0


def months_contributed(*, months: int, first_month: dt.date | None, today: dt.date):
    """How many of a ledger row's months have been contributed by `today`:
    months paid ahead (a year paid in advance) count once they have come."""
    if first_month is None or months <= 0:
        return months
    reached = month_index(today) - month_index(first_month) + 1
    return max(0, min(months, reached))
