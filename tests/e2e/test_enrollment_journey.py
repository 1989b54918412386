"""A citizen's first visit in a real browser: sign up, add a family member,
enroll them in residents' insurance, see the coverage page."""

import datetime as dt

import pytest
import time_machine

from core.identity import make_id_number
from tests import factories
from tests.e2e.conftest import PHONE, no_horizontal_scroll, overflowing, sms_code

pytestmark = pytest.mark.django_db(transaction=True)

# In the 2027 enrollment window (1 Sept – 31 Dec 2026).
TODAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def hefei_2027():
    for year in (2026, 2027):
        factories.policy("340100", year)


def test_sign_up_enroll_a_family_member_and_see_coverage(new_page, shot, hefei_2027):
    own_id = make_id_number("340104", dt.date(1986, 4, 15), 131)
    child_id = make_id_number("340104", dt.date(2016, 9, 1), 152)
    factories.registry_person(name="周明", id_number=own_id)
    factories.registry_person(
        name="周小雨",
        id_number=child_id,
        birth_certificate="Q340777001",
        father_id_number=own_id,
    )
    with time_machine.travel(TODAY, tick=True):
        page = new_page()
        page.goto("/")
        shot(page, "home-zh-1280")
        page.get_by_role("link", name="注册账号").click()
        # Fields by their labels: the labels are tied to the inputs.
        page.get_by_label("姓名").fill("周明")
        page.get_by_label("身份证号").fill(own_id)
        page.get_by_label("手机号").fill("13912345678")
        shot(page, "signup-zh-1280")
        page.get_by_role("button", name="获取短信验证码").click()
        page.wait_for_url("**/signup/verify/")
        page.get_by_label("短信验证码").fill(sms_code("13912345678"))
        page.locator("#id_password1").fill("Yibao-pass-2026")
        page.get_by_label("再次输入密码").fill("Yibao-pass-2026")
        shot(page, "signup-code-zh-1280")
        page.get_by_role("button", name="注册").click()
        page.wait_for_url("**/")
        assert "周明，您好" in page.inner_text("main")

        page.goto("/family/")
        page.get_by_label("姓名").fill("周小雨")
        page.get_by_label("身份证号").fill(child_id)
        page.get_by_label("与您的关系").select_option("child")
        page.get_by_label("出生医学证明编号（未成年子女填写）").fill("Q340777001")
        page.get_by_role("button", name="发送授权申请").click()
        assert "周小雨" in page.inner_text("main")
        # Masked wherever shown: the full number never appears on the page.
        assert child_id not in page.content()

        page.goto("/enrollment/resident/")
        page.get_by_label("为谁登记").select_option(
            label=page.locator("#id_person option", has_text="周小雨").inner_text()
        )
        page.get_by_label("待遇年度").select_option("2027")
        page.get_by_label("参保地（统筹区）").select_option("340100")
        page.get_by_label("人员类别").select_option("ordinary")
        shot(page, "enroll-resident-zh-1280")
        page.get_by_role("button", name="继续").click()
        assert "¥400.00" in page.inner_text("main") or "¥" in page.inner_text("main")
        shot(page, "enroll-check-zh-1280")
        page.get_by_role("button", name="确认登记").click()
        page.wait_for_url("**/done/")
        shot(page, "enroll-done-zh-1280")

        page.goto("/enrollment/coverage/")
        coverage = page.inner_text("main")
        assert "周小雨" in coverage and "2027" in coverage
        shot(page, "coverage-zh-1280")


def test_pages_fit_a_phone_in_both_languages(new_page, shot, hefei_2027):
    user = factories.UserFactory(person__name="钱芳")
    factories.family_link(
        user.person,
        factories.PersonFactory(name="钱小朵", birth_date=dt.date(2018, 3, 3)),
    )
    with time_machine.travel(TODAY, tick=True):
        for language in ("zh", "en"):
            page = new_page(viewport=PHONE)
            page.goto("/login/")
            if language == "en":
                page.get_by_role("button", name="English").click()
                assert page.locator("html").get_attribute("lang") == "en"
            else:
                assert page.locator("html").get_attribute("lang") == "zh-Hans"
            page.locator("#id_username").fill(user.mobile)
            page.locator("#id_password").fill("pass-Word-123")
            page.locator("form button[type=submit]").last.click()
            page.wait_for_url("**/")
            for path, name in (
                ("/", "home"),
                ("/enrollment/", "enroll-start"),
                ("/enrollment/coverage/", "coverage"),
                ("/family/", "family"),
            ):
                page.goto(path)
                assert no_horizontal_scroll(page), (
                    f"{path} scrolls sideways at 390 px ({language}): {overflowing(page)}"
                )
                shot(page, f"{name}-{language}-390")
