"""Reads of the enrollment app, scoped to the acting user, each in a fixed
number of queries whatever the size of the family."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q, Sum
from django.http import Http404
from django.utils import timezone

from core.models import Region
from people.access import person_ids_for_user, persons_for_user
from people.models import Person, Scope

from . import rules
from .models import (
    ContributionMonths,
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    MonthsKind,
    Policy,
    PolicyCategory,
)


@dataclass
class PersonCoverage:
    """One person's lines on the coverage page (参保信息)."""

    person: Person
    relation: str  # "" for the user themself, else the relation's label
    enrollments: list = field(default_factory=list)
    months_actual: int = 0
    months_deemed: int = 0

    @property
    def is_self(self) -> bool:
        return self.relation == ""

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


def coverage_for_user(user) -> list[PersonCoverage]:
    """Everything the coverage page shows for the user and each family member,
    in five queries for any family size: persons, links, enrollments with their
    regions, the policies of those enrollments, and the contribution-month sums."""
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
        rows[enrollment.person_id].enrollments.append(enrollment)
    sums = (
        ContributionMonths.objects.filter(person_id__in=ids)
        .values("person_id")
        .annotate(
            actual=Sum("months", filter=Q(kind=MonthsKind.ACTUAL)),
            deemed=Sum("months", filter=Q(kind=MonthsKind.DEEMED)),
        )
    )
    for row in sums:
        rows[row["person_id"]].months_actual = row["actual"] or 0
        rows[row["person_id"]].months_deemed = row["deemed"] or 0
    return list(rows.values())


def enrollment_get_for_user(*, user, pk, scope: str = Scope.VIEW) -> Enrollment:
    """An enrollment of a person the user may act for; 404 for anyone else's."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    enrollment = (
        Enrollment.objects.select_related("person", "region").filter(
            pk=pk, person_id__in=person_ids_for_user(user, scope=scope)
        )
    ).first()
    if enrollment is None:
        raise Http404
    return enrollment


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


def enrollment_has_arrears(*, person_id: int, region_code: str) -> bool:
    """Whether the person has a registration at the region that is still
    unpaid (欠费), which blocks a transfer out of it."""
    return Enrollment.objects.filter(
        person_id=person_id,
        region_id=region_code,
        status=EnrollmentStatus.REGISTERED,
    ).exists()


def enrollment_latest(
    *,
    person_id: int,
    region_code: str,
    schemes: Iterable[str],
    after_year: int | None = None,
) -> Enrollment | None:
    """The person's newest enrollment at the region in one of `schemes`,
    cancelled ones left out; with `after_year`, only later benefit years."""
    rows = Enrollment.objects.filter(
        person_id=person_id, region_id=region_code, scheme__in=schemes
    ).exclude(status=EnrollmentStatus.CANCELLED)
    if after_year is not None:
        rows = rows.filter(year__gt=after_year)
    return rows.order_by("-year", "-id").first()


def enrollment_history(*, person_id: int, region_code: str) -> list[Enrollment]:
    """Every enrollment of the person at the region, oldest year first (the
    contribution history of a transfer's information sheet)."""
    return list(
        Enrollment.objects.filter(person_id=person_id, region_id=region_code).order_by(
            "year", "id"
        )
    )


def enrollment_suspended_on(*, enrollment_id: int) -> dt.date | None:
    """The local date of the enrollment's latest suspension (暂停参保), if any."""
    event = (
        EnrollmentEvent.objects.filter(
            enrollment_id=enrollment_id, to_status=EnrollmentStatus.SUSPENDED
        )
        .order_by("-at")
        .first()
    )
    return timezone.localdate(event.at) if event else None


def months_totals(*, person_id: int, region_code: str) -> dict[str, int]:
    """The person's contribution months at the region by kind (actual, deemed),
    each 0 when none were recorded."""
    rows = (
        ContributionMonths.objects.filter(person_id=person_id, region_id=region_code)
        .values("kind")
        .annotate(total=Sum("months"))
    )
    totals = {MonthsKind.ACTUAL: 0, MonthsKind.DEEMED: 0}
    for row in rows:
        totals[row["kind"]] = row["total"] or 0
    return totals
