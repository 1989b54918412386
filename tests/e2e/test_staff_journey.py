"""A clerk's morning in a real browser: log in to the staff site, verify a
reduced category, handle an overdue transfer, take a counter payment, look
at the dashboard, register a person at the counter."""

import datetime as dt
import re

import pytest
import time_machine

from core.identity import make_id_number
from enrollment.models import Enrollment, Verification
from payments.models import Payment
from people.models import Role, StaffAccess
from tests import factories
from transfers.models import Transfer

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = dt.datetime(2026, 3, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def morning():
    hefei, qingdao = factories.region("340100"), factories.region("370200")
    factories.policy("340100", 2026)
    clerk = factories.StaffFactory(
        username="hefei_clerk", role=Role.CLERK, region=hefei
    )
    dibao = factories.EnrollmentFactory(
        person=factories.PersonFactory(region=hefei, name="低保户甲"),
        region=hefei,
        category="dibao",
        verification=Verification.PENDING,
    )
    payer = factories.EnrollmentFactory(
        person=factories.PersonFactory(region=hefei, name="窗口缴费乙"), region=hefei
    )
    overdue = Transfer.objects.create(
        person=factories.PersonFactory(region=hefei, name="转出丙"),
        kind=Transfer._meta.get_field("kind").choices[0][0],
        outgoing_region=hefei,
        incoming_region=qingdao,
        outgoing_deadline=dt.date(2026, 3, 18),
    )
    return clerk, dibao, payer, overdue


def test_clerk_verifies_a_category_handles_an_overdue_transfer_and_takes_a_counter_payment(
    new_page, shot, morning
):
    clerk, dibao, payer, overdue = morning
    with time_machine.travel(TODAY, tick=True):
        page = new_page()
        page.goto("/admin/")
        page.get_by_label("用户名").fill("hefei_clerk")
        page.get_by_label("密码").fill("pass-Word-123")
        page.get_by_role("button", name="登录").click()
        page.wait_for_url("**/admin/")
        assert "合肥" in page.inner_text("body")
        shot(page, "staff-index-zh-1280")

        # 1. Category verification: approve the 低保 enrollment.
        page.goto(
            f"/admin/enrollment/enrollment/?verification__exact={Verification.PENDING}"
        )
        page.locator(f"input[name=_selected_action][value='{dibao.pk}']").check()
        page.locator("select[name=action]").select_option("approve_category")
        shot(page, "staff-verify-category-zh-1280")
        page.locator("button[name=index]").first.click()
        page.wait_for_load_state()
        dibao.refresh_from_db()
        assert dibao.verification == Verification.APPROVED

        # 2. The overdue transfer is first in the outgoing queue; accept it.
        page.goto("/admin/transfers/outgoingqueue/")
        first_row = page.locator("#result_list tbody tr").first
        assert overdue.reference in first_row.inner_text()
        shot(page, "staff-transfer-queue-zh-1280")
        page.locator(f"input[name=_selected_action][value='{overdue.pk}']").check()
        page.locator("select[name=action]").select_option("action_accept")
        page.locator("button[name=index]").first.click()
        page.wait_for_load_state()
        overdue.refresh_from_db()
        assert overdue.status != "submitted"
        assert StaffAccess.objects.filter(
            person=overdue.person, staff=clerk, action="action"
        ).exists()

        # 3. Counter payment for a registered enrollment.
        # The clerk types the number the citizen holds (CB…), sees the amount,
        # then takes cash.
        page.goto("/admin/staff/counter/pay/")
        page.get_by_label("参保登记编号").fill(payer.reference)
        page.get_by_role("button", name="查看应缴金额").click()
        page.get_by_label("现金").check()
        shot(page, "staff-counter-payment-zh-1280")
        page.get_by_role("button", name=re.compile("确认入账")).click()
        page.wait_for_url("**/admin/staff/counter/receipt/*/")
        assert Payment.objects.filter(
            insured=payer.person, channel="counter", status="success"
        ).exists()
        assert Enrollment.objects.get(pk=payer.pk).status == "active"

        # 4. The dashboard shows the payment just taken.
        page.goto("/admin/staff/dashboard/")
        assert "经办窗口" in page.inner_text("#content-main")
        assert page.locator("svg.staff-chart").count() >= 1
        shot(page, "staff-dashboard-zh-1280")

        # 5. Register a person without an account (known to the registry).
        walk_in = make_id_number("340104", dt.date(1948, 2, 3), 42)
        factories.registry_person(name="刘奶奶", id_number=walk_in)
        page.goto("/admin/staff/counter/person/")
        page.get_by_label("姓名").fill("刘奶奶")
        page.get_by_label("身份证号").fill(walk_in)
        page.get_by_role("button", name="登记参保人").click()
        page.wait_for_url("**/admin/staff/counter/person/*/")
        assert "刘奶奶" in page.inner_text("#content")
        shot(page, "staff-counter-person-zh-1280")
