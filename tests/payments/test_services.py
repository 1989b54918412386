"""Payment services in-process: tasks eager, channel callbacks through the test client."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from core.errors import DomainError
from enrollment.models import EnrollmentStatus, Scheme
from payments import services, simulator
from payments.models import (
    AccountEntry,
    CallbackLog,
    Order,
    PaidPeriod,
    Payment,
    PaymentEvent,
    PaymentStatus,
    Receipt,
    Refund,
    SimTransaction,
)
from people.models import Notification
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory, region

from .conftest import bind, employee_with_account, relative_enrollment, signed_post

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC), tick=True):
        yield


def checkout(user, enrollment, key="k" * 20, channel="wechat", capture=None, **kwargs):
    with capture(execute=True):
        payment = services.payment_checkout(
            user=user,
            enrollment_id=enrollment.pk,
            channel=channel,
            idempotency_key=key,
            **kwargs,
        )
    payment.refresh_from_db()
    return payment


def test_online_payment_success_activates_enrollment_issues_receipt_and_notifies(
    citizen,
    resident_enrollment,
    callbacks_via_client,
    django_capture_on_commit_callbacks,
):
    payment = checkout(
        citizen, resident_enrollment, capture=django_capture_on_commit_callbacks
    )
    assert payment.status == PaymentStatus.SUCCESS
    assert [e.to_status for e in payment.events.all()] == [
        "created",
        "started",
        "submitted",
        "success",
    ] or [e.to_status for e in payment.events.all()] == [
        "created",
        "started",
        "success",
    ]
    resident_enrollment.refresh_from_db()
    assert resident_enrollment.status == EnrollmentStatus.ACTIVE
    receipt = Receipt.objects.get(payment=payment)
    assert receipt.amount == D("420.00") and len(receipt.verification_code) == 12
    assert Notification.objects.filter(person=citizen.person).exists()
    assert (
        SimTransaction.objects.filter(
            merchant_reference=payment.reference, charged=True
        ).count()
        == 1
    )


def test_intent_is_written_before_the_channel_is_called(citizen, resident_enrollment):
    # Without running the after-commit hooks nothing reaches the channel, yet the intent is on record.
    payment = services.payment_checkout(
        user=citizen,
        enrollment_id=resident_enrollment.pk,
        channel="alipay",
        idempotency_key="intent-key-000000",
    )
    assert payment.status == PaymentStatus.STARTED and payment.due_at is not None
    assert not SimTransaction.objects.exists()


def test_same_idempotency_key_returns_the_first_payment(
    citizen,
    resident_enrollment,
    callbacks_via_client,
    django_capture_on_commit_callbacks,
):
    first = checkout(
        citizen, resident_enrollment, capture=django_capture_on_commit_callbacks
    )
    second = checkout(
        citizen, resident_enrollment, capture=django_capture_on_commit_callbacks
    )
    assert first.pk == second.pk
    assert Order.objects.count() == 1 and Payment.objects.count() == 1


def test_second_payment_for_a_paid_year_is_refused_before_money_moves(
    citizen,
    resident_enrollment,
    callbacks_via_client,
    django_capture_on_commit_callbacks,
):
    checkout(citizen, resident_enrollment, capture=django_capture_on_commit_callbacks)
    with pytest.raises(DomainError) as caught:
        checkout(
            citizen,
            resident_enrollment,
            key="other-key-0000000",
            capture=django_capture_on_commit_callbacks,
        )
    assert caught.value.code == "already_paid"
    assert SimTransaction.objects.count() == 1


def test_second_attempt_while_one_is_in_flight_is_refused(citizen, resident_enrollment):
    services.payment_checkout(
        user=citizen,
        enrollment_id=resident_enrollment.pk,
        channel="bank",
        idempotency_key="a" * 20,
    )
    with pytest.raises(DomainError) as caught:
        services.payment_checkout(
            user=citizen,
            enrollment_id=resident_enrollment.pk,
            channel="wechat",
            idempotency_key="b" * 20,
        )
    assert caught.value.code == "in_flight"


def test_declined_payment_can_be_retried_as_a_new_attempt(
    citizen,
    resident_enrollment,
    callbacks_via_client,
    django_capture_on_commit_callbacks,
):
    simulator.script("wechat", "decline")
    failed = checkout(
        citizen, resident_enrollment, capture=django_capture_on_commit_callbacks
    )
    assert failed.status == PaymentStatus.FAILED and failed.failure_reason
    with django_capture_on_commit_callbacks(execute=True):
        retried = services.payment_retry(
            user=citizen,
            payment_id=failed.pk,
            channel="alipay",
            idempotency_key="retry-key-000000",
        )
    retried.refresh_from_db()
    assert retried.pk != failed.pk and retried.order_id == failed.order_id
    assert retried.status == PaymentStatus.SUCCESS


def test_silent_channel_is_settled_by_reconciliation(
    citizen,
    resident_enrollment,
    callbacks_via_client,
    django_capture_on_commit_callbacks,
):
    simulator.script("app", "silent")
    payment = checkout(
        citizen,
        resident_enrollment,
        channel="app",
        capture=django_capture_on_commit_callbacks,
    )
    assert payment.status == PaymentStatus.SUBMITTED
    Payment.objects.filter(pk=payment.pk).update(
        due_at=timezone.now() - dt.timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert services.payments_reconcile() == 1
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCESS
    assert PaymentEvent.objects.filter(
        payment=payment, to_status="success", source="reconcile"
    ).exists()


def test_an_intent_the_channel_never_received_ends_in_error_and_can_be_retried(
    citizen, resident_enrollment
):
    simulator.script("bank", "never")
    payment = services.payment_checkout(
        user=citizen,
        enrollment_id=resident_enrollment.pk,
        channel="bank",
        idempotency_key="never-key-000000",
    )
    Payment.objects.filter(pk=payment.pk).update(
        due_at=timezone.now() - dt.timedelta(seconds=1),
        created_at=timezone.now() - dt.timedelta(minutes=5),
    )
    services.payments_reconcile()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.ERROR and not SimTransaction.objects.exists()


def test_a_charge_completed_after_the_attempt_failed_is_refunded(
    citizen,
    resident_enrollment,
    callbacks_via_client,
    django_capture_on_commit_callbacks,
    client,
):
    simulator.script("wechat", "decline")
    failed = checkout(
        citizen, resident_enrollment, capture=django_capture_on_commit_callbacks
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.payment_retry(
            user=citizen,
            payment_id=failed.pk,
            channel="wechat",
            idempotency_key="r" * 20,
        )
    # The declined attempt's channel changes its mind and takes the money too.
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_post(
            client,
            "wechat",
            {
                "reference": failed.reference,
                "status": "success",
                "amount": "420.00",
                "seq": 5,
                "transaction_id": "LATE1",
            },
        )
    assert response.status_code == 200
    failed.refresh_from_db()
    assert failed.status == PaymentStatus.REFUNDED
    assert Refund.objects.get(payment=failed).status == "done"
    assert SimTransaction.objects.get(
        merchant_reference=failed.reference
    ).refunded_amount == D("420.00")
    assert Payment.objects.filter(status="success").count() == 1
    assert PaidPeriod.objects.count() == 1


def test_proxy_payment_records_payer_and_insured_and_notifies_both(
    resident_enrollment, callbacks_via_client, django_capture_on_commit_callbacks
):
    payer = UserFactory()
    payment = checkout(
        payer, resident_enrollment, capture=django_capture_on_commit_callbacks
    )
    assert (
        payment.order.payer_id == payer.person_id
        and payment.order.insured_id == resident_enrollment.person_id
    )
    assert Notification.objects.filter(person=payer.person).exists()
    assert Notification.objects.filter(person=resident_enrollment.person).exists()
    assert Receipt.objects.get(payment=payment).payer_name == payer.person.name


def test_family_account_payment_debits_in_the_same_transaction(
    django_capture_on_commit_callbacks,
):
    user, account = employee_with_account("500.00")
    enrollment = relative_enrollment()
    bind(user.person, enrollment.person)
    payment = checkout(
        user, enrollment, channel="account", capture=django_capture_on_commit_callbacks
    )
    assert payment.status == PaymentStatus.SUCCESS
    account.refresh_from_db()
    assert account.balance == D("80.00")
    assert AccountEntry.objects.get(
        reference=f"payment:{payment.reference}"
    ).amount == D("-420.00")


def test_family_account_payment_without_enough_balance_fails_and_moves_nothing(
    django_capture_on_commit_callbacks,
):
    user, account = employee_with_account("100.00")
    enrollment = relative_enrollment()
    bind(user.person, enrollment.person)
    payment = checkout(
        user, enrollment, channel="account", capture=django_capture_on_commit_callbacks
    )
    assert payment.status == PaymentStatus.FAILED
    account.refresh_from_db()
    assert account.balance == D("100.00") and not PaidPeriod.objects.exists()


def test_account_payment_needs_an_active_binding(django_capture_on_commit_callbacks):
    user, _account = employee_with_account("900.00")
    enrollment = relative_enrollment()
    with pytest.raises(DomainError) as caught:
        checkout(
            user,
            enrollment,
            channel="account",
            capture=django_capture_on_commit_callbacks,
        )
    assert caught.value.code == "no_binding"


def test_flexible_months_paid_activate_and_extend_coverage(
    citizen, callbacks_via_client, django_capture_on_commit_callbacks
):
    enrollment = EnrollmentFactory(
        person=citizen.person,
        scheme=Scheme.FLEXIBLE,
        category="",
        contribution_base=D("5000.00"),
    )
    payment = checkout(
        citizen, enrollment, months_ahead=2, capture=django_capture_on_commit_callbacks
    )
    assert payment.status == PaymentStatus.SUCCESS and payment.amount == D("800.00")
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE
    assert enrollment.coverage_end == dt.date(2026, 5, 31)
    assert set(PaidPeriod.objects.values_list("period", flat=True)) == {
        "2026-03",
        "2026-04",
    }


def test_counter_payment_by_staff_settles_at_once(
    resident_enrollment, django_capture_on_commit_callbacks
):
    from tests.factories import StaffFactory

    staff = StaffFactory()
    with django_capture_on_commit_callbacks(execute=True):
        payment = services.payment_counter(
            staff=staff,
            enrollment_id=resident_enrollment.pk,
            idempotency_key="counter-key-00000",
        )
    assert payment.status == PaymentStatus.SUCCESS and payment.channel == "counter"


def test_counter_payment_outside_the_staff_region_is_refused(resident_enrollment):
    from tests.factories import StaffFactory

    staff = StaffFactory(region=region("110000"))
    with pytest.raises(DomainError):
        services.payment_counter(
            staff=staff, enrollment_id=resident_enrollment.pk, idempotency_key="c" * 20
        )


def test_binding_needs_the_relatives_consent_and_unbinding_keeps_past_payments(
    django_capture_on_commit_callbacks,
):
    user, _account = employee_with_account("900.00")
    relative_user = UserFactory(person__region=region("340100"))
    binding = services.binding_request(
        authoriser=user.person,
        id_number=relative_user.person.id_number,
        name=relative_user.person.name,
        relation="parent",
    )
    assert binding.status == "pending"
    with pytest.raises(ObjectDoesNotExist):  # not the relative
        services.binding_consent(user=user, binding_id=binding.pk, accept=True)
    services.binding_consent(user=relative_user, binding_id=binding.pk, accept=True)
    enrollment = EnrollmentFactory(person=relative_user.person)
    payment = checkout(
        user, enrollment, channel="account", capture=django_capture_on_commit_callbacks
    )
    services.binding_unbind(user=user, binding_id=binding.pk)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCESS


def test_binding_is_limited_to_six_relatives_in_the_same_province():
    user, _account = employee_with_account("10.00")
    for _n in range(6):
        relative = PersonFactory(region=region("340100"))
        services.binding_request(
            authoriser=user.person,
            id_number=relative.id_number,
            name=relative.name,
            relation="sibling",
        )
    seventh = PersonFactory(region=region("340100"))
    with pytest.raises(DomainError) as caught:
        services.binding_request(
            authoriser=user.person,
            id_number=seventh.id_number,
            name=seventh.name,
            relation="sibling",
        )
    assert caught.value.code == "limit"
    far = PersonFactory(region=region("110000"))
    user2, _a = employee_with_account("10.00")
    with pytest.raises(DomainError) as caught:
        services.binding_request(
            authoriser=user2.person,
            id_number=far.id_number,
            name=far.name,
            relation="parent",
        )
    assert caught.value.code == "province"


def test_binding_needs_an_employee_insured_authoriser(citizen):
    relative = PersonFactory(region=region("340100"))
    with pytest.raises(DomainError) as caught:
        services.binding_request(
            authoriser=citizen.person,
            id_number=relative.id_number,
            name=relative.name,
            relation="parent",
        )
    assert caught.value.code == "not_employee"


def test_callback_log_keeps_every_received_nonce(
    citizen,
    resident_enrollment,
    callbacks_via_client,
    django_capture_on_commit_callbacks,
):
    checkout(citizen, resident_enrollment, capture=django_capture_on_commit_callbacks)
    assert CallbackLog.objects.count() == len(callbacks_via_client) >= 1


def test_repair_payment_shortens_the_waiting_period(
    citizen, callbacks_via_client, django_capture_on_commit_callbacks
):
    enrollment = EnrollmentFactory(person=citizen.person, gap_years=2, waiting_months=5)
    payment = checkout(
        citizen, enrollment, repair_years=2, capture=django_capture_on_commit_callbacks
    )
    assert payment.status == PaymentStatus.SUCCESS and payment.order.kind == "repair"
    enrollment.refresh_from_db()
    assert enrollment.repaired_years == 2 and enrollment.waiting_months < 5
