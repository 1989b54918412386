"""Callbacks duplicated, reordered, replayed, forged and with a changed amount,
all fired at once over HTTP at a live server while a real worker reconciles the
same payments: every message gets the right answer, and the only change is the
one true outcome, once (one success, one receipt, one charge, paid periods once).
(The single-message cases are unit-tested in tests/payments/test_callbacks.py.)"""

import json
import secrets
import threading
import time
from collections import Counter
from decimal import Decimal

import pytest
import requests
from django.conf import settings
from django.utils import timezone

from payments import services, simulator
from payments.models import (
    CallbackLog,
    PaidPeriod,
    Payment,
    PaymentStatus,
    Receipt,
    SimTransaction,
)
from payments.signing import sign
from portal.celery import app
from tests.factories import EnrollmentFactory, UserFactory, region
from tests.faults.conftest import record, wait_until
from tests.load.invariants import broken, violations

pytestmark = pytest.mark.django_db(transaction=True)

PAYMENTS = 6


def message(payment, *, status="success", seq=2, amount=None):
    return {
        "reference": payment.reference,
        "status": status,
        "amount": str(amount or payment.amount),
        "seq": seq,
        "transaction_id": f"WX{payment.reference}",
        "reason": "",
    }


def signed(payload, *, nonce=None, secret=None, timestamp=None):
    body = json.dumps(payload, sort_keys=True).encode()
    timestamp = str(timestamp or int(time.time()))
    nonce = nonce or secrets.token_hex(16)
    signature = sign(
        secret=secret or settings.PAYMENT_CALLBACK_SECRET,
        timestamp=timestamp,
        nonce=nonce,
        body=body,
    )
    return body, {
        "Content-Type": "application/json",
        "X-Timestamp": timestamp,
        "X-Nonce": nonce,
        "X-Signature": signature,
    }


def storm_for(payment):
    """(kind, body, headers, allowed answers) for one payment."""
    true_success = message(payment)
    replayed_nonce = secrets.token_hex(16)
    shots = [
        ("duplicate", *signed(true_success), {200}),
        ("duplicate", *signed(true_success), {200}),
        ("duplicate", *signed(true_success), {200}),
        ("original", *signed(true_success, nonce=replayed_nonce), {200, 409}),
        ("replay", *signed(true_success, nonce=replayed_nonce), {200, 409}),
        (
            "reordered_processing",
            *signed(message(payment, status="processing", seq=1)),
            {200},
        ),
        (
            "forged",
            *signed(message(payment, status="failed", seq=9), secret="not-the-secret"),
            {403},
        ),
        ("forged", *signed(true_success, secret="guess"), {403}),
        (
            "changed_amount",
            *signed(message(payment, seq=3, amount=payment.amount - Decimal("0.01"))),
            {400},
        ),
        (
            "changed_amount",
            *signed(message(payment, seq=4, amount=Decimal("1.00"))),
            {400},
        ),
        (
            "stale_timestamp",
            *signed(true_success, timestamp=int(time.time()) - 3600),
            {400},
        ),
    ]
    return shots


def fire(url, shots):
    barrier = threading.Barrier(len(shots))
    answers = [None] * len(shots)

    def shoot(i, body, headers):
        barrier.wait()
        for attempt in range(10):
            try:
                answers[i] = requests.post(
                    url, data=body, headers=headers, timeout=30
                ).status_code
                return
            except requests.ConnectionError:
                # The test server's small listen backlog refused the connection
                # (nothing was received): send again, as a channel does.
                time.sleep(0.05 * (attempt + 1))

    threads = [
        threading.Thread(target=shoot, args=(i, body, headers))
        for i, (_k, body, headers, _a) in enumerate(shots)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_a_storm_of_bad_and_repeated_callbacks_with_reconciliation_racing_settles_each_payment_once(
    start_worker, live_server
):
    citizens = []
    for _i in range(PAYMENTS):
        user = UserFactory(person__region=region("340100"))
        citizens.append((user, EnrollmentFactory(person=user.person, year=2026)))
    for _i in range(PAYMENTS):
        simulator.script(
            "wechat", "silent", delay=0.1
        )  # the channel charges but does not call back
    start_worker(PORTAL_BASE_URL=live_server.url)
    payments = [
        services.payment_checkout(
            user=user,
            enrollment_id=enrollment.pk,
            channel="wechat",
            idempotency_key=f"storm-key-{n:04d}-xxxxx",
        )
        for n, (user, enrollment) in enumerate(citizens)
    ]
    wait_until(
        lambda: SimTransaction.objects.filter(charged=True).count() == PAYMENTS,
        timeout=30,
        message="the channel to charge",
    )
    url = f"{live_server.url}/payments/callback/wechat/"
    shots, answers = [], []
    for (
        payment
    ) in payments:  # each payment's storm at once, racing the worker's reconciliation
        Payment.objects.filter(pk=payment.pk).update(due_at=timezone.now())
        app.send_task("payments.tasks.payments_reconcile")
        storm = storm_for(payment)
        shots += storm
        answers += fire(url, storm)

    wrong = [
        (kind, code)
        for (kind, _b, _h, allowed), code in zip(shots, answers, strict=True)
        if code not in allowed
    ]
    assert wrong == []
    # Of a nonce sent twice, exactly one copy was taken.
    per_nonce = Counter(
        h["X-Nonce"] for (kind, _b, h, _a) in shots if kind in ("original", "replay")
    )
    assert set(per_nonce.values()) == {2}
    replay_answers = [
        code
        for (kind, _b, _h, _a), code in zip(shots, answers, strict=True)
        if kind in ("original", "replay")
    ]
    assert (
        replay_answers.count(409) == PAYMENTS and replay_answers.count(200) == PAYMENTS
    )

    wait_until(
        lambda: (
            Payment.objects.filter(status=PaymentStatus.SUCCESS).count() == PAYMENTS
        ),
        timeout=30,
        message="every payment to succeed",
    )
    assert Receipt.objects.count() == PAYMENTS
    assert PaidPeriod.objects.count() == PAYMENTS
    assert SimTransaction.objects.filter(charged=True).count() == PAYMENTS
    for payment in Payment.objects.all():
        # One step to success, whatever arrived: no failure recorded in between.
        assert list(payment.events.values_list("to_status", flat=True))[-1] == "success"
        assert not payment.events.filter(to_status="failed").exists()
    assert broken(violations()) == {}
    # Every accepted-for-processing message is on record; forged ones never reach the log.
    assert CallbackLog.objects.filter(outcome="amount_mismatch").count() == 2 * PAYMENTS
    record(
        "callback_storm",
        payments=PAYMENTS,
        callbacks_sent=len(shots),
        wrong_answers=0,
        errors_5xx=0,
        answers=dict(Counter(answers)),
        successes=PAYMENTS,
        receipts=PAYMENTS,
        double_charges=0,
    )
