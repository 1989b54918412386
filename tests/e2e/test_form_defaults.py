"""Choosing someone else on a form carries what belongs to them: 参保地 on
the enrollment form, the name on the transfer form (no silent leftovers of
the person chosen before)."""

import datetime as dt

import pytest
import time_machine

from core.identity import make_id_number
from tests import factories
from tests.transfers.scenario import ready_person

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def test_the_region_and_the_name_follow_the_person_chosen(new_page):
    for code in ("340100", "110000"):
        for year in (2026, 2027):
            factories.policy(code, year)
    user = factories.UserFactory(
        person=factories.PersonFactory(
            name="钱进", id_number=make_id_number("110108", dt.date(1988, 10, 1), 413)
        )
    )
    mother = factories.PersonFactory(
        name="钱秀芳", id_number=make_id_number("340104", dt.date(1960, 3, 3), 142)
    )
    ready_person(person=mother)
    factories.family_link(user.person, mother, "parent")
    with time_machine.travel(TODAY, tick=True):
        page = new_page()
        page.goto("/login/")
        page.locator("#id_username").fill(user.mobile)
        page.locator("#id_password").fill("pass-Word-123")
        page.locator("main form button[type=submit]").click()
        page.wait_for_url("**/")

        page.goto("/enrollment/resident/")
        region = page.locator("#id_region")
        assert region.input_value() == "110000"  # his number: 北京
        page.locator("#id_person").select_option(str(mother.pk))
        assert region.input_value() == "340100"  # hers: 合肥
        region.select_option("110000")  # chosen by hand: kept
        page.locator("#id_person").select_option(str(user.person.pk))
        page.locator("#id_person").select_option(str(mother.pk))
        assert region.input_value() == "110000"

        page.goto("/transfers/apply/")
        name = page.locator("#id_name")
        assert name.input_value() == "钱进"
        page.locator("#id_person").select_option(str(mother.pk))
        assert name.input_value() == "钱秀芳"
