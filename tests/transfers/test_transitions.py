"""Every (status, action) pair of the transfer machine, expected results derived
from its edge list: an action on one of its edges leads to that edge's target,
any other is refused. Checked on the table itself and through the services
that perform each action, so a service cannot drift from the table."""

import contextlib
import itertools
from collections import deque

import pytest
from django.utils import timezone

from core.errors import DomainError, TransitionNotAllowed
from tests import factories
from transfers import services
from transfers.models import (
    INCOMING_STATUSES,
    OPEN_STATUSES,
    OUTGOING_STATUSES,
    TRANSFER_MACHINE,
    Side,
    Step,
    Transfer,
    TransferEvent,
    TransferStatus,
)

from .scenario import IN, OUT, apply_args, ready_person, set_processing

M = TRANSFER_MACHINE
EXPECTED = {
    (edge.source, action): edge.target for edge in M.edges for action in edge.actions
}
PAIRS = list(itertools.product(sorted(TransferStatus.values), sorted(M.actions)))


def _pair_id(pair):
    return f"{pair[0]}-{pair[1]}"


@pytest.mark.parametrize("pair", PAIRS, ids=_pair_id)
def test_the_machine_answers_each_pair_from_its_edges(pair):
    status, action = pair
    if pair in EXPECTED:
        assert M.can(status, action=action)
        assert M.target(status, action=action) == EXPECTED[pair]
        assert status in M.sources(action=action)
    else:
        assert not M.can(status, action=action)
        assert status not in M.sources(action=action)
        with pytest.raises(TransitionNotAllowed):
            M.target(status, action=action)


def test_every_status_is_known_to_the_machine():
    assert M.states == set(TransferStatus.values)


def test_open_statuses_are_the_ones_the_database_keeps_unique_per_person():
    assert {str(s) for s in OPEN_STATUSES} == {
        s for s in TransferStatus.values if not M.is_final(s)
    }
    (constraint,) = [
        c
        for c in Transfer._meta.constraints
        if c.name == "transfer_one_open_per_person"
    ]
    ((lookup, values),) = constraint.condition.children
    assert lookup == "status__in"
    assert set(values) == {str(s) for s in OPEN_STATUSES}


def test_the_queues_split_the_open_statuses():
    assert set(OUTGOING_STATUSES) | set(INCOMING_STATUSES) == set(OPEN_STATUSES)
    assert not set(OUTGOING_STATUSES) & set(INCOMING_STATUSES)


# --- Through the services ----------------------------------------------------------


def _engine_step(step):
    """An engine step, forced due, so that only the machine decides whether it acts."""

    def perform(transfer, staff):
        Transfer.objects.filter(pk=transfer.pk).update(
            next_step=step, due_at=timezone.now()
        )
        services.transfer_run_step(transfer_id=transfer.pk, step=step, claimed=True)

    return perform


def _reject_by(side):
    def perform(transfer, staff):
        services.transfer_reject(
            transfer_id=transfer.pk, code="identity", actor=staff[side]
        )

    return perform


# Each action performed alone, the way the app performs it; staff of the
# action's own side act, so a side that may not act is refused.
PERFORM = {
    "outgoing_accept": _engine_step(Step.ACCEPT),
    "outgoing_issue_sheet": _engine_step(Step.ISSUE_SHEET),
    "outgoing_reject": _reject_by(Side.OUTGOING),
    "incoming_receive": _engine_step(Step.RECEIVE),
    "incoming_complete": _engine_step(Step.COMPLETE),
    "incoming_reject": _reject_by(Side.INCOMING),
    "citizen_cancel": lambda transfer, staff: services.transfer_cancel(
        transfer_id=transfer.pk
    ),
}
ENGINE_ACTIONS = {
    "outgoing_accept",
    "outgoing_issue_sheet",
    "incoming_receive",
    "incoming_complete",
}


def _path_to(status):
    """The shortest list of actions from SUBMITTED to `status`, along the edges."""
    paths = {TransferStatus.SUBMITTED.value: []}
    queue = deque([TransferStatus.SUBMITTED.value])
    while queue:
        current = queue.popleft()
        for edge in sorted(M.edges, key=lambda e: (e.source, e.target)):
            if edge.source == current and edge.target not in paths:
                paths[edge.target] = [*paths[current], min(edge.actions)]
                queue.append(edge.target)
    return paths[status]


def test_every_action_has_a_way_to_be_performed():
    assert set(PERFORM) == M.actions


@pytest.fixture
def staff():
    set_processing(OUT, "manual")
    set_processing(IN, "manual")
    return {
        Side.OUTGOING: factories.StaffFactory(region=factories.region(OUT)),
        Side.INCOMING: factories.StaffFactory(region=factories.region(IN)),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("pair", PAIRS, ids=_pair_id)
def test_the_services_follow_the_machine(pair, staff):
    status, action = pair
    person, _out, _in = ready_person()
    transfer = services.transfer_apply(**apply_args(person))
    for step in _path_to(status):
        PERFORM[step](transfer, staff)
    transfer.refresh_from_db()
    assert transfer.status == status
    events = TransferEvent.objects.filter(transfer=transfer).count()

    # Engine steps that find nothing to do return quietly (they run twice by
    # design), and so does a repeat of what already happened; a person asking
    # for anything else is told why not.
    repeat = any(status == e.target and action in e.actions for e in M.edges)
    told = pair not in EXPECTED and action not in ENGINE_ACTIONS and not repeat
    with pytest.raises(DomainError) if told else contextlib.nullcontext():
        PERFORM[action](transfer, staff)

    transfer.refresh_from_db()
    if pair in EXPECTED:
        assert transfer.status == EXPECTED[pair]
        last = TransferEvent.objects.filter(transfer=transfer).last()
        assert (last.from_status, last.to_status) == (status, EXPECTED[pair])
        assert TransferEvent.objects.filter(transfer=transfer).count() == events + 1
    else:
        assert transfer.status == status
        assert TransferEvent.objects.filter(transfer=transfer).count() == events
