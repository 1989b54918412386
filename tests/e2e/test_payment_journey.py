"""Paying in a real browser: quote, pay through a channel that answers later,
watch the pending page settle, open and download the receipt, verify it on the
public page; and pay for a bound relative from the personal account."""

import datetime as dt
import re

import pytest
import time_machine

from core.money import format_yuan
from enrollment.models import EnrollmentStatus, PolicyCategory
from payments.models import Payment, PaymentStatus, Receipt
from tests import factories
from tests.payments.conftest import bind, employee_with_account, relative_enrollment

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def ordinary_premium(year=2027, region_code="340100"):
    """The policy table's price, which the server must charge."""
    return PolicyCategory.objects.get(
        policy__region_id=region_code, policy__year=year, category="ordinary"
    ).personal_amount


@pytest.fixture
def live_callbacks(settings, live_server):
    """The simulated channels call back the live server, as they would the portal."""
    settings.PORTAL_BASE_URL = live_server.url
    return live_server


def log_in(page, user):
    page.goto("/login/")
    page.locator("#id_username").fill(user.mobile)
    page.locator("#id_password").fill("pass-Word-123")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/")


def test_quote_pay_watch_it_settle_and_verify_the_receipt(
    new_page, shot, live_callbacks
):
    factories.policy("340100", 2027)
    user = factories.UserFactory(
        person__name="孙丽", person__region=factories.region("340100")
    )
    enrollment = factories.EnrollmentFactory(person=user.person, year=2027)
    with time_machine.travel(TODAY, tick=True):
        page = new_page()
        log_in(page, user)
        page.goto(f"/payments/pay/{enrollment.pk}/")
        quote = page.inner_text("main")
        assert (
            format_yuan(ordinary_premium()) in quote
        )  # 合肥 ordinary resident, priced by the server
        shot(page, "pay-quote-zh-1280")
        page.get_by_label("微信").check()
        page.get_by_role("button", name="确认缴费").click()
        page.wait_for_url(re.compile(r".*/payments/p/\d+/$"))
        # The page polls its status and shows the outcome in words once the channel answers.
        page.get_by_text("缴费成功").first.wait_for(timeout=20000)
        shot(page, "pay-result-zh-1280")

        payment = Payment.objects.get(order__insured=user.person)
        assert payment.status == PaymentStatus.SUCCESS
        enrollment.refresh_from_db()
        assert enrollment.status == EnrollmentStatus.ACTIVE

        page.get_by_role("link", name="查看电子缴费凭证").click()
        receipt = Receipt.objects.get(payment=payment)
        assert receipt.verification_code in page.inner_text("main")
        shot(page, "receipt-zh-1280")
        with page.expect_download() as download_info:
            page.get_by_role("link", name="下载PDF凭证").first.click()
        pdf = download_info.value.path().read_bytes()
        assert pdf.startswith(b"%PDF")

        # Anyone holding the code can verify it; the insured person is masked.
        stranger = new_page()
        stranger.goto(f"/payments/verify/?code={receipt.verification_code}")
        text = stranger.inner_text("main")
        assert receipt.number in text
        assert user.person.id_number not in stranger.content()
        shot(stranger, "receipt-verify-zh-1280")


def test_pay_for_a_bound_relative_from_the_personal_account(
    new_page, shot, live_callbacks
):
    factories.policy("340100", 2027)
    employee, account = employee_with_account("1000.00")
    relative = relative_enrollment(year=2027)
    bind(employee.person, relative.person)
    factories.family_link(employee.person, relative.person, "parent")
    with time_machine.travel(TODAY, tick=True):
        page = new_page()
        log_in(page, employee)
        page.goto(f"/payments/pay/{relative.pk}/")
        assert "¥1,000.00" in page.inner_text("main")  # the balance available
        page.get_by_label("个人账户（家庭共济）").check()
        shot(page, "pay-family-account-zh-1280")
        page.get_by_role("button", name="确认缴费").click()
        page.get_by_text("缴费成功").first.wait_for(timeout=20000)
    account.refresh_from_db()
    assert account.balance == 1000 - ordinary_premium()  # debited once
    assert (
        Payment.objects.filter(
            order__insured=relative.person, status=PaymentStatus.SUCCESS
        ).count()
        == 1
    )
