"""Trust between adults in a real browser (SPEC §1a): 王小明 asks to act for
李娜, she sees the request and accepts, he pays her premium, she sees who did
it, she revokes, and he sees nothing of hers again."""

import datetime as dt
import re

import pytest
import time_machine

from enrollment.models import EnrollmentStatus
from payments.models import Payment, PaymentStatus
from people.models import AuthorityStatus, FamilyLink
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

# In the 2027 enrollment window (1 Sept – 31 Dec 2026).
TODAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def live_callbacks(settings, live_server):
    """The simulated channels call back the live server, as they would the portal."""
    settings.PORTAL_BASE_URL = live_server.url
    return live_server


def log_in(page, user):
    page.goto("/login/")
    page.get_by_label("手机号或用户名", exact=False).fill(user.mobile)
    page.locator("#id_password").fill("pass-Word-123")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    assert f"{user.person.name}，您好" in page.inner_text("main")


def test_ask_accept_pay_see_who_and_revoke(new_page, shot, live_callbacks):
    for year in (2026, 2027):
        factories.policy("340100", year)
    hefei = factories.region("340100")
    wang = factories.UserFactory(person__name="王小明", person__region=hefei)
    li = factories.UserFactory(
        person__name="李娜",
        person__region=hefei,
        person__sex="F",
        person__birth_date=dt.date(1988, 6, 2),
    )
    her_id = li.person.id_number
    enrollment = factories.EnrollmentFactory(person=li.person, year=2027)
    pay_url = f"/payments/pay/{enrollment.pk}/"
    seen = []  # every page's HTML, checked for her full number at the end

    def keep(page):
        seen.append((page.url, page.content()))

    with time_machine.travel(TODAY, tick=True):
        # 1. He asks.
        his = new_page()
        log_in(his, wang)
        his.goto("/family/")
        his.get_by_label("姓名", exact=False).fill("李娜")
        his.get_by_label("身份证号", exact=False).fill(her_id)
        his.get_by_label("与您的关系", exact=False).select_option("spouse")
        shot(his, "trust-request-zh-1280")
        his.get_by_role("button", name="发送授权申请").click()
        his.wait_for_url("**/family/")
        main = his.inner_text("main")
        assert "已向 李娜 发出授权申请" in main
        assert "对方同意前，您看不到对方的任何记录。" in main
        shot(his, "trust-request-sent-zh-1280")
        keep(his)

        # Until she agrees, nothing of hers is his to see or pay.
        his.goto("/enrollment/coverage/")
        assert "李娜" not in his.inner_text("main")
        keep(his)
        response = his.goto(pay_url)
        assert response.status == 404
        keep(his)

        # 2. She sees the request and accepts (her own browser).
        hers = new_page()
        log_in(hers, li)
        hers.get_by_role("link", name="消息", exact=True).click()
        hers.wait_for_url("**/inbox/")
        assert "王小明 申请代您办理医保业务" in hers.inner_text("main")
        shot(hers, "trust-inbox-request-zh-1280")
        keep(hers)
        hers.goto("/family/")
        given = hers.locator("ul[aria-labelledby=given]")
        assert "王小明" in given.inner_text()
        assert "王小明 申请代您办理，请选择同意的范围" in given.inner_text()
        # Each scope is a checkbox tied to its label, all ticked at first.
        assert given.get_by_label("缴费", exact=True).is_checked()
        assert given.get_by_label("查看参保和缴费记录").is_checked()
        shot(hers, "trust-decide-zh-1280")
        keep(hers)
        given.get_by_role("button", name="同意").click()
        hers.wait_for_url("**/family/")
        main = hers.inner_text("main")
        assert "您已同意 王小明 代您办理" in main
        assert "缴费" in main
        shot(hers, "trust-accepted-zh-1280")
        keep(hers)
        link = FamilyLink.objects.get(owner=wang.person, relative=li.person)
        assert link.status == AuthorityStatus.GRANTED

        # 3. He now sees her and pays her premium.
        his.goto("/enrollment/coverage/")
        coverage = his.locator("main").inner_text()
        assert "李娜" in coverage
        shot(his, "trust-coverage-zh-1280")
        keep(his)
        response = his.goto(pay_url)
        assert response.status == 200
        assert "李娜" in his.inner_text("main")
        keep(his)
        his.get_by_label("微信").check()
        his.get_by_role("button", name="确认缴费").click()
        his.wait_for_url(re.compile(r".*/payments/p/\d+/$"))
        his.get_by_text("缴费成功").first.wait_for(timeout=20000)
        shot(his, "trust-paid-zh-1280")
        keep(his)
        payment = Payment.objects.get(order__insured=li.person)
        assert payment.status == PaymentStatus.SUCCESS
        assert payment.order.payer_id == wang.person.pk
        enrollment.refresh_from_db()
        assert enrollment.status == EnrollmentStatus.ACTIVE

        # 4. She sees who did it.
        hers.goto("/inbox/")
        inbox = hers.inner_text("main")
        assert "王小明 代您办理了" in inbox
        proxies = hers.locator("h3", has_text="家人代办").locator(
            "xpath=following-sibling::*[1]"
        )
        assert "王小明" in proxies.inner_text()
        shot(hers, "trust-inbox-paid-zh-1280")
        keep(hers)

        # 5. She revokes; at once he sees nothing of hers again.
        hers.goto("/family/")
        hers.locator("ul[aria-labelledby=given]").get_by_role(
            "button", name="解除授权"
        ).click()
        hers.wait_for_url("**/family/")
        assert "已解除与 王小明 的代办授权，即时生效。" in hers.inner_text("main")
        shot(hers, "trust-revoked-zh-1280")
        keep(hers)

        response = his.goto(pay_url)
        assert response.status == 404
        keep(his)
        his.goto("/enrollment/coverage/")
        assert "李娜" not in his.inner_text("main")
        keep(his)
        his.goto("/family/")
        keep(his)

    # Her full identity number never reached any page, only masked.
    leaked = [url for url, html in seen if her_id in html]
    assert not leaked, f"full identity number in: {leaked}"
