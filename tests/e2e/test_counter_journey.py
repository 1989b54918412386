"""A clerk's walk-in at the counter, in a real browser: register the person,
find them again, take a cash payment by the number they hold (seeing the
amount before confirming), open the receipt to print, then see the day."""

import datetime as dt

import pytest
import time_machine

from core.identity import make_id_number
from enrollment.models import Enrollment
from payments.models import CounterTender, Payment
from payments.services import quote_for_enrollment
from people.models import Person, Role, StaffAccess
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

NOW = dt.datetime(2026, 11, 3, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def counter():
    hefei = factories.region("340100")
    factories.policy("340100", 2027)
    clerk = factories.StaffFactory(
        username="hefei_counter", role=Role.CLERK, region=hefei
    )
    number = make_id_number("340104", dt.date(1952, 6, 18), 27)
    # A resident the population registry knows, with no record in the portal yet.
    factories.registry_person(name="陈大爷", id_number=number)
    return clerk, number


def test_clerk_registers_finds_and_takes_a_cash_payment_then_sees_the_day(
    new_page, shot, counter
):
    clerk, number = counter
    with time_machine.travel(NOW, tick=True):
        page = new_page()
        page.goto("/admin/")
        page.get_by_label("用户名").fill("hefei_counter")
        page.get_by_label("密码").fill("pass-Word-123")
        page.get_by_role("button", name="登录").click()
        page.wait_for_url("**/admin/")

        # The counter is the first link of the staff site.
        page.get_by_role("link", name="窗口工作台：查找参保人").click()
        page.wait_for_url("**/admin/staff/counter/")

        # 1. Register the walk-in; the clerk lands on their page.
        page.get_by_role("link", name="登记参保人").first.click()
        page.get_by_label("姓名").fill("陈大爷")
        page.get_by_label("身份证号").fill(number)
        page.get_by_role("button", name="登记参保人").click()
        page.wait_for_url("**/admin/staff/counter/person/*/")
        person = Person.objects.get(id_number=number)
        assert "陈大爷" in page.inner_text("#content")

        # The registration for next year is made for them (the enrollment
        # pages are another part of the portal); its number is what they hold.
        enrollment = factories.EnrollmentFactory(
            person=person, region=person.region, year=2027
        )
        amount = quote_for_enrollment(enrollment_id=enrollment.pk).total
        shown_amount = f"¥{amount:,.2f}"

        # 2. Find them again by identity number: posted, never in the URL.
        page.goto("/admin/staff/counter/")
        page.get_by_label("身份证号、参保登记编号或缴费凭证号").fill(number.lower())
        page.get_by_role("button", name="查找").click()
        page.wait_for_url(f"**/admin/staff/counter/person/{person.pk}/")
        assert number not in page.url
        content = page.inner_text("#content")
        assert enrollment.reference in content and person.id_masked in content
        assert number not in content
        shot(page, "staff-counter-person-zh-1280")

        # 3. Take the payment from the person's page: the amount before confirming.
        page.get_by_role("link", name="收费：2027年度 城乡居民医保").click()
        page.wait_for_url("**/admin/staff/counter/pay/?number=*")
        assert page.inner_text("#quote-total") == shown_amount
        assert not Payment.objects.exists()
        shot(page, "staff-counter-pay-check-zh-1280")
        page.get_by_label("现金").check()
        page.get_by_role("button", name=f"确认入账 {shown_amount}").click()
        page.wait_for_url("**/admin/staff/counter/receipt/*/")
        payment = Payment.objects.get(insured=person)
        assert payment.status == "success" and payment.amount == amount
        assert CounterTender.objects.get(payment=payment).method == "cash"
        assert Enrollment.objects.get(pk=enrollment.pk).status == "active"
        receipt_text = page.inner_text("#content")
        assert payment.receipt.number in receipt_text and shown_amount in receipt_text
        shot(page, "staff-counter-receipt-zh-1280")

        # 4. The receipt to print: the PDF opens in the browser.
        pdf_link = page.get_by_role("link", name="打印凭证（PDF）")
        response = page.request.get(pdf_link.get_attribute("href"))
        assert response.ok and response.headers["content-type"] == "application/pdf"
        assert response.body().startswith(b"%PDF")

        # 5. The clerk's day: one cash payment, its sum and its receipt.
        page.get_by_role("link", name="我的今日收费").last.click()
        page.wait_for_url("**/admin/staff/counter/day/")
        day = page.inner_text("#content")
        assert "现金" in day and shown_amount in day and payment.receipt.number in day
        shot(page, "staff-counter-day-zh-1280")

        assert StaffAccess.objects.filter(
            person=person, staff=clerk, action="action", what__contains="窗口缴费入账"
        ).exists()
