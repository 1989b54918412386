"""Staff pages: payments scoped to the staff member's region; counter entry through the service."""

import pytest
from django.urls import reverse

from payments import services
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
