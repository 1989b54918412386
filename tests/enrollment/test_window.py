"""The enrollment window at its edges, with the clock moved (time_machine)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from core.errors import DomainError
from enrollment import services
from tests import factories

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(*args):
    return time_machine.travel(dt.datetime(*args, tzinfo=SHANGHAI), tick=False)


def register(person, year):
    return services.enrollment_register_resident(
        actor=None, person=person, region="340100", year=year, category="ordinary"
    )


def test_the_last_second_before_the_window_opens_is_refused(hefei):
    with at(2026, 8, 31, 23, 59, 59), pytest.raises(DomainError) as info:
        register(factories.PersonFactory(), 2027)
    assert info.value.field == "year"


def test_the_first_second_of_the_window_is_accepted_without_a_wait(hefei):
    with at(2026, 9, 1, 0, 0, 0):
        enrollment = register(factories.PersonFactory(), 2027)
    assert enrollment.waiting_months == 0


def test_the_last_day_of_the_window_is_accepted_without_a_wait(hefei):
    with at(2026, 12, 31, 23, 59, 0):
        enrollment = register(factories.PersonFactory(), 2027)
    assert enrollment.waiting_months == 0


def test_the_day_after_the_window_is_a_late_enrollment_with_the_fixed_wait(hefei):
    with at(2027, 1, 1, 0, 0, 1):
        enrollment = register(factories.PersonFactory(), 2027)
    assert enrollment.waiting_months == 3


def test_a_window_extended_into_february_has_no_wait_in_february(db):
    factories.policy("370200", 2027)  # 青岛: window to 2027-02-28
    with at(2027, 2, 28, 12, 0):
        enrollment = services.enrollment_register_resident(
            actor=None,
            person=factories.PersonFactory(),
            region="370200",
            year=2027,
            category="ordinary",
        )
    assert enrollment.waiting_months == 0
    with at(2027, 3, 1, 9, 0):
        late = services.enrollment_register_resident(
            actor=None,
            person=factories.PersonFactory(),
            region="370200",
            year=2027,
            category="ordinary",
        )
    assert late.waiting_months == 3


def test_newborn_day_ninety_is_in_time_and_day_ninety_one_is_late(hefei):
    birth = dt.date(2026, 2, 1)
    with at(2026, 5, 2, 10, 0):  # 90 days after birth
        in_time = services.enrollment_register_resident(
            actor=None,
            person=factories.PersonFactory(birth_date=birth),
            region="340100",
            year=2026,
            category="ordinary",
            is_newborn=True,
        )
    with at(2026, 5, 3, 10, 0):  # 91 days
        late = services.enrollment_register_resident(
            actor=None,
            person=factories.PersonFactory(birth_date=birth),
            region="340100",
            year=2026,
            category="ordinary",
            is_newborn=True,
        )
    assert (in_time.waiting_months, late.waiting_months) == (0, 3)
