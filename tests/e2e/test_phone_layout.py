"""The payment history and the receipt on a 390 px phone, in both languages,
with care mode (关怀模式) on and off: no element reaches past the screen's
width or sticks out of the box it sits in (a table's header left in its
table layout, a long verification address, a wide select). Every other page
gets the same check in test_accessibility.py; this one keeps the phone
screenshots of the history for the README."""

import datetime as dt

import pytest
import time_machine

from payments import services
from payments.forms import new_key
from tests import factories
from tests.e2e.phone import PHONE, SLACK_PX, TABLE_CHECK, WIDTH_CHECK

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def elements_wider_than_container(page) -> list[str]:
    """tests/e2e/phone.py's check: every element that reaches past the
    screen or out of its box, described; [] when everything fits."""
    return page.evaluate(WIDTH_CHECK, SLACK_PX) + page.evaluate(TABLE_CHECK)


@pytest.fixture
def paying_family():
    """A citizen whose history has a year paid at the counter for herself and
    a relative's year she paid online (the payer line under the name)."""
    for year in (2026, 2027):
        factories.policy("340100", year)
    clerk = factories.StaffFactory()
    user = factories.UserFactory(
        person__name="欧阳秀英", person__region=factories.region("340100")
    )
    relative = factories.PersonFactory(
        name="欧阳建国", region=factories.region("340100")
    )
    factories.family_link(user.person, relative, "parent")
    own = factories.EnrollmentFactory(person=user.person, year=2026)
    payment = services.payment_counter(
        staff=clerk, enrollment_id=own.pk, idempotency_key=new_key()
    )
    theirs = factories.EnrollmentFactory(person=relative, year=2026)
    services.payment_counter(
        staff=clerk, enrollment_id=theirs.pk, idempotency_key=new_key()
    )
    return user, payment


def log_in(page, user, *, language: str, care: bool):
    page.goto("/login/")
    if language == "en":
        page.get_by_role("button", name="English").click()
    page.locator("#id_username").fill(user.mobile)
    page.locator("#id_password").fill("pass-Word-123")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/")
    if care:
        page.locator("form[action$='/care-mode/'] button").click()
        page.wait_for_selector("body.care-mode")


@pytest.mark.parametrize("care", [False, True], ids=["plain", "care-mode"])
@pytest.mark.parametrize("language", ["zh", "en"])
def test_history_and_receipt_fit_a_phone(new_page, shot, paying_family, language, care):
    user, payment = paying_family
    with time_machine.travel(TODAY, tick=True):
        page = new_page(viewport=PHONE)
        log_in(page, user, language=language, care=care)
        for path, name in (
            ("/payments/?year=all", "history"),
            (f"/payments/p/{payment.pk}/receipt/", "receipt"),
        ):
            response = page.goto(path)
            assert response.status == 200, path
            assert page.evaluate("window.innerWidth") == PHONE["width"]
            problems = elements_wider_than_container(page)
            shot(page, f"phone-{name}-{language}-{'care' if care else 'plain'}")
            assert not problems, f"{path} ({language}, care={care}): {problems[:8]}"


def test_history_rows_are_labelled_cards_on_a_phone(new_page, paying_family):
    """The table's header is hidden on a phone; each cell says what it is."""
    user, _payment = paying_family
    with time_machine.travel(TODAY, tick=True):
        page = new_page(viewport=PHONE)
        log_in(page, user, language="zh", care=False)
        page.goto("/payments/?year=all")
        assert not page.locator("table thead").is_visible()
        first_amount = page.locator("table tbody tr").first.locator("td.amount")
        label = first_amount.evaluate("td => getComputedStyle(td, '::before').content")
        assert "金额" in label
