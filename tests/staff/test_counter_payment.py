"""窗口缴费 by the number the citizen holds (参保登记编号 CB…): the clerk sees
who, what and how much before 确认入账, and lands on a receipt to print."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from payments.models import CounterTender, Payment, PaymentStatus
from payments.services import quote_for_enrollment
from people.models import StaffAccess
from tests.factories import EnrollmentFactory, PersonFactory

URL = "staff:counter_pay"


@pytest.fixture
def unpaid(regions):
    person = PersonFactory(region=regions[0], name="窗口丁")
    return EnrollmentFactory(person=person, region=regions[0], year=2027)


def _check_page(client, enrollment, **extra):
    found = client.post(reverse(URL), {"number": enrollment.reference, **extra})
    assert found.status_code == 302
    # The number is in the next URL; no identity number ever is.
    assert enrollment.person.id_number not in found["Location"]
    return client.get(found["Location"])


def _confirm(client, page, **changes):
    data = {**page.context["form"].initial, "confirm": "1", "tender": "cash"}
    data.update(changes)
    return client.post(reverse(URL), {k: v for k, v in data.items() if v is not None})


def test_the_clerk_sees_person_period_and_amount_before_anything_is_taken(
    client, staff, unpaid
):
    client.force_login(staff["clerk"])
    page = _check_page(client, unpaid)
    assert page.status_code == 200
    quote = quote_for_enrollment(enrollment_id=unpaid.pk)
    text = page.content.decode()
    assert unpaid.person.id_masked in text and unpaid.person.id_number not in text
    assert "窗口丁" in text and "2027年度" in text
    assert f"¥{quote.total:,.2f}" in text
    assert f"¥{quote.subsidy:,.2f}" in text  # the breakdown: the subsidy not paid
    assert f"确认入账 ¥{quote.total:,.2f}" in text
    assert not Payment.objects.exists()


def test_confirming_takes_the_amount_shown_records_the_tender_and_shows_the_receipt(
    client, staff, unpaid
):
    client.force_login(staff["clerk"])
    page = _check_page(client, unpaid)
    shown = page.context["quote"].total
    response = _confirm(client, page, tender="card")
    payment = Payment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("staff:counter_receipt", args=[payment.pk])
    assert payment.status == PaymentStatus.SUCCESS and payment.amount == shown
    assert payment.channel == "counter" and payment.created_by == staff["clerk"]
    assert CounterTender.objects.get(payment=payment).method == "card"
    assert StaffAccess.objects.filter(
        person=unpaid.person,
        staff=staff["clerk"],
        action="action",
        what__contains=payment.reference,
    ).exists()

    receipt_page = client.get(response["Location"]).content.decode()
    assert payment.receipt.number in receipt_page
    assert f"¥{shown:,.2f}" in receipt_page and "刷卡" in receipt_page
    pdf_url = reverse("staff:counter_receipt_pdf", args=[payment.pk])
    assert pdf_url in receipt_page
    pdf = client.get(pdf_url)
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("inline")
    assert pdf.content.startswith(b"%PDF")


def test_the_internal_id_is_refused_with_the_number_to_type_instead(
    client, staff, unpaid
):
    client.force_login(staff["clerk"])
    response = client.post(reverse(URL), {"number": str(unpaid.pk)})
    assert response.status_code == 400
    assert "参保登记编号应为CB" in response.content.decode()


def test_a_number_typed_with_spaces_or_full_width_letters_is_found(
    client, staff, unpaid
):
    client.force_login(staff["clerk"])
    typed = "ＣＢ " + unpaid.reference[2:8] + " " + unpaid.reference[8:]
    response = client.post(reverse(URL), {"number": typed})
    assert response.status_code == 302
    assert client.get(response["Location"]).context["enrollment"] == unpaid


def test_another_regions_number_is_not_found_and_nothing_is_shown(
    client, staff, unpaid
):
    client.force_login(staff["clerk_bj"])
    response = client.get(reverse(URL), {"number": unpaid.reference})
    assert response.status_code == 404
    assert "窗口丁" not in response.content.decode()


def test_a_price_that_changed_after_the_check_page_takes_nothing(client, staff, unpaid):
    client.force_login(staff["clerk"])
    page = _check_page(client, unpaid)
    response = _confirm(client, page, expected_total="1.00")
    assert response.status_code == 400
    assert "应缴金额已变为" in response.content.decode()
    assert not Payment.objects.exists()
    # The page now shows the current amount with a fresh key to confirm it.
    assert response.context["form"].data["expected_total"] == str(
        page.context["quote"].total
    )


def test_confirming_without_choosing_cash_or_card_takes_nothing(client, staff, unpaid):
    client.force_login(staff["clerk"])
    page = _check_page(client, unpaid)
    response = _confirm(client, page, tender=None)
    assert response.status_code == 400
    assert "请选择收款方式" in response.content.decode()
    assert not Payment.objects.exists()


def test_pressing_confirm_twice_takes_one_payment(client, staff, unpaid):
    client.force_login(staff["clerk"])
    page = _check_page(client, unpaid)
    first = _confirm(client, page)
    second = _confirm(client, page)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Payment.objects.count() == 1 and CounterTender.objects.count() == 1


def test_a_paid_year_says_so_and_offers_no_confirmation(client, staff, unpaid):
    client.force_login(staff["clerk"])
    _confirm(client, _check_page(client, unpaid))
    again = client.get(reverse(URL), {"number": unpaid.reference})
    assert again.status_code == 200
    text = again.content.decode()
    assert "无需重复缴费" in text and "确认入账" not in text


def test_a_flexible_worker_pays_the_months_asked_for(client, staff, regions):
    enrollment = EnrollmentFactory(
        person=PersonFactory(region=regions[0]),
        region=regions[0],
        year=2027,
        scheme="flexible",
        category="",
        contribution_base=Decimal("5000.00"),
    )
    client.force_login(staff["clerk"])
    page = _check_page(client, enrollment, months=2)
    quote = page.context["quote"]
    assert quote.months == 2
    assert f"¥{quote.total:,.2f}" in page.content.decode()
    _confirm(client, page)
    assert Payment.objects.get().amount == quote.total


def test_auditors_take_no_payment(client, staff, unpaid):
    client.force_login(staff["auditor"])
    assert client.get(reverse(URL)).status_code == 403
    assert client.post(reverse(URL), {"number": unpaid.reference}).status_code == 403
    assert not Payment.objects.exists()


def test_the_payment_list_offers_the_counter_page(client, staff, regions):
    client.force_login(staff["clerk"])
    page = client.get(reverse("admin:payments_payment_changelist")).content.decode()
    assert reverse(URL) in page
