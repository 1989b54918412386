"""Staff pages: payments scoped to the staff member's region; counter entry through the service."""

import pytest
from django.urls import reverse

from payments import services
from payments.models import Payment, PaymentStatus
from tests.factories import EnrollmentFactory, PersonFactory, StaffFactory, region

pytestmark = pytest.mark.django_db


def enrollment_in(code):
    return EnrollmentFactory(
        person=PersonFactory(region=region(code)), region=region(code)
    )


def counter_paid(code):
    staff = StaffFactory(region=region(code))
    return services.payment_counter(
        staff=staff,
        enrollment_id=enrollment_in(code).pk,
        idempotency_key=f"admin-key-{code}-xxxxxxx",
    )


def test_staff_see_only_their_regions_payments(client):
    hefei, beijing = counter_paid("340100"), counter_paid("110000")
    clerk = StaffFactory(region=region("340100"))
    client.force_login(clerk)
    listing = client.get(reverse("admin:payments_payment_changelist"))
    assert listing.status_code == 200
    assert (
        hefei.reference in listing.content.decode()
        and beijing.reference not in listing.content.decode()
    )
    other = client.get(reverse("admin:payments_payment_change", args=[beijing.pk]))
    assert other.status_code in (302, 404)


def test_attention_filters_answer(client):
    counter_paid("340100")
    client.force_login(StaffFactory(region=region("340100")))
    for value in ("failed", "pending", "refund"):
        assert (
            client.get(
                reverse("admin:payments_payment_changelist"), {"attention": value}
            ).status_code
            == 200
        )


def test_clerk_enters_a_counter_payment_that_settles_at_once(client):
    enrollment = enrollment_in("340100")
    client.force_login(StaffFactory(region=region("340100")))
    url = reverse("admin:payments_counter")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "enrollment_id": enrollment.pk,
            "id_number": enrollment.person.id_number,
            "months": 1,
            "idempotency_key": "counter-form-key-0001",
        },
    )
    assert response.status_code == 302
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.SUCCESS and payment.channel == "counter"


def test_counter_entry_with_a_mismatched_id_number_writes_nothing(client):
    enrollment = enrollment_in("340100")
    client.force_login(StaffFactory(region=region("340100")))
    response = client.post(
        reverse("admin:payments_counter"),
        {
            "enrollment_id": enrollment.pk,
            "id_number": PersonFactory().id_number,
            "months": 1,
            "idempotency_key": "counter-form-key-0002",
        },
    )
    assert response.status_code == 400 and not Payment.objects.exists()


def test_auditors_cannot_enter_counter_payments(client):
    client.force_login(StaffFactory(role="auditor", region=None))
    assert client.get(reverse("admin:payments_counter")).status_code == 403
