"""The invariant checks themselves: quiet on a consistent database, and each
tampering is caught (so a clean load or fault run means something)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from payments import services
from payments.models import AccountEntry, PaidPeriod, Payment, PersonalAccount, Receipt
from tests.factories import EnrollmentFactory, StaffFactory, UserFactory, region
from tests.load.invariants import broken, totals, violations

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(db):
    user = UserFactory(person__region=region("340100"))
    enrollment = EnrollmentFactory(person=user.person, year=2026)
    payment = services.payment_counter(
        staff=StaffFactory(),
        enrollment_id=enrollment.pk,
        idempotency_key="invariants-key-0001",
    )
    account = PersonalAccount.objects.create(person=user.person, region_id="340100")
    services.account_post(
        account_id=account.pk,
        amount=Decimal("100.00"),
        kind="contribution",
        reference="seed:x",
    )
    return payment, account


def test_a_consistent_database_breaks_no_invariant(paid):
    assert broken(violations()) == {}
    assert totals()["receipts"] == 1


def test_a_success_without_its_receipt_is_caught(paid):
    Receipt.objects.all().delete()
    assert set(broken(violations())) == {"success_without_one_receipt"}


def test_a_period_paid_twice_is_caught(paid):
    payment, _account = paid
    PaidPeriod.objects.all().delete()
    assert "success_without_paid_period" in broken(violations())


def test_a_ledger_out_of_balance_is_caught_and_money_is_not_conserved(paid):
    _payment, account = paid
    PersonalAccount.objects.filter(pk=account.pk).update(balance=Decimal("90.00"))
    found = broken(violations())
    assert {"balance_not_sum_of_entries", "money_not_conserved"} <= set(found)


def test_a_second_success_for_one_period_cannot_even_be_written(paid):
    """The database refuses it (a unique constraint), before any check could."""
    payment, _account = paid
    twin = Payment.objects.get(pk=payment.pk)
    twin.pk, twin.reference, twin.idempotency_key = (
        None,
        "PTWIN000000000000",
        "invariants-key-twin",
    )
    twin.provider_transaction_id = "CTRTWIN"
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()
    assert broken(violations()) == {}


def test_an_entry_posted_without_moving_the_balance_is_caught(paid):
    _payment, account = paid
    AccountEntry.objects.create(
        account=account,
        amount=Decimal("-5.00"),
        kind="adjustment",
        reference="lost",
        balance_after=Decimal("95.00"),
    )
    assert "balance_not_sum_of_entries" in broken(violations())
