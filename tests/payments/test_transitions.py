"""PAYMENT_TRANSITIONS edge by edge: every allowed edge passes, every other is refused."""

import itertools

import pytest

from core.errors import TransitionNotAllowed, check_transition
from payments.models import PAYMENT_TRANSITIONS, PaymentStatus

S = PaymentStatus
ALLOWED = {
    (S.CREATED, S.STARTED),
    (S.CREATED, S.CANCELLED),
    (S.STARTED, S.SUBMITTED),
    (S.STARTED, S.SUCCESS),
    (S.STARTED, S.FAILED),
    (S.STARTED, S.CANCELLED),
    (S.STARTED, S.ERROR),
    (S.STARTED, S.REFUND_PENDING),
    (S.SUBMITTED, S.SUCCESS),
    (S.SUBMITTED, S.FAILED),
    (S.SUBMITTED, S.CANCELLED),
    (S.SUBMITTED, S.ERROR),
    (S.SUBMITTED, S.REFUND_PENDING),
    (S.FAILED, S.REFUND_PENDING),
    (S.CANCELLED, S.REFUND_PENDING),
    (S.ERROR, S.REFUND_PENDING),
    (S.REFUND_PENDING, S.REFUNDED),
}
EDGES = list(itertools.product(S.values, S.values))


def test_the_table_lists_every_status():
    assert set(PAYMENT_TRANSITIONS) == set(S.values)


@pytest.mark.parametrize("source,target", EDGES)
def test_each_edge_is_allowed_only_if_listed(source, target):
    if (source, target) in ALLOWED:
        check_transition(PAYMENT_TRANSITIONS, source, target)
    else:
        with pytest.raises(TransitionNotAllowed):
            check_transition(PAYMENT_TRANSITIONS, source, target)


def test_success_and_refunded_are_final():
    assert PAYMENT_TRANSITIONS[S.SUCCESS] == frozenset()
    assert PAYMENT_TRANSITIONS[S.REFUNDED] == frozenset()
