"""Reads of the enrollment app, scoped to the acting user, each in a fixed
number of queries whatever the size of the family."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Max, Q, Sum
from django.http import Http404
from django.utils import timezone

from core.models import Region
from people.access import person_ids_for_user, persons_for_user
from people.models import Person, Scope

from . import rules
from .models import (
    ENROLLMENT_MACHINE,
    ContributionMonths,
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    FlexibleMonth,
    MonthsKind,
    Policy,
    PolicyCategory,
    Scheme,
)

# Statuses from which 暂停参保 may be taken.
ENROLLMENT_SUSPENDABLE = tuple(sorted(ENROLLMENT_MACHINE.sources(action="suspend")))


@dataclass
class PersonCoverage:
    """One person's lines on the coverage page (参保信息)."""

    person: Person
    relation: str  # "" for the user themself, else the relation's label
    enrollments: list = field(default_factory=list)
    # Actual months contributed up to today, by scheme ("" = moved by a
    # transfer, scheme not recorded), and deemed months.
    months_by_scheme: dict = field(default_factory=dict)
    months_deemed: int = 0
    strips: list = field(default_factory=list)  # rules.YearStrip, newest first
    may_suspend: bool = False
    may_enroll: bool = False

    @property
    def is_self(self) -> bool:
        return self.relation == ""

    @property
    def months_actual(self) -> int:
        return sum(self.months_by_scheme.values())

    @property
    def months_resident(self) -> int:
        return self.months_by_scheme.get(Scheme.RESIDENT, 0)

    @property
    def months_employee(self) -> int:
        return self.months_by_scheme.get(
            Scheme.FLEXIBLE, 0
        ) + self.months_by_scheme.get(Scheme.EMPLOYEE, 0)

    @property
    def months_transferred(self) -> int:
        """Months moved in by a transfer (the ledger keeps no scheme for them)."""
        return max(self.months_by_scheme.get("", 0), 0)

    @property
    def months_in_transit(self) -> int:
        """Months moved out by a transfer and not yet credited at the other end."""
        return max(-self.months_by_scheme.get("", 0), 0)

    @property
    def months_mixed(self) -> bool:
        """Residents' and employees' months both present: shown apart."""
        return bool(self.months_resident and self.months_employee)

    @property
    def upcoming_strips(self) -> list:
        year = timezone.localdate().year
        return [strip for strip in self.strips if strip.year >= year]

    @property
    def past_strips(self) -> list:
        year = timezone.localdate().year
        return [strip for strip in self.strips if strip.year < year]

    @property
    def upcoming(self) -> list:
        """Enrollments of this benefit year and later (shown in full)."""
        year = timezone.localdate().year
        return [
            enrollment for enrollment in self.enrollments if enrollment.year >= year
        ]

    @property
    def past(self) -> list:
        """Enrollments of benefit years already over (shown folded)."""
        year = timezone.localdate().year
        return [enrollment for enrollment in self.enrollments if enrollment.year < year]

    @property
    def current(self):
        """The enrollment that matters now: the newest live one, else the newest."""
        for enrollment in self.enrollments:
            if enrollment.is_live:
                return enrollment
        return self.enrollments[0] if self.enrollments else None


def family_for_user(user, *, scope: str = Scope.VIEW) -> list[tuple[Person, str]]:
    """The user's person and each person the user may do `scope` for, with
    the relation's label (people.access answers who; 2 queries)."""
    return persons_for_user(user, scope=scope)


def coverage_for_user(user, *, today: dt.date | None = None) -> list[PersonCoverage]:
    """Everything the coverage page shows for the user and each family member,
    in the same queries for any family size: persons, links, enrollments with
    their regions, the policies of those enrollments, the flexible workers'
    paid months, the contribution-month ledger, and the user's authority to
    suspend and enroll (one query, remembered for the request)."""
    today = today or timezone.localdate()
    family = family_for_user(user)
    if not family:
        return []
    rows = {
        person.pk: PersonCoverage(person=person, relation=relation)
        for person, relation in family
    }
    ids = list(rows)
    enrollments = list(
        Enrollment.objects.filter(person_id__in=ids)
        .select_related("region")
        .order_by("-year", "-id")
    )
    policies = {}
    if enrollments:
        keys = Q()
        for region_id, year in {(e.region_id, e.year) for e in enrollments}:
            keys |= Q(region_id=region_id, year=year)
        policies = {(p.region_id, p.year): p for p in Policy.objects.filter(keys)}
    for enrollment in enrollments:
        enrollment.policy = policies.get((enrollment.region_id, enrollment.year))
        enrollment.person = rows[enrollment.person_id].person
        # A registered residents' year that a payment today would not cover
        # is not offered for payment (SPEC §4).
        enrollment.cover_if_paid = None
        if (
            enrollment.status == EnrollmentStatus.REGISTERED
            and enrollment.scheme != Scheme.FLEXIBLE
            and enrollment.policy is not None
        ):
            enrollment.cover_if_paid = _cover_if_paid(
                enrollment, enrollment.policy, today
            )
        enrollment.offer_pay = (
            enrollment.scheme == Scheme.FLEXIBLE
            and enrollment.status
            in (EnrollmentStatus.REGISTERED, EnrollmentStatus.ACTIVE)
        ) or enrollment.cover_if_paid is not None
        rows[enrollment.person_id].enrollments.append(enrollment)
    months: dict[int, list] = {}
    if any(e.scheme == Scheme.FLEXIBLE for e in enrollments):
        for month in FlexibleMonth.objects.filter(enrollment__person_id__in=ids).only(
            "id", "enrollment_id", "month", "paid_on"
        ):
            months.setdefault(month.enrollment_id, []).append(month)
    for row in rows.values():
        states = cover_months(row.enrollments, months=months, today=today)
        years = {e.year for e in row.enrollments if not e.is_cancelled}
        years |= {
            index // 12
            for index, state in states.items()
            if state in (rules.CoverState.COVERED, rules.CoverState.WAITING)
        }
        row.strips = rules.cover_strips(states, years)
    ledger = ContributionMonths.objects.filter(person_id__in=ids).values_list(
        "person_id", "kind", "scheme", "months", "first_month"
    )
    for person_id, kind, scheme, count, first_month in ledger:
        counted = rules.months_contributed(
            months=count, first_month=first_month, today=today
        )
        row = rows[person_id]
        if kind == MonthsKind.DEEMED:
            row.months_deemed += counted
        else:
            row.months_by_scheme[scheme] = row.months_by_scheme.get(scheme, 0) + counted
    may_suspend = set(person_ids_for_user(user, scope=Scope.SUSPEND))
    may_enroll = set(person_ids_for_user(user, scope=Scope.ENROLL))
    for row in rows.values():
        row.may_suspend = row.person.pk in may_suspend
        row.may_enroll = row.person.pk in may_enroll
    return list(rows.values())


def _flexible_paid(enrollment: Enrollment, months: dict[int, list]) -> dict:
    """month index → month it was paid in, from the enrollment's month rows;
    for months recorded before those rows existed, the months before each
    covered month from coverage_start to coverage_end, taken as paid in time."""
    rows = months.get(enrollment.pk)
    if rows:
        return {
            rules.month_index(row.month): rules.month_index(row.paid_on) for row in rows
        }
    if enrollment.coverage_end is None or enrollment.status in (
        EnrollmentStatus.REGISTERED,
        EnrollmentStatus.CANCELLED,
    ):
        return {}
    start = enrollment.coverage_start or dt.date(enrollment.year, 2, 1)
    return {
        index - 1: None
        for index in range(
            rules.month_index(start), rules.month_index(enrollment.coverage_end) + 1
        )
    }


def cover_months(
    enrollments: list[Enrollment], *, months: dict[int, list], today: dt.date
) -> dict[int, str]:
    """One person's cover, month by month (month index → rules.CoverState),
    from all their enrollments (each with `.policy` set) and the flexible
    workers' paid months (`months`: enrollment id → FlexibleMonth rows).

    Flexible months are judged together across enrollments, so a gap is seen
    across a year end or a move; a residents' year by its own dates. A
    cancelled registration speaks of no month."""
    current = rules.month_index(today)
    flexible = [
        e
        for e in enrollments
        if e.scheme == Scheme.FLEXIBLE and not e.is_cancelled and e.policy
    ]
    paid_by = {e.pk: _flexible_paid(e, months) for e in flexible}
    paid_all: dict[int, int | None] = {}
    for paid in paid_by.values():
        paid_all.update(paid)
    maps = []
    newest = max(flexible, key=lambda e: (e.year, e.pk)) if flexible else None
    for enrollment in flexible:
        own = paid_by[enrollment.pk]
        start = enrollment.year * 12 + 1  # January paid covers February
        maps.append(
            rules.flexible_cover(
                paid=paid_all,
                months=range(start, start + 12),
                current=current,
                backpay_max=newest.policy.backpay_max_months,
                gap_wait=newest.policy.flexible_waiting_months,
                first_own=min(own) if own and months.get(enrollment.pk) else None,
                registration_wait=enrollment.waiting_months,
                stopped=_stopped_state(enrollment),
            )
        )
    for enrollment in enrollments:
        if enrollment.scheme == Scheme.FLEXIBLE or enrollment.is_cancelled:
            continue
        policy = enrollment.policy
        if policy is None:
            continue
        if enrollment.status == EnrollmentStatus.REGISTERED:
            maps.append(
                rules.resident_cover_unpaid(
                    benefit_start=policy.benefit_start,
                    benefit_end=policy.benefit_end,
                    unpaid_from=unpaid_from(enrollment, policy, today=today),
                )
            )
            continue
        maps.append(
            rules.resident_cover(
                benefit_start=policy.benefit_start,
                benefit_end=policy.benefit_end,
                coverage_start=enrollment.coverage_start
                or (policy.benefit_start if not enrollment.waiting_months else None),
                coverage_end=enrollment.coverage_end or policy.benefit_end,
                wait_from=_wait_from(enrollment, policy),
            )
        )
    return rules.cover_merge(*maps)


def _stopped_state(enrollment: Enrollment) -> str | None:
    if enrollment.status == EnrollmentStatus.SUSPENDED:
        return rules.CoverState.SUSPENDED
    if enrollment.status == EnrollmentStatus.TERMINATED:
        return rules.CoverState.NONE
    return None


def _wait_from(enrollment: Enrollment, policy: Policy) -> dt.date | None:
    """Where a residents' waiting period began: the later of payment and the
    benefit-year start (SPEC §4); for a row paid before the payment day was
    kept, the waiting months before the coverage start."""
    if not enrollment.waiting_months or enrollment.coverage_start is None:
        return None
    if enrollment.paid_on is not None:
        return max(enrollment.paid_on, policy.benefit_start)
    return max(
        rules.add_months(enrollment.coverage_start, -enrollment.waiting_months),
        policy.benefit_start,
    )


def _cover_if_paid(enrollment: Enrollment, policy: Policy, today: dt.date):
    """As enrollment_activate would decide it for a payment today."""
    birth = None
    waiting = enrollment.waiting_months
    if enrollment.is_newborn and waiting == 0:
        if (today - enrollment.person.birth_date).days <= policy.newborn_days:
            birth = enrollment.person.birth_date
        elif today > policy.window_end:
            # Paid after the newborn's days and outside the window: a late
            # enrollment with the fixed wait.
            waiting = policy.waiting_fixed_months
    return rules.resident_cover_if_paid(
        paid_on=today,
        benefit_start=policy.benefit_start,
        benefit_end=policy.benefit_end,
        waiting_months=waiting,
        birth_date=birth,
    )


def unpaid_from(enrollment: Enrollment, policy: Policy, *, today: dt.date):
    """For a registered, unpaid residents' enrollment: the first day a
    payment today could still cover (the birth date for a newborn within
    their days), or None when paying now would buy no cover at all."""
    cover_from = _cover_if_paid(enrollment, policy, today)
    if cover_from is None:
        return None
    return min(cover_from, max(today.replace(day=1), policy.benefit_start))


def enrollment_cover_if_paid(
    *,
    enrollment: Enrollment,
    today: dt.date | None = None,
    policy: Policy | None = None,
) -> dt.date | None:
    """The day a residents' enrollment's cover would start if paid today, or
    None when the payment would buy no cover (SPEC §4: the portal never takes
    such a premium; for payments' quote to refuse it)."""
    today = today or timezone.localdate()
    if policy is None:
        policy = Policy.objects.get(
            region_id=enrollment.region_id, year=enrollment.year
        )
    return _cover_if_paid(enrollment, policy, today)


def payment_due(
    *, enrollment: Enrollment, policy: Policy, today: dt.date | None = None
) -> dt.date | None:
    """The pay-by date the pages may name for a registered residents'
    enrollment: only a date still to come (None: pay now)."""
    today = today or timezone.localdate()
    newborn_until = None
    if enrollment.is_newborn:
        newborn_until = enrollment.person.birth_date + dt.timedelta(
            days=policy.newborn_days
        )
    return rules.resident_payment_due(
        today=today, window_end=policy.window_end, newborn_until=newborn_until
    )


# Ids the database can hold: anything else is nobody's (and never a 500).
ID_MAX = 2**63 - 1


def _id_or_404(value) -> int:
    try:
        pk = int(value)
    except (TypeError, ValueError, OverflowError):
        raise Http404 from None
    if not 0 < pk <= ID_MAX:
        raise Http404
    return pk


def person_id_or_404(value) -> int:
    """A person id from a query string, or 404 (before people.access is asked,
    which cannot hold numbers beyond the database's range)."""
    return _id_or_404(value)


def enrollment_get_for_user(*, user, pk, scope: str = Scope.VIEW) -> Enrollment:
    """An enrollment of a person the user may act for; 404 for anyone else's."""
    pk = _id_or_404(pk)
    enrollment = (
        Enrollment.objects.select_related("person", "region").filter(
            pk=pk, person_id__in=person_ids_for_user(user, scope=scope)
        )
    ).first()
    if enrollment is None:
        raise Http404
    return enrollment


def suspendable_for_user(
    *, user, person: Person | None = None
) -> list[tuple[Person, str, list[Enrollment]]]:
    """The persons the user may suspend for (only `person` when given, which
    the caller has already checked), each with their enrollments that can be
    suspended now, newest first."""
    if person is not None:
        family = [(person, "")]
        if person.pk != user.person_id:
            labels = {
                p.pk: relation
                for p, relation in persons_for_user(user, scope=Scope.SUSPEND)
            }
            family = [(person, labels.get(person.pk, ""))]
    else:
        family = persons_for_user(user, scope=Scope.SUSPEND)
    ids = [p.pk for p, _relation in family]
    rows: dict[int, list] = {pk: [] for pk in ids}
    for enrollment in (
        Enrollment.objects.filter(person_id__in=ids, status__in=ENROLLMENT_SUSPENDABLE)
        .select_related("region")
        .order_by("-year", "-id")
    ):
        rows[enrollment.person_id].append(enrollment)
    return [(p, relation, rows[p.pk]) for p, relation in family]


def newborn_years(today: dt.date | None = None) -> list[int]:
    """The years a newborn may be registered for today: the open years and,
    while a baby born last year is still within its days, last year (SPEC §4:
    the birth year, even after its window has closed). Newest first."""
    today = today or timezone.localdate()
    years = set(open_years(today))
    last_year = today.year - 1
    days = (
        Policy.objects.filter(year=last_year)
        .order_by("-newborn_days")
        .values_list("newborn_days", flat=True)
        .first()
    )
    if days is not None and dt.date(last_year, 12, 31) + dt.timedelta(days=days) >= (
        today
    ):
        years.add(last_year)
    return sorted(years, reverse=True)


def open_years(today: dt.date | None = None) -> list[int]:
    """Benefit years a resident may register for today: a year whose window is
    open anywhere, and the current year (late enrollment). Newest first."""
    today = today or timezone.localdate()
    years = set(
        Policy.objects.filter(
            window_start__lte=today, window_end__gte=today
        ).values_list("year", flat=True)
    )
    if Policy.objects.filter(year=today.year).exists():
        years.add(today.year)
    return sorted(years, reverse=True)


def regions_with_policy(year: int | None = None):
    qs = Region.objects.filter(policies__isnull=False)
    if year is not None:
        qs = qs.filter(policies__year=year)
    return qs.distinct().order_by("code")


def resident_premium(enrollment: Enrollment) -> rules.ResidentPremium:
    """The price of a residents' enrollment as the confirmation page shows it
    and the payment quote charges it (payments.pricing calls this too)."""
    rows = {
        row.category: row
        for row in PolicyCategory.objects.filter(
            policy__region_id=enrollment.region_id, policy__year=enrollment.year
        )
    }
    return rules.resident_premium(
        category=enrollment.category, verification=enrollment.verification, rows=rows
    )


# --- Reads for other apps (transfers) ----------------------------------------------


def enrollment_for_year(
    *, person_id: int, region_code: str, year: int
) -> Enrollment | None:
    """The person's enrollment at the region for benefit year `year`, newest
    first if there are several (a cancelled one and its replacement), or None."""
    return Enrollment.objects.filter(
        person_id=person_id, region_id=region_code, year=year
    ).first()


def enrollments_at(
    *, pairs: Iterable[tuple[int, str]]
) -> dict[tuple[int, str], list[Enrollment]]:
    """Every enrollment of each (person id, region code) pair, oldest year
    first, in one query whatever the number of pairs (the transfer engine
    checks a whole batch at once). Read them with `arrears_among` and
    `latest_among`, the rules of enrollment_has_arrears and enrollment_latest."""
    found: dict[tuple[int, str], list[Enrollment]] = {pair: [] for pair in pairs}
    if not found:
        return found
    rows = Enrollment.objects.filter(
        person_id__in={person_id for person_id, _region in found},
        region_id__in={region for _person, region in found},
    ).order_by("year", "id")
    for row in rows:
        key = (row.person_id, row.region_id)
        if key in found:
            found[key].append(row)
    return found


def arrears_among(rows: Iterable[Enrollment]) -> bool:
    """Whether any of these enrollments is a registration still unpaid (欠费)."""
    return any(row.status == EnrollmentStatus.REGISTERED for row in rows)


def latest_among(
    rows: Iterable[Enrollment],
    *,
    schemes: Iterable[str],
    after_year: int | None = None,
) -> Enrollment | None:
    """The newest of these enrollments in one of `schemes`, cancelled ones left
    out; with `after_year`, only later benefit years."""
    schemes = set(schemes)
    candidates = [
        row
        for row in rows
        if row.scheme in schemes
        and row.status != EnrollmentStatus.CANCELLED
        and (after_year is None or row.year > after_year)
    ]
    return max(candidates, key=lambda row: (row.year, row.id), default=None)


def enrollment_has_arrears(*, person_id: int, region_code: str) -> bool:
    """Whether the person has a registration at the region that is still
    unpaid (欠费), which blocks a transfer out of it."""
    pair = (person_id, region_code)
    return arrears_among(enrollments_at(pairs=[pair])[pair])


def enrollment_latest(
    *,
    person_id: int,
    region_code: str,
    schemes: Iterable[str],
    after_year: int | None = None,
) -> Enrollment | None:
    """The person's newest enrollment at the region in one of `schemes`,
    cancelled ones left out; with `after_year`, only later benefit years."""
    pair = (person_id, region_code)
    return latest_among(
        enrollments_at(pairs=[pair])[pair], schemes=schemes, after_year=after_year
    )


def enrollment_history(*, person_id: int, region_code: str) -> list[Enrollment]:
    """Every enrollment of the person at the region, oldest year first (the
    contribution history of a transfer's information sheet)."""
    pair = (person_id, region_code)
    return enrollments_at(pairs=[pair])[pair]


def suspended_on_of(*, enrollment_ids: Iterable[int]) -> dict[int, dt.date | None]:
    """The local date of each enrollment's latest suspension (暂停参保), None
    where it has none; one query."""
    found = dict.fromkeys(enrollment_ids)
    if not found:
        return found
    rows = (
        EnrollmentEvent.objects.filter(
            enrollment_id__in=list(found), to_status=EnrollmentStatus.SUSPENDED
        )
        .values("enrollment_id")
        .annotate(last=Max("at"))
        .order_by()
    )
    for row in rows:
        found[row["enrollment_id"]] = timezone.localdate(row["last"])
    return found


def enrollment_suspended_on(*, enrollment_id: int) -> dt.date | None:
    """The local date of the enrollment's latest suspension (暂停参保), if any."""
    return suspended_on_of(enrollment_ids=[enrollment_id])[enrollment_id]


def months_totals_at(
    *, pairs: Iterable[tuple[int, str]]
) -> dict[tuple[int, str], dict[str, int]]:
    """Each (person id, region code) pair's contribution months by kind
    (actual, deemed), each 0 when none were recorded; one query."""
    found = {pair: {MonthsKind.ACTUAL: 0, MonthsKind.DEEMED: 0} for pair in pairs}
    if not found:
        return found
    rows = (
        ContributionMonths.objects.filter(
            person_id__in={person_id for person_id, _region in found},
            region_id__in={region for _person, region in found},
        )
        .values("person_id", "region_id", "kind")
        .annotate(total=Sum("months"))
        .order_by()
    )
    for row in rows:
        key = (row["person_id"], row["region_id"])
        if key in found:
            found[key][row["kind"]] = row["total"] or 0
    return found


def months_totals(*, person_id: int, region_code: str) -> dict[str, int]:
    """The person's contribution months at the region by kind (actual, deemed),
    each 0 when none were recorded."""
    pair = (person_id, region_code)
    return months_totals_at(pairs=[pair])[pair]
