"""The main citizen pages with the demo data, in both languages, at a desktop
and a phone's width: each fits without sideways scrolling, says which language
it is in, and shows no full identity number. Screenshots for the README."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command

from people.models import Person, User
from tests.e2e.conftest import DESKTOP, PHONE, no_horizontal_scroll, overflowing

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
PAGES = [
    ("/", "home"),
    ("/enrollment/coverage/", "coverage"),
    ("/enrollment/", "enroll-start"),
    ("/payments/", "history"),
    ("/transfers/", "transfers"),
    ("/family/", "family"),
    ("/inbox/", "inbox"),
]


def test_main_pages_in_both_languages_at_desktop_and_phone_width(new_page, shot):
    with time_machine.travel(TODAY, tick=True):
        call_command("seed_demo", verbosity=0)
        citizen = User.objects.get(mobile="13800000001")
        full_numbers = list(Person.objects.values_list("id_number", flat=True))
        for language in ("zh", "en"):
            for width_name, viewport in (("1280", DESKTOP), ("390", PHONE)):
                page = new_page(viewport=viewport)
                page.goto("/login/")
                if language == "en":
                    page.get_by_role("button", name="English").click()
                page.locator("#id_username").fill(citizen.mobile)
                page.locator("#id_password").fill("Demo-2026-yibao")
                page.locator("main form button[type=submit]").click()
                page.wait_for_url("**/")
                for path, name in PAGES:
                    response = page.goto(path)
                    assert response.status == 200, path
                    expected_lang = "en" if language == "en" else "zh-Hans"
                    assert page.locator("html").get_attribute("lang") == expected_lang
                    assert no_horizontal_scroll(page), (
                        f"{path} ({language}, {width_name}px): {overflowing(page)}"
                    )
                    html = page.content()
                    assert not [n for n in full_numbers if n in html], (
                        f"{path} shows a full identity number"
                    )
                    shot(page, f"{name}-{language}-{width_name}")
