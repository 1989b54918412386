"""ENROLLMENT_TRANSITIONS is the only state table: every allowed edge moves
and writes an event; every forbidden edge is refused and writes nothing."""

import datetime as dt
import itertools

import pytest

from core.errors import TransitionNotAllowed
from enrollment import services
from enrollment.models import ENROLLMENT_TRANSITIONS, EnrollmentEvent, EnrollmentStatus
from tests import factories

pytestmark = pytest.mark.django_db

ALL = [status.value for status in EnrollmentStatus]
EDGES = [(a, b) for a, b in itertools.product(ALL, ALL) if a != b]
ALLOWED = [(a, b) for a, b in EDGES if b in ENROLLMENT_TRANSITIONS[a]]
FORBIDDEN = [(a, b) for a, b in EDGES if b not in ENROLLMENT_TRANSITIONS[a]]


def test_the_table_covers_every_status_and_terminal_states_have_no_exit():
    assert set(ENROLLMENT_TRANSITIONS) == set(ALL)
    assert ENROLLMENT_TRANSITIONS[EnrollmentStatus.CANCELLED] == frozenset()
    assert ENROLLMENT_TRANSITIONS[EnrollmentStatus.TERMINATED] == frozenset()
    assert len(ALLOWED) == 6


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_allowed_edge_moves_and_writes_an_event(current, target):
    enrollment = factories.EnrollmentFactory(status=current)
    services.enrollment_transition(
        enrollment_id=enrollment.pk, to_status=target, reason="test"
    )
    enrollment.refresh_from_db()
    assert enrollment.status == target
    event = EnrollmentEvent.objects.get(enrollment=enrollment)
    assert (event.from_status, event.to_status) == (current, target)


@pytest.mark.parametrize(("current", "target"), FORBIDDEN)
def test_forbidden_edge_is_refused_and_writes_nothing(current, target):
    enrollment = factories.EnrollmentFactory(status=current)
    with pytest.raises(TransitionNotAllowed):
        services.enrollment_transition(enrollment_id=enrollment.pk, to_status=target)
    enrollment.refresh_from_db()
    assert enrollment.status == current
    assert not EnrollmentEvent.objects.filter(enrollment=enrollment).exists()


def test_transition_to_the_current_status_is_a_no_op():
    enrollment = factories.EnrollmentFactory(status=EnrollmentStatus.ACTIVE)
    services.enrollment_transition(
        enrollment_id=enrollment.pk, to_status=EnrollmentStatus.ACTIVE
    )
    assert not EnrollmentEvent.objects.filter(enrollment=enrollment).exists()


def test_activation_is_idempotent_and_adds_twelve_months_once():
    from enrollment.models import ContributionMonths

    enrollment = factories.EnrollmentFactory()
    for _ in range(2):
        services.enrollment_activate(
            enrollment_id=enrollment.pk, paid_on=dt.date(2026, 1, 5), reference="PAY-1"
        )
    assert (
        EnrollmentEvent.objects.filter(
            enrollment=enrollment, to_status="active"
        ).count()
        == 1
    )
    assert ContributionMonths.objects.get(person=enrollment.person).months == 12
