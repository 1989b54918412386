"""The payments' state machines, every (state, action) pair: an action on an
edge leads to that edge's target, every other pair is refused. Expectations are
read off the edge lists, so a new edge or status is covered without a new line."""

import datetime as dt
import itertools
import re
from pathlib import Path

import pytest
import time_machine

from core.errors import TransitionNotAllowed
from payments import services
from payments.models import (
    BINDING_MACHINE,
    FINISHED,
    IN_FLIGHT,
    PAYMENT_MACHINE,
    REFUND_MACHINE,
    BindingStatus,
    Payment,
    PaymentStatus,
    RefundStatus,
)
from tests.factories import StaffFactory

from .conftest import bind, employee_with_account, relative_enrollment

MACHINES = {
    "payment": (PAYMENT_MACHINE, PaymentStatus),
    "binding": (BINDING_MACHINE, BindingStatus),
    "refund": (REFUND_MACHINE, RefundStatus),
}
PAIRS = [
    (name, state, action)
    for name, (machine, statuses) in MACHINES.items()
    for state, action in itertools.product(statuses.values, sorted(machine.actions))
]
PAYMENTS_CODE = Path(services.__file__).parent


def _edge_target(machine, state, action):
    targets = {
        edge.target
        for edge in machine.edges
        if edge.source == state and action in edge.actions
    }
    assert len(targets) <= 1
    return targets.pop() if targets else None


@pytest.mark.parametrize("name,state,action", PAIRS)
def test_an_action_leads_where_its_edge_says_and_nowhere_else(name, state, action):
    machine = MACHINES[name][0]
    expected = _edge_target(machine, state, action)
    if expected is None:
        assert not machine.can(state, action=action)
        with pytest.raises(TransitionNotAllowed):
            machine.target(state, action=action)
    else:
        assert machine.can(state, action=action)
        assert machine.target(state, action=action) == expected
        assert state in machine.sources(action=action)


@pytest.mark.parametrize("name", MACHINES)
def test_each_machine_knows_exactly_its_models_statuses(name):
    machine, statuses = MACHINES[name]
    assert machine.states == set(statuses.values)


@pytest.mark.parametrize("name", MACHINES)
def test_every_action_is_taken_somewhere_in_the_payments_code(name):
    code = "\n".join(
        path.read_text()
        for path in PAYMENTS_CODE.glob("*.py")
        if path.name != "models.py"
    )
    for action in MACHINES[name][0].actions:
        assert re.search(rf"[\"']{action}[\"']", code), action


def test_final_states():
    final = {
        name: {s for s in statuses.values if machine.is_final(s)}
        for name, (machine, statuses) in MACHINES.items()
    }
    assert final == {
        "payment": {PaymentStatus.SUCCESS, PaymentStatus.REFUNDED},
        "binding": {BindingStatus.DECLINED, BindingStatus.UNBOUND},
        "refund": {RefundStatus.DONE},
    }


def test_in_flight_matches_the_unsettled_index():
    # The partial index payment_due_unsettled spells these statuses out.
    condition = dict(
        next(
            i for i in Payment._meta.indexes if i.name == "payment_due_unsettled"
        ).condition.children
    )
    assert set(IN_FLIGHT) == set(condition["status__in"])
    assert set(IN_FLIGHT) | set(FINISHED) == set(PaymentStatus.values)
    assert not set(IN_FLIGHT) & set(FINISHED)


# --- Every status on a success path is on record --------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("channel", ["wechat", "counter", "account"])
def test_every_status_on_the_way_to_success_has_its_event(
    channel, callbacks_via_client, django_capture_on_commit_callbacks
):
    with time_machine.travel(dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC), tick=True):
        user, _account = employee_with_account("1000.00")
        enrollment = relative_enrollment()
        bind(user.person, enrollment.person)
        with django_capture_on_commit_callbacks(execute=True):
            if channel == "counter":
                payment = services.payment_counter(
                    staff=StaffFactory(),
                    enrollment_id=enrollment.pk,
                    idempotency_key="path-key-counter-0",
                )
            else:
                payment = services.payment_checkout(
                    user=user,
                    enrollment_id=enrollment.pk,
                    channel=channel,
                    idempotency_key=f"path-key-{channel}-0",
                )
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCESS
    events = list(payment.events.values_list("from_status", "to_status"))
    assert events[0] == ("", PaymentStatus.CREATED)
    for (_before, reached), (source, target) in itertools.pairwise(events):
        assert source == reached
        assert target in PAYMENT_MACHINE.targets(source)
    assert events[-1][1] == PaymentStatus.SUCCESS
