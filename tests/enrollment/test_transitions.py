"""ENROLLMENT_MACHINE is the only state table: every (status, action) pair on
an edge moves to that edge's target and writes an event; every other pair is
refused and writes nothing. Expected results come from the edge list, so a
new edge or action is tested without editing this file."""

import datetime as dt
import itertools

import pytest

from core.errors import DomainError, TransitionNotAllowed
from enrollment import services
from enrollment.models import (
    ENROLLMENT_MACHINE,
    EnrollmentEvent,
    EnrollmentStatus,
    Verification,
)
from people.models import Role
from tests import factories

ALL = [status.value for status in EnrollmentStatus]
ACTIONS = sorted(ENROLLMENT_MACHINE.actions)
# (status, action) → target, read from the declared edges.
DECLARED = {
    (edge.source, action): edge.target
    for edge in ENROLLMENT_MACHINE.edges
    for action in edge.actions
}
PAIRS = list(itertools.product(ALL, ACTIONS))
ALLOWED = [(s, a, DECLARED[(s, a)]) for s, a in PAIRS if (s, a) in DECLARED]
REFUSED = [(s, a) for s, a in PAIRS if (s, a) not in DECLARED]
# Status pairs (current, target) joined by an edge, for callers that name a target.
EDGES = {(edge.source, edge.target) for edge in ENROLLMENT_MACHINE.edges}


def test_the_machine_covers_every_status_and_terminal_states_have_no_exit():
    assert ENROLLMENT_MACHINE.states == set(ALL)
    assert ENROLLMENT_MACHINE.is_final(EnrollmentStatus.CANCELLED)
    assert ENROLLMENT_MACHINE.is_final(EnrollmentStatus.TERMINATED)
    assert len(EDGES) == 6
    assert set(ACTIONS) == {"pay", "cancel", "suspend", "resume", "terminate"}


@pytest.mark.parametrize(("current", "action", "target"), ALLOWED)
def test_machine_leads_an_allowed_action_to_its_edges_target(current, action, target):
    assert ENROLLMENT_MACHINE.can(current, action=action)
    assert ENROLLMENT_MACHINE.target(current, action=action) == target
    assert current in ENROLLMENT_MACHINE.sources(action=action)


@pytest.mark.parametrize(("current", "action"), REFUSED)
def test_machine_refuses_every_other_action(current, action):
    assert not ENROLLMENT_MACHINE.can(current, action=action)
    assert current not in ENROLLMENT_MACHINE.sources(action=action)
    with pytest.raises(TransitionNotAllowed):
        ENROLLMENT_MACHINE.target(current, action=action)


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "action", "target"), ALLOWED)
def test_allowed_action_moves_and_writes_an_event(current, action, target):
    enrollment = factories.EnrollmentFactory(status=current)
    services.enrollment_transition(
        enrollment_id=enrollment.pk, action=action, reason="test"
    )
    enrollment.refresh_from_db()
    assert enrollment.status == target
    event = EnrollmentEvent.objects.get(enrollment=enrollment)
    assert (event.from_status, event.to_status) == (current, target)


@pytest.mark.django_db
@pytest.mark.parametrize(("current", "action"), REFUSED)
def test_refused_action_changes_nothing_and_writes_nothing(current, action):
    enrollment = factories.EnrollmentFactory(status=current)
    with pytest.raises(TransitionNotAllowed):
        services.enrollment_transition(enrollment_id=enrollment.pk, action=action)
    enrollment.refresh_from_db()
    assert enrollment.status == current
    assert not EnrollmentEvent.objects.filter(enrollment=enrollment).exists()


# --- the named services take their action's edges --------------------------------


def _cancel(enrollment):
    services.enrollment_cancel(
        actor=factories.StaffFactory(role=Role.CLERK), enrollment_id=enrollment.pk
    )


def _suspend(enrollment):
    services.enrollment_suspend(enrollment_id=enrollment.pk, reason="test")


def _resume(enrollment):
    services.enrollment_resume(enrollment_id=enrollment.pk, today=dt.date(2026, 6, 1))


def _activate(enrollment):
    services.enrollment_activate(
        enrollment_id=enrollment.pk, paid_on=dt.date(2026, 1, 5), reference="PAY-1"
    )


# service → (its action, how a refusal reaches the caller)
NAMED = {
    "cancel": (_cancel, DomainError),
    "suspend": (_suspend, TransitionNotAllowed),
    "resume": (_resume, TransitionNotAllowed),
    "pay": (_activate, TransitionNotAllowed),
}


def _results(action):
    return {target for (_s, a), target in DECLARED.items() if a == action}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "current"), list(itertools.product(sorted(NAMED), ALL))
)
def test_each_named_service_moves_refuses_or_repeats_as_its_action_says(
    action, current
):
    call, refusal = NAMED[action]
    enrollment = factories.EnrollmentFactory(
        status=current, verification=Verification.NOT_NEEDED
    )
    if (current, action) in DECLARED:
        call(enrollment)
        enrollment.refresh_from_db()
        assert enrollment.status == DECLARED[(current, action)]
        assert EnrollmentEvent.objects.filter(enrollment=enrollment).count() == 1
    elif current in _results(action):
        call(enrollment)  # a repeated call: already there, nothing changes
        enrollment.refresh_from_db()
        assert enrollment.status == current
        assert not EnrollmentEvent.objects.filter(enrollment=enrollment).exists()
    else:
        with pytest.raises(refusal):
            call(enrollment)
        enrollment.refresh_from_db()
        assert enrollment.status == current
        assert not EnrollmentEvent.objects.filter(enrollment=enrollment).exists()


@pytest.mark.django_db
def test_cancel_refusal_keeps_the_citizens_message():
    enrollment = factories.EnrollmentFactory(status=EnrollmentStatus.ACTIVE)
    with pytest.raises(DomainError) as caught:
        _cancel(enrollment)
    assert caught.value.code == "not_cancellable"
    assert str(caught.value) == "只有尚未缴费的参保登记可以撤销。"


@pytest.mark.django_db
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
