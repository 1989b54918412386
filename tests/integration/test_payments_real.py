"""Payments on PostgreSQL + Redis with real worker processes and the simulated
channels calling back over HTTP (pytest-django's live_server)."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from core.errors import DomainError
from enrollment.models import Scheme
from payments import services, simulator
from payments.models import (
    AccountEntry,
    BindingStatus,
    FamilyBinding,
    Payment,
    PaymentStatus,
    PersonalAccount,
    Receipt,
    Refund,
    SimTransaction,
)
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory, region

from .conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal


def simultaneously(n, work):
    """Run work(i) in n threads released together; return (results, errors)."""
    barrier = threading.Barrier(n)
    results, errors = [], []
    lock = threading.Lock()

    def run(i):
        try:
            barrier.wait()
            value = work(i)
            with lock:
                results.append(value)
        except Exception as exc:  # noqa: BLE001 - collected and asserted on
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


@pytest.fixture
def worker(start_worker, live_server):
    return start_worker(PORTAL_BASE_URL=live_server.url)


@pytest.fixture
def citizen_enrollment(db):
    user = UserFactory(person__region=region("340100"))
    return user, EnrollmentFactory(person=user.person, year=2026)


def status_of(payment_id):
    return Payment.objects.get(pk=payment_id).status


def test_twenty_submissions_with_one_key_give_one_success_and_one_charge(
    worker, citizen_enrollment
):
    user, enrollment = citizen_enrollment
    results, errors = simultaneously(
        20,
        lambda i: (
            services.payment_checkout(
                user=user,
                enrollment_id=enrollment.pk,
                channel="wechat",
                idempotency_key="same-key-for-all-20",
            ).pk
        ),
    )
    assert not errors and len(set(results)) == 1
    wait_until(
        lambda: status_of(results[0]) == PaymentStatus.SUCCESS,
        message="the payment to succeed",
    )
    assert Payment.objects.count() == 1
    assert SimTransaction.objects.filter(charged=True).count() == 1
    assert Receipt.objects.count() == 1


def test_twenty_submissions_with_different_keys_give_one_success_and_one_charge(
    worker, citizen_enrollment
):
    user, enrollment = citizen_enrollment
    results, errors = simultaneously(
        20,
        lambda i: (
            services.payment_checkout(
                user=user,
                enrollment_id=enrollment.pk,
                channel="alipay",
                idempotency_key=f"different-key-{i:04d}-xx",
            ).pk
        ),
    )
    assert len(results) == 1 and len(errors) == 19
    assert all(isinstance(error, DomainError) for error in errors)
    wait_until(
        lambda: status_of(results[0]) == PaymentStatus.SUCCESS,
        message="the payment to succeed",
    )
    assert Payment.objects.filter(status="success").count() == 1
    assert SimTransaction.objects.filter(charged=True).count() == 1


def test_twenty_family_payments_against_a_balance_for_three_give_exactly_three():
    employee = UserFactory(person__region=region("340100"))
    EnrollmentFactory(
        person=employee.person, scheme=Scheme.EMPLOYEE, category="", status="active"
    )
    account = PersonalAccount.objects.create(person=employee.person, region_id="340100")
    # Premiums 2026–2030 are 420…500: any three fit in 1,500.00, no four do.
    services.account_post(
        account_id=account.pk,
        amount=D("1500.00"),
        kind="contribution",
        reference="seed",
    )
    enrollments = []
    for _n in range(4):
        relative = PersonFactory(region=region("340100"))
        FamilyBinding.objects.create(
            authoriser=employee.person,
            relative=relative,
            relation="parent",
            status=BindingStatus.ACTIVE,
        )
        enrollments += [
            EnrollmentFactory(person=relative, year=year) for year in range(2026, 2031)
        ]
    results, errors = simultaneously(
        20,
        lambda i: (
            services.payment_checkout(
                user=employee,
                enrollment_id=enrollments[i].pk,
                channel="account",
                idempotency_key=f"family-key-{i:04d}-x",
            ).status
        ),
    )
    assert not errors
    assert sorted(results).count(PaymentStatus.SUCCESS) == 3
    assert results.count(PaymentStatus.FAILED) == 17
    account.refresh_from_db()
    entries = AccountEntry.objects.filter(account=account)
    assert account.balance >= 0 and account.balance == sum(e.amount for e in entries)
    assert all(e.balance_after >= 0 for e in entries)


def test_success_end_to_end(worker, citizen_enrollment):
    user, enrollment = citizen_enrollment
    simulator.script("app", "twice", delay=0.3)
    with transaction.atomic():
        payment = services.payment_checkout(
            user=user,
            enrollment_id=enrollment.pk,
            channel="app",
            idempotency_key="e2e-success-key-0",
        )
    wait_until(
        lambda: status_of(payment.pk) == PaymentStatus.SUCCESS, message="success"
    )
    enrollment.refresh_from_db()
    assert enrollment.status == "active"
    # The channel answered twice: both callbacks arrived, one receipt, one charge.
    wait_until(lambda: payment.callbacks.count() == 2, message="the second callback")
    assert Receipt.objects.filter(payment=payment).count() == 1


def test_decline_then_retry_end_to_end(worker, citizen_enrollment):
    user, enrollment = citizen_enrollment
    simulator.script("bank", "decline", delay=0.2)
    first = services.payment_checkout(
        user=user,
        enrollment_id=enrollment.pk,
        channel="bank",
        idempotency_key="e2e-decline-key-0",
    )
    wait_until(
        lambda: status_of(first.pk) == PaymentStatus.FAILED, message="the decline"
    )
    second = services.payment_retry(
        user=user,
        payment_id=first.pk,
        channel="bank",
        idempotency_key="e2e-retry-key-000",
    )
    wait_until(
        lambda: status_of(second.pk) == PaymentStatus.SUCCESS,
        message="the retry to succeed",
    )
    assert SimTransaction.objects.filter(charged=True).count() == 1


def test_no_answer_then_reconciliation_end_to_end(worker, citizen_enrollment):
    user, enrollment = citizen_enrollment
    simulator.script("wechat", "silent", delay=0.2)
    payment = services.payment_checkout(
        user=user,
        enrollment_id=enrollment.pk,
        channel="wechat",
        idempotency_key="e2e-silent-key-00",
    )
    wait_until(
        lambda: SimTransaction.objects.filter(
            merchant_reference=payment.reference, charged=True
        ).exists(),
        message="the silent charge",
    )
    assert status_of(payment.pk) in (PaymentStatus.STARTED, PaymentStatus.SUBMITTED)
    Payment.objects.filter(pk=payment.pk).update(due_at=timezone.now())
    from portal.celery import app

    app.send_task("payments.tasks.payments_reconcile")
    wait_until(
        lambda: status_of(payment.pk) == PaymentStatus.SUCCESS, message="reconciliation"
    )


def test_duplicate_then_refund_end_to_end(worker, citizen_enrollment):
    user, enrollment = citizen_enrollment
    simulator.script("alipay", "late_charge", delay=0.2)
    first = services.payment_checkout(
        user=user,
        enrollment_id=enrollment.pk,
        channel="alipay",
        idempotency_key="e2e-late-key-0000",
    )
    wait_until(
        lambda: status_of(first.pk) == PaymentStatus.FAILED, message="the decline"
    )
    second = services.payment_retry(
        user=user,
        payment_id=first.pk,
        channel="alipay",
        idempotency_key="e2e-late-retry-00",
    )
    wait_until(
        lambda: status_of(second.pk) == PaymentStatus.SUCCESS, message="the retry"
    )
    # The first attempt's channel takes the money anyway: it is refunded.
    wait_until(
        lambda: status_of(first.pk) == PaymentStatus.REFUNDED, message="the refund"
    )
    refund = Refund.objects.get(payment=first)
    assert refund.status == "done" and refund.amount == first.amount
    assert (
        SimTransaction.objects.get(merchant_reference=first.reference).refunded_amount
        == first.amount
    )
    assert list(first.events.values_list("to_status", flat=True))[-2:] == [
        "refund_pending",
        "refunded",
    ]
    assert Payment.objects.filter(status="success").count() == 1
