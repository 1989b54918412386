"""The transfer engine on PostgreSQL + Redis with real worker processes: 200
transfers complete end to end with money and months conserved, and the same
with a worker SIGKILLed in the middle and restarted: still exactly once."""

import time
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from enrollment.models import ContributionMonths
from payments.models import AccountEntry, PersonalAccount
from portal.celery import app
from tests.transfers.scenario import IN, OUT, apply_args, bulk_ready
from transfers import services
from transfers.models import Transfer, TransferEvent

pytestmark = pytest.mark.django_db(transaction=True)

COUNT = 200
# The simulated offices take 5 ms to 1.2 s a step, so that the steps of 200
# transfers come due over a second or two: the engine claims them in several
# batches (it would take each step of all 200 in one batch if they came due
# at once), and the kill lands in the middle of the run.
OFFICE_SECONDS_PER_WORKING_DAY = 0.1
WORKER_ENV = {
    "SIMULATED_SECONDS_PER_WORKING_DAY": str(OFFICE_SECONDS_PER_WORKING_DAY),
    "TRANSFER_CLAIM_LEASE_SECONDS": "2",
}


def conserved() -> tuple[Decimal, int]:
    """Balances + money in transit, months + months in transit: one statement, one snapshot."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT (SELECT COALESCE(SUM(balance), 0) FROM payments_personalaccount)
                    + (SELECT COALESCE(SUM(transit_amount), 0) FROM transfers_transfer),
                      (SELECT COALESCE(SUM(months), 0) FROM enrollment_contributionmonths)
                    + (SELECT COALESCE(SUM(transit_actual_months + transit_deemed_months), 0) FROM transfers_transfer)"""
        )
        money, months = cursor.fetchone()
    return Decimal(money), int(months)


def apply_many(settings):
    settings.SIMULATED_SECONDS_PER_WORKING_DAY = OFFICE_SECONDS_PER_WORKING_DAY
    people = bulk_ready(COUNT)
    for person in people:
        services.transfer_apply(**apply_args(person))
    return people


def drive(until, *, timeout, check):
    """Wake the scan (as beat does) until `until()` holds, checking conservation meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.send_task("transfers.tasks.transfers_scan")
        check()
        if until():
            return
        time.sleep(0.5)
    raise AssertionError(
        f"timed out: {Transfer.objects.filter(status='completed').count()} of {COUNT} completed"
    )


def completed() -> int:
    return Transfer.objects.filter(status="completed").count()


def assert_exactly_once(people, start):
    assert conserved() == start
    assert completed() == COUNT
    assert Transfer.objects.exclude(transit_amount=0).count() == 0
    # Out and in, once each per transfer.
    assert (
        AccountEntry.objects.filter(reference__startswith="transfer:").count()
        == 2 * COUNT
    )
    assert TransferEvent.objects.count() == 5 * COUNT
    balances = {}
    for person_id, region_id, balance in PersonalAccount.objects.values_list(
        "person_id", "region_id", "balance"
    ):
        balances.setdefault(person_id, {})[region_id] = balance
    for i, person in enumerate(people):
        assert balances[person.pk] == {OUT: Decimal("0"), IN: Decimal("100.00") + i}
    months = {}
    for person_id, region_id, kind, total in ContributionMonths.objects.values_list(
        "person_id", "region_id", "kind"
    ).annotate(total=Sum("months")):
        months[(person_id, region_id, kind)] = total
    for i, person in enumerate(people):
        assert months[(person.pk, OUT, "actual")] == 0
        assert months[(person.pk, IN, "actual")] == 12 + i % 7
        assert months.get((person.pk, IN, "deemed"), 0) == i % 3


def test_200_transfers_complete_end_to_end_with_money_and_months_conserved(
    start_worker, settings
):
    people = apply_many(settings)
    start = conserved()
    start_worker(**WORKER_ENV)
    drive(
        lambda: completed() == COUNT, timeout=90, check=lambda: assert_conserved(start)
    )
    assert_exactly_once(people, start)


def assert_conserved(start):
    assert conserved() == start


def test_a_worker_killed_mid_run_and_restarted_still_moves_everything_exactly_once(
    start_worker, settings
):
    people = apply_many(settings)
    start = conserved()
    worker = start_worker(**WORKER_ENV)
    drive(
        lambda: completed() >= COUNT // 5,
        timeout=60,
        check=lambda: assert_conserved(start),
    )
    worker.kill()  # SIGKILL to the whole process group, in the middle of the batch
    killed_at = completed()
    assert killed_at < COUNT, (
        "the run finished before the kill; raise COUNT or slow the office"
    )
    assert conserved() == start
    start_worker(**WORKER_ENV)
    drive(
        lambda: completed() == COUNT, timeout=90, check=lambda: assert_conserved(start)
    )
    assert_exactly_once(people, start)
