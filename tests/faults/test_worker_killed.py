"""A worker SIGKILLed in the middle of settling payments (channel callbacks over
HTTP to a live server, reconciliation) and of moving personal-account balances
through transfer steps; after a restart every payment and every transfer
reaches its right state exactly once: no double charge, no lost success, each
ledger equal to the sum of its entries, money + in-transit conserved.

Lost work is recovered the way production recovers it: the beat tasks
(payments_reconcile, transfers_scan, outbox_relay) are sent as beat would, and
unsettled attempts are made due at once instead of waiting QUERY_AFTER (20 s).
"""

import time

import pytest
from django.utils import timezone

from payments import services as payments
from payments import simulator
from payments.models import IN_FLIGHT, Payment, PaymentStatus, Receipt, SimTransaction
from portal.celery import app
from tests.factories import EnrollmentFactory, UserFactory, region
from tests.faults.conftest import record
from tests.load.invariants import broken, violations
from tests.transfers.scenario import apply_args, bulk_ready
from transfers import services as transfers
from transfers.models import Transfer

pytestmark = pytest.mark.django_db(transaction=True)

CHANNELS = ("app", "wechat", "alipay", "bank")
PER_CHANNEL = 8
TRANSFERS = 20
# The simulated offices take 10 ms to 2.4 s a step, so that balances stay in
# transit (sheet issued, not yet credited) long enough for the kill to find
# some on the move: the engine itself moves them on in milliseconds.
OFFICE_SECONDS_PER_WORKING_DAY = 0.2
WORKER_ENV = {
    "SIMULATED_SECONDS_PER_WORKING_DAY": str(OFFICE_SECONDS_PER_WORKING_DAY),
    "TRANSFER_CLAIM_LEASE_SECONDS": "2",
}
# How each channel answers its requests in turn: mostly success, some declines,
# some answering twice or out of order; spread over a few seconds so the kill
# lands in the middle.
BEHAVIOURS = ("succeed", "decline", "twice", "out_of_order")


def settled() -> int:
    return Payment.objects.exclude(status__in=IN_FLIGHT).count()


def drive(until, *, timeout, fast_forward=False):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if until():
            return
        if fast_forward:
            # Time passes: unsettled attempts become due for reconciliation.
            Payment.objects.filter(status__in=IN_FLIGHT).update(due_at=timezone.now())
            app.send_task("payments.tasks.payments_reconcile")
            app.send_task("core.tasks.outbox_relay")
        app.send_task("transfers.tasks.transfers_scan")
        assert not broken(violations()), broken(violations())
        time.sleep(0.5)
    raise AssertionError(
        f"timed out: {settled()} payments settled, "
        f"{Transfer.objects.filter(status='completed').count()} of {TRANSFERS} transfers completed"
    )


def test_worker_killed_mid_settlement_and_transfer_steps_then_restarted_settles_everything_once(
    start_worker, live_server, settings
):
    settings.SIMULATED_SECONDS_PER_WORKING_DAY = OFFICE_SECONDS_PER_WORKING_DAY
    citizens = []
    for _i in range(PER_CHANNEL * len(CHANNELS)):
        user = UserFactory(person__region=region("340100"))
        citizens.append((user, EnrollmentFactory(person=user.person, year=2026)))
    for channel in CHANNELS:
        for i in range(PER_CHANNEL):
            simulator.script(
                channel, BEHAVIOURS[i % len(BEHAVIOURS)], delay=0.4 + 0.35 * i
            )
    people = bulk_ready(TRANSFERS)
    for person in people:
        transfers.transfer_apply(**apply_args(person))
    assert not broken(violations())

    t0 = time.monotonic()
    worker = start_worker(PORTAL_BASE_URL=live_server.url, **WORKER_ENV)
    payment_ids = [
        payments.payment_checkout(
            user=user,
            enrollment_id=enrollment.pk,
            channel=CHANNELS[n % len(CHANNELS)],
            idempotency_key=f"fault-kill-{n:04d}-xxxx",
        ).pk
        for n, (user, enrollment) in enumerate(citizens)
    ]
    completed = Transfer.objects.filter(status="completed")
    in_transit = Transfer.objects.filter(status__in=["sheet_issued", "incoming_review"])
    # Kill once some payments are settled and balances are on the move (some
    # transfers have taken money out of the outgoing account, none or few credited it).
    drive(lambda: settled() >= 6 and in_transit.count() >= 3, timeout=60)
    killed_after = time.monotonic() - t0
    worker.kill()  # SIGKILL to the worker and its pool children, mid-run
    at_kill = {
        "settled": settled(),
        "completed": completed.count(),
        "in_transit": in_transit.count(),
    }
    assert at_kill["settled"] < len(payment_ids), (
        "every payment settled before the kill"
    )
    assert at_kill["completed"] < TRANSFERS, "every transfer completed before the kill"
    assert not broken(violations())

    start_worker(PORTAL_BASE_URL=live_server.url, **WORKER_ENV)
    drive(
        lambda: settled() == len(payment_ids) and completed.count() == TRANSFERS,
        timeout=120,
        fast_forward=True,
    )
    recovered_after = time.monotonic() - t0 - killed_after
    # Let late callbacks (answer twice, out of order) arrive, then check again.
    time.sleep(1.5)

    assert broken(violations()) == {}
    for payment in Payment.objects.filter(pk__in=payment_ids):
        txn = SimTransaction.objects.get(merchant_reference=payment.reference)
        if txn.behaviour == "decline":
            assert payment.status == PaymentStatus.FAILED and not txn.charged
        else:
            assert payment.status == PaymentStatus.SUCCESS and txn.charged
            assert payment.receipt is not None
    assert SimTransaction.objects.count() == len(
        payment_ids
    )  # one request per attempt reached the channel
    assert (
        Payment.objects.filter(status=PaymentStatus.SUCCESS).count()
        == len(payment_ids) * 3 // 4
    )
    assert completed.count() == TRANSFERS
    record(
        "worker_killed",
        faults_injected=1,
        payments=len(payment_ids),
        transfers=TRANSFERS,
        at_kill=at_kill,
        killed_after_s=round(killed_after, 1),
        recovered_in_s=round(recovered_after, 1),
        payments_success=Payment.objects.filter(status=PaymentStatus.SUCCESS).count(),
        receipts=Receipt.objects.count(),
        rows_lost=0,
        double_charges=0,
    )
