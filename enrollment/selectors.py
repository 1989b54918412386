"""Reads of the enrollment app, scoped to the acting user, each in a fixed
number of queries whatever the size of the family."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q, Sum
from django.http import Http404
from django.utils import timezone

from core.models import Region
from people.access import person_ids_for_user
from people.models import FamilyLink, Person

from .models import (
    Category,
    ContributionMonths,
    Enrollment,
    MonthsKind,
    Policy,
    PolicyCategory,
    Verification,
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


def family_for_user(user) -> list[tuple[Person, str]]:
    """The user's person and each family member, with the relation label (2 queries)."""
    if not user.is_authenticated or user.person_id is None:
        return []
    me = Person.objects.select_related("region").get(pk=user.person_id)
    links = (
        FamilyLink.objects.filter(owner_id=user.person_id)
        .select_related("relative", "relative__region")
        .order_by("created_at", "id")
    )
    return [(me, ""), *((link.relative, link.get_relation_display()) for link in links)]


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


def enrollment_get_for_user(*, user, pk) -> Enrollment:
    """An enrollment of a person the user may act for; 404 for anyone else's."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    enrollment = (
        Enrollment.objects.select_related("person", "region").filter(
            pk=pk, person_id__in=person_ids_for_user(user)
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


@dataclass(frozen=True)
class Premium:
    """What a residents' enrollment costs the citizen now, and why."""

    category: str
    personal_amount: object
    subsidy: object
    verification_pending: bool


def resident_premium(enrollment: Enrollment) -> Premium:
    """The personal amount of a residents' enrollment (the server prices it).
    A reduced category applies only once staff approved it; until then, and
    after a rejection, the ordinary amount is shown and `verification_pending` says why."""
    policy_categories = {
        pc.category: pc
        for pc in PolicyCategory.objects.filter(
            policy__region_id=enrollment.region_id, policy__year=enrollment.year
        )
    }
    chosen = policy_categories.get(enrollment.category)
    if (
        enrollment.verification in (Verification.NOT_NEEDED, Verification.APPROVED)
        and chosen is not None
    ):
        return Premium(
            enrollment.category, chosen.personal_amount, chosen.subsidy, False
        )
    ordinary = policy_categories[Category.ORDINARY]
    return Premium(
        Category.ORDINARY,
        ordinary.personal_amount,
        ordinary.subsidy,
        enrollment.verification == Verification.PENDING,
    )
