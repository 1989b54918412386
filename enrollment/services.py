"""Every write of the enrollment app, one transactional function each.

Other apps change enrollments only through these functions (payments activate
them, transfers suspend them and move contribution months).
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from portal.errors import DomainError, check_transition

from . import rules
from .models import (
    ENROLLMENT_TRANSITIONS,
    ContributionMonths,
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    MonthsKind,
    Policy,
    Scheme,
)


def _lock(enrollment_id: int) -> Enrollment:
    return Enrollment.objects.select_for_update().select_related("person", "region").get(pk=enrollment_id)


def _transition(enrollment: Enrollment, target: str, *, actor=None, reason: str = "") -> Enrollment:
    """Move a locked enrollment to `target` if the table allows it, with its event row."""
    check_transition(ENROLLMENT_TRANSITIONS, enrollment.status, target, what="enrollment")
    EnrollmentEvent.objects.create(
        enrollment=enrollment, from_status=enrollment.status, to_status=target, actor=actor, reason=reason[:200]
    )
    enrollment.status = target
    return enrollment


@transaction.atomic
def enrollment_transition(*, enrollment_id: int, to_status: str, actor=None, reason: str = "") -> Enrollment:
    """Change an enrollment's status through the transition table; a no-op when already there."""
    enrollment = _lock(enrollment_id)
    if enrollment.status == to_status:
        return enrollment
    _transition(enrollment, to_status, actor=actor, reason=reason)
    enrollment.save(update_fields=["status", "updated_at"])
    return enrollment


def months_add(*, person_id: int, region_code: str, kind: str, months: int, reference: str) -> ContributionMonths:
    """Add contribution months once per reference (a second call returns the first row)."""
    existing = ContributionMonths.objects.filter(reference=reference).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return ContributionMonths.objects.create(
                person_id=person_id, region_id=region_code, kind=kind, months=months, reference=reference
            )
    except IntegrityError:
        return ContributionMonths.objects.get(reference=reference)


@transaction.atomic
def enrollment_activate(*, enrollment_id: int, paid_on: dt.date, reference: str, actor=None) -> Enrollment:
    """A residents' premium was paid: registered → active, with its benefit dates
    and waiting period (SPEC §4). Safe to call twice (the second call changes nothing)."""
    enrollment = _lock(enrollment_id)
    if enrollment.status == EnrollmentStatus.ACTIVE:
        return enrollment
    if enrollment.scheme != Scheme.RESIDENT:
        raise DomainError(_("灵活就业人员按月缴费，请使用按月缴费。"), code="not_resident")
    policy = Policy.objects.get(region_id=enrollment.region_id, year=enrollment.year)
    birth = enrollment.person.birth_date if enrollment.is_newborn and enrollment.waiting_months == 0 else None
    enrollment.coverage_start = rules.resident_coverage_start(
        paid_on=paid_on, benefit_start=policy.benefit_start, waiting_months=enrollment.waiting_months, birth_date=birth
    )
    enrollment.coverage_end = policy.benefit_end
    _transition(enrollment, EnrollmentStatus.ACTIVE, actor=actor, reason=_("缴费成功"))
    enrollment.save(update_fields=["status", "coverage_start", "coverage_end", "updated_at"])
    months_add(
        person_id=enrollment.person_id,
        region_code=enrollment.region_id,
        kind=MonthsKind.ACTUAL,
        months=12,
        reference=f"{reference}:months",
    )
    return enrollment


@transaction.atomic
def enrollment_flexible_month_paid(
    *, enrollment_id: int, period: str, paid_on: dt.date, reference: str, restores_gap: bool = False, actor=None
) -> Enrollment:
    """A flexible worker's month `period` ("YYYY-MM") was paid: 月缴月享, it
    covers the following month. The first paid month activates the enrollment
    (with the policy's waiting period when it follows a gap of more than 3
    months). Safe to call twice per reference."""
    enrollment = _lock(enrollment_id)
    if enrollment.scheme != Scheme.FLEXIBLE:
        raise DomainError(_("该参保登记不是灵活就业人员职工医保。"), code="not_flexible")
    if ContributionMonths.objects.filter(reference=f"{reference}:months").exists():
        return enrollment
    covers_from, covers_to = rules.flexible_month_covers(period)
    if enrollment.status == EnrollmentStatus.REGISTERED:
        start = covers_from
        if enrollment.waiting_months:
            start = rules.add_months(covers_from, enrollment.waiting_months)
        enrollment.coverage_start = start
        _transition(enrollment, EnrollmentStatus.ACTIVE, actor=actor, reason=_("首月缴费成功"))
    if enrollment.coverage_end is None or covers_to > enrollment.coverage_end:
        enrollment.coverage_end = covers_to
    enrollment.save(update_fields=["status", "coverage_start", "coverage_end", "updated_at"])
    months_add(
        person_id=enrollment.person_id,
        region_code=enrollment.region_id,
        kind=MonthsKind.ACTUAL,
        months=1,
        reference=f"{reference}:months",
    )
    return enrollment


@transaction.atomic
def enrollment_suspend(*, enrollment_id: int, reason: str, actor=None) -> Enrollment:
    """暂停参保: the insurance relationship is paused (for example before a transfer out)."""
    return enrollment_transition(
        enrollment_id=enrollment_id, to_status=EnrollmentStatus.SUSPENDED, actor=actor, reason=reason
    )
