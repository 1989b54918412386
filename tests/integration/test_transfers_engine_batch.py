"""The engine's batches on PostgreSQL with real row locks: two scans at once,
or two runs of the same claimed batch at once (a lease that ran out while the
first still held it), advance each transfer exactly once and move each
balance and each month once."""

import logging
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count

from payments.models import AccountEntry
from tests.integration.test_transfers_engine import conserved
from tests.transfers.scenario import bulk_ready, bulk_submitted
from transfers import services
from transfers.models import Step, Transfer, TransferEvent, TransferStatus

pytestmark = pytest.mark.django_db(transaction=True)

COUNT = 120


def together(*calls, timeout=120):
    """Run the calls in threads released at the same moment (each thread its
    own database connection); re-raise the first error."""
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as error:  # noqa: BLE001 - handed to the test
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    if errors:
        raise errors[0]
    return results


def assert_each_step_once(transfers):
    steps = dict(
        TransferEvent.objects.filter(transfer__in=transfers)
        .values_list("transfer_id")
        .annotate(n=Count("id"))
    )
    assert set(steps.values()) == {5}, steps
    assert AccountEntry.objects.filter(
        reference__startswith="transfer:"
    ).count() == 2 * len(transfers)


def test_two_scans_at_once_advance_each_transfer_exactly_once(settings, caplog):
    settings.SIMULATED_SECONDS_PER_WORKING_DAY = 0.0
    settings.TRANSFER_CLAIM_LEASE_SECONDS = 30.0
    transfers = bulk_submitted(bulk_ready(COUNT))
    start = conserved()
    done = Transfer.objects.filter(status=TransferStatus.COMPLETED)

    def scan():
        ran = 0
        deadline = time.monotonic() + 90
        while done.count() < COUNT and time.monotonic() < deadline:
            ran += services.transfers_scan(batch=20, time_budget=2.0)
        return ran

    with caplog.at_level(logging.WARNING, logger="transfers.services"):
        ran = together(scan, scan)
    assert done.count() == COUNT
    # Both scans took part, and together they ran each step of each transfer once.
    assert all(ran) and sum(ran) == 4 * COUNT
    assert conserved() == start
    assert_each_step_once(transfers)
    # No batch failed on the other's locks or rows.
    assert not [r for r in caplog.records if r.name == "transfers.services"]


def test_the_same_claimed_batch_run_twice_at_once_runs_each_transfer_once(settings):
    settings.SIMULATED_SECONDS_PER_WORKING_DAY = 0.0
    transfers = bulk_submitted(bulk_ready(COUNT))
    ids = [t.pk for t in transfers]
    start = conserved()
    for step in (Step.ACCEPT, Step.ISSUE_SHEET, Step.RECEIVE, Step.COMPLETE):
        # As when a lease ends while the first run still holds its rows: the
        # second skips what the first has locked and finds the rest moved on.
        ran = together(
            lambda step=step: services.transfers_run_batch(step=step, transfer_ids=ids),
            lambda step=step: services.transfers_run_batch(step=step, transfer_ids=ids),
        )
        assert sum(ran) == COUNT, (step, ran)
        assert conserved() == start
    assert Transfer.objects.filter(status=TransferStatus.COMPLETED).count() == COUNT
    assert_each_step_once(transfers)
    assert Transfer.objects.filter(transit_amount__gt=Decimal("0")).count() == 0
