"""A clerk's walk-in at the counter, in a real browser: register the person
(the population registry knows them), enroll them for next year with check
your answers, print the registration slip, take cash by the number on it
(seeing the amount before confirming), print the receipt; then file a
异地就医备案 for the family member who came with them, print its
certificate, and see the day."""

import datetime as dt

import pytest
import time_machine

from core.identity import make_id_number
from enrollment.models import Enrollment
from payments.models import CounterTender, DayClose, Payment
from payments.services import quote_for_enrollment
from people.models import Person, Role, StaffAccess
from records.models import Filing
from tests import factories
from tests.records.conftest import covered

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
    # His wife, insured in 合肥 through 2026, who will be treated in 北京.
    wife = factories.PersonFactory(
        name="王秀英", birth_date=dt.date(1954, 3, 9), sex="F", region=hefei
    )
    covered(wife)
    return clerk, number, wife


def _pdf(page, link_name):
    link = page.get_by_role("link", name=link_name)
    response = page.request.get(link.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")


def _find(page, number):
    page.goto("/admin/staff/counter/")
    page.get_by_label("身份证号、参保登记编号或缴费凭证号").fill(number.lower())
    page.get_by_role("button", name="查找").click()
    page.wait_for_url("**/admin/staff/counter/person/*/")
    assert number not in page.url


def test_clerk_enrolls_a_walk_in_takes_cash_files_for_a_relative_and_sees_the_day(
    new_page, shot, counter
):
    clerk, number, wife = counter
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

        # 1. Register the walk-in (checked with the population registry).
        page.get_by_role("link", name="登记参保人").first.click()
        page.get_by_label("姓名").fill("陈大爷")
        page.get_by_label("身份证号").fill(number)
        page.get_by_role("button", name="登记参保人").click()
        page.wait_for_url("**/admin/staff/counter/person/*/")
        person = Person.objects.get(id_number=number)
        assert "没有参保登记" in page.inner_text("#content")

        # 2. Look them up again by identity number: posted, never in the URL.
        _find(page, number)
        content = page.inner_text("#content")
        assert "陈大爷" in content and person.id_masked in content
        assert number not in content
        shot(page, "staff-counter-walk-in-zh-1280")

        # 3. 办理参保登记: year and category, then check your answers.
        page.get_by_role("link", name="办理参保登记").click()
        page.wait_for_url(f"**/admin/staff/counter/person/{person.pk}/enroll/")
        page.get_by_label("待遇年度").select_option("2027")
        page.get_by_label("人员类别").select_option("ordinary")
        shot(page, "staff-counter-enroll-zh-1280")
        page.get_by_role("button", name="查看应缴金额").click()
        amount_text = page.inner_text("#enroll-amount")
        check = page.inner_text("#content")
        assert "2027年1月1日" in check and person.id_masked in check
        assert not Enrollment.objects.filter(person=person).exists()
        shot(page, "staff-counter-enroll-check-zh-1280")
        page.get_by_role("button", name="确认登记").click()
        page.wait_for_url("**/admin/staff/counter/enrollment/*/")
        enrollment = Enrollment.objects.get(person=person, year=2027)
        assert enrollment.registered_by == clerk
        amount = quote_for_enrollment(enrollment_id=enrollment.pk).total
        shown_amount = f"¥{amount:,.2f}"
        assert amount_text == shown_amount
        assert page.inner_text("#enrollment-reference") == enrollment.reference
        shot(page, "staff-counter-enrolled-zh-1280")

        # 4. The registration slip to print.
        _pdf(page, "打印参保登记回执（PDF）")

        # 5. Take cash, one click away: the amount before confirming.
        page.get_by_role("link", name=f"收费 {shown_amount}").click()
        page.wait_for_url("**/admin/staff/counter/pay/?number=*")
        assert page.inner_text("#quote-total") == shown_amount
        assert not Payment.objects.exists()
        page.get_by_label("现金").check()
        shot(page, "staff-counter-pay-check-zh-1280")
        page.get_by_role("button", name=f"确认入账 {shown_amount}").click()
        page.wait_for_url("**/admin/staff/counter/receipt/*/")
        payment = Payment.objects.get(insured=person)
        assert payment.status == "success" and payment.amount == amount
        assert CounterTender.objects.get(payment=payment).method == "cash"
        assert Enrollment.objects.get(pk=enrollment.pk).status == "active"
        receipt_text = page.inner_text("#content")
        assert payment.receipt.number in receipt_text and shown_amount in receipt_text
        shot(page, "staff-counter-receipt-zh-1280")

        # 6. The receipt to print: the PDF opens in the browser.
        _pdf(page, "打印凭证（PDF）")

        # 7. His wife, covered this year, will be treated in 北京: the clerk
        # looks her up and files a 异地就医备案 (referral) from her page.
        _find(page, wife.id_number)
        page.get_by_role("link", name="办理异地就医备案").click()
        page.wait_for_url(f"**/admin/staff/counter/person/{wife.pk}/filing/")
        page.get_by_label("转诊转院").check()
        page.locator("#id_destination").select_option("110000")
        page.get_by_label("核验的材料").fill(
            "身份证原件；转诊证明（安徽医科大学第一附属医院）"
        )
        shot(page, "staff-counter-filing-zh-1280")
        page.get_by_role("button", name="继续").click()
        check = page.inner_text("#content")
        assert "北京市" in check and "2027年5月2日" in check
        assert not Filing.objects.exists()
        shot(page, "staff-counter-filing-check-zh-1280")
        page.get_by_role("button", name="确认备案").click()
        page.wait_for_url("**/admin/staff/counter/filing/*/")
        filing = Filing.objects.get(person=wife)
        assert filing.channel == "counter" and filing.applicant == clerk
        assert page.inner_text("#filing-number") == filing.number
        shot(page, "staff-counter-filed-zh-1280")
        _pdf(page, "打印备案凭证（PDF）")

        # 8. The clerk's day: one cash payment, its sum and its receipt.
        page.goto("/admin/staff/counter/")
        page.get_by_role("link", name="我的今日收费").click()
        page.wait_for_url("**/admin/staff/counter/day/")
        day = page.inner_text("#content")
        assert "现金" in day and shown_amount in day and payment.receipt.number in day
        shot(page, "staff-counter-day-zh-1280")

        # Each act is in the person's "who looked at my record", with the clerk.
        for who, what in (
            (person, "窗口参保登记"),
            (person, "窗口缴费入账"),
            (wife, "窗口异地就医备案"),
        ):
            assert StaffAccess.objects.filter(
                person=who, staff=clerk, action="action", what__contains=what
            ).exists(), what

        # 9. The supervisor closes the clerk's day against the receipts (日结对账).
        factories.StaffFactory(
            username="hefei_supervisor_e2e",
            role=Role.SUPERVISOR,
            region=clerk.region,
        )
        boss = new_page()
        boss.goto("/admin/")
        boss.get_by_label("用户名").fill("hefei_supervisor_e2e")
        boss.get_by_label("密码").fill("pass-Word-123")
        boss.get_by_role("button", name="登录").click()
        boss.wait_for_url("**/admin/")
        boss.goto("/admin/staff/counter/day-close/")
        section = boss.locator("section", has_text="hefei_counter")
        assert "一致" in section.inner_text() and shown_amount in section.inner_text()
        section.get_by_label("实收现金", exact=False).fill(f"{amount:.2f}")
        section.get_by_label("刷卡结算金额", exact=False).fill("0")
        shot(boss, "staff-day-close-zh-1280")
        section.get_by_role("button", name="确认日结").click()
        boss.wait_for_load_state()
        closed = DayClose.objects.get(clerk=clerk)
        assert closed.difference == 0 and closed.payments_total == amount
        assert "已日结" in boss.inner_text("#content")
