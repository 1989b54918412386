"""The transfer state machine edge by edge, and the invariants the database keeps."""

import itertools

import pytest
from django.db import IntegrityError, transaction

from transfers import services
from transfers.models import TRANSFER_MACHINE, Transfer, TransferStatus

from .scenario import apply_args, ready_person, set_processing

S = TransferStatus
ALLOWED = {
    (S.SUBMITTED, S.OUTGOING_REVIEW),
    (S.SUBMITTED, S.REJECTED),
    (S.SUBMITTED, S.CANCELLED),
    (S.OUTGOING_REVIEW, S.SHEET_ISSUED),
    (S.OUTGOING_REVIEW, S.REJECTED),
    (S.SHEET_ISSUED, S.INCOMING_REVIEW),
    (S.INCOMING_REVIEW, S.COMPLETED),
    (S.INCOMING_REVIEW, S.REJECTED),
}


def test_the_table_covers_every_status():
    assert TRANSFER_MACHINE.states == set(S.values)


@pytest.mark.parametrize(
    ("current", "target"), list(itertools.product(S.values, S.values))
)
def test_each_edge_is_allowed_only_if_listed(current, target):
    allowed = target in TRANSFER_MACHINE.targets(current)
    assert allowed == ((current, target) in ALLOWED)


def test_finished_statuses_have_no_way_out():
    for status in (S.COMPLETED, S.REJECTED, S.CANCELLED):
        assert TRANSFER_MACHINE.targets(status) == frozenset()


@pytest.mark.django_db
def test_one_open_transfer_per_person_is_kept_by_the_database():
    person, _out, _in = ready_person()
    set_processing("340100", "manual")
    transfer = services.transfer_apply(**apply_args(person))
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.create(
            person=person,
            kind="e2e",
            outgoing_region_id="340100",
            incoming_region_id="110000",
        )
    services.transfer_cancel(transfer_id=transfer.pk)
    # Once the first is finished, a new one may be opened.
    Transfer.objects.create(
        person=person,
        kind="e2e",
        outgoing_region_id="340100",
        incoming_region_id="110000",
    )


@pytest.mark.django_db
def test_a_rejection_without_a_reason_is_refused_by_the_database():
    person, _out, _in = ready_person()
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.create(
            person=person,
            kind="e2e",
            outgoing_region_id="340100",
            incoming_region_id="110000",
            status=S.REJECTED,
        )


@pytest.mark.django_db
def test_regions_must_differ():
    person, _out, _in = ready_person()
    with pytest.raises(IntegrityError), transaction.atomic():
        Transfer.objects.create(
            person=person,
            kind="e2e",
            outgoing_region_id="340100",
            incoming_region_id="340100",
        )
