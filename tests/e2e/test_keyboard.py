"""A citizen without a mouse: sign up (both steps), register for residents'
insurance and pay for it with the keyboard alone (Tab, Shift+Tab, Enter,
Space, arrow keys), seeing at every stop where the focus is (UX.md: every
action reachable by keyboard, visible focus)."""

import datetime as dt
import re

import pytest
import time_machine

from core.identity import make_id_number
from enrollment.models import Enrollment, EnrollmentStatus
from payments.models import Payment, PaymentStatus
from people.models import User
from tests import factories
from tests.e2e.conftest import sms_code

pytestmark = pytest.mark.django_db(transaction=True)

# In the 2027 enrollment window (1 Sept – 31 Dec 2026).
TODAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
NAME = "冯晓梅"
ID_NUMBER = make_id_number("340104", dt.date(1983, 7, 9), 142)
MOBILE = "13912347777"
PASSWORD = "Yibao-keys-2026"
MAX_TABS = 60

FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
  const shadow = !!s.boxShadow && s.boxShadow !== 'none';
  const box = e.getBoundingClientRect();
  return {
    tag: e.tagName.toLowerCase(), id: e.id, name: e.getAttribute('name') || '',
    type: e.getAttribute('type') || '', value: e.value || '',
    text: (e.innerText || e.getAttribute('aria-label') || '').trim().slice(0, 40),
    href: e.getAttribute('href') || '',
    visible: (outline || shadow) && box.width > 0 && box.height > 0,
  };
}"""


class Keyboard:
    """Moves the focus with Tab and checks, at each stop, that it shows."""

    def __init__(self, page):
        self.page = page
        self.stops = 0

    def focused(self) -> dict | None:
        return self.page.evaluate(FOCUSED)

    def tab_to(self, matches, *, backwards=False) -> dict:
        """Tab (or Shift+Tab) until the focused element `matches`."""
        seen = []
        for _ in range(MAX_TABS):
            self.page.keyboard.press("Shift+Tab" if backwards else "Tab")
            element = self.focused()
            if element is None:
                continue
            self.stops += 1
            assert element["visible"], f"focus not visible on {element}"
            if matches(element):
                return element
            seen.append(element["id"] or element["text"] or element["tag"])
        raise AssertionError(f"not reached with the keyboard; passed {seen}")

    def to_field(self, field_id: str) -> dict:
        return self.tab_to(lambda e: e["id"] == field_id)

    def to_text(self, text: str) -> dict:
        return self.tab_to(lambda e: text in e["text"])

    def press(self, key: str, *, navigates=False):
        if navigates:
            with self.page.expect_navigation():
                self.page.keyboard.press(key)
        else:
            self.page.keyboard.press(key)

    def type_into(self, field_id: str, text: str):
        self.to_field(field_id)
        self.page.keyboard.type(text)

    def choose(self, field_id: str, value: str):
        """A <select>: focus it, then arrow keys until `value` is chosen."""
        self.to_field(field_id)
        self.arrow_to(value)

    def arrow_to(self, value: str):
        """ArrowDown on the focused <select> or radio group until `value` is
        chosen (a radio moves the focus and checks the next option)."""
        for _ in range(30):
            element = self.focused()
            assert element["visible"], f"focus not visible on {element}"
            if element["value"] == value and (
                element["tag"] == "select"
                or self.page.evaluate("document.activeElement.checked")
            ):
                return
            self.page.keyboard.press("ArrowDown")
        raise AssertionError(f"{value} not reached with the arrow keys")

    def follow(self, text: str):
        self.to_text(text)
        self.press("Enter", navigates=True)


@pytest.fixture
def hefei_2027(settings, live_server):
    for year in (2026, 2027):
        factories.policy("340100", year)
    factories.registry_person(name=NAME, id_number=ID_NUMBER)
    # The simulated payment channels call back the live server.
    settings.PORTAL_BASE_URL = live_server.url


def test_sign_up_enroll_and_pay_with_the_keyboard_alone(new_page, hefei_2027):
    with time_machine.travel(TODAY, tick=True):
        page = new_page()
        keys = Keyboard(page)
        page.goto("/")
        # The first stop is the skip link; it takes the focus into the page.
        assert keys.tab_to(lambda e: True)["href"] == "#main"
        keys.press("Enter")
        keys.follow("注册账号")

        # Sign-up, step 1: who you are.
        keys.type_into("id_name", NAME)
        keys.type_into("id_id_number", ID_NUMBER)
        keys.type_into("id_mobile", MOBILE)
        keys.to_text("获取短信验证码")
        keys.press("Enter", navigates=True)
        assert "/signup/verify/" in page.url

        # Step 2: the code from the SMS and a password; back once with Shift+Tab.
        keys.type_into("id_code", sms_code(MOBILE))
        keys.type_into("id_password1", PASSWORD)
        keys.type_into("id_password2", PASSWORD + "x")
        page.keyboard.press("Backspace")
        keys.tab_to(lambda e: e["id"] == "id_password1", backwards=True)
        keys.to_field("id_password2")
        keys.tab_to(lambda e: e["tag"] == "button" and e["type"] == "submit")
        keys.press("Enter", navigates=True)
        page.wait_for_url(re.compile(r".*/$"))
        user = User.objects.get(mobile=MOBILE)
        assert user.person.name == NAME

        # Register for 2027 from the menu; the region is 合肥 from the number.
        keys.follow("参保登记")
        keys.follow("登记城乡居民医保")
        keys.choose("id_year", "2027")
        region = keys.to_field("id_region")
        assert region["value"] == "340100"
        keys.choose("id_category", "ordinary")
        keys.to_text("继续")
        keys.press("Enter", navigates=True)
        assert page.locator("input[name=step][value=confirm]").count() == 1
        keys.to_text("确认登记")
        keys.press("Enter", navigates=True)
        page.wait_for_url(re.compile(r".*/enrollment/\d+/done/$"))
        enrollment = Enrollment.objects.get(person=user.person, year=2027)
        assert enrollment.region_id == "340100"

        # Pay: a channel chosen with the arrow keys, confirmed with Space.
        keys.follow("去缴费")
        keys.tab_to(lambda e: e["type"] == "radio")
        page.keyboard.press("Space")
        keys.arrow_to("wechat")
        keys.to_text("确认缴费")
        keys.press("Space", navigates=True)
        page.wait_for_url(re.compile(r".*/payments/p/\d+/$"))
        page.get_by_text("缴费成功").first.wait_for(timeout=20000)
        payment = Payment.objects.get(order__insured=user.person)
        assert payment.status == PaymentStatus.SUCCESS
        assert payment.channel == "wechat"
        enrollment.refresh_from_db()
        assert enrollment.status == EnrollmentStatus.ACTIVE
        assert keys.stops > 15
