import datetime as dt

import pytest

from core import workdays
from core.models import CalendarDay, CalendarYear

pytestmark = pytest.mark.django_db

D = dt.date


def test_spec_example_across_national_day_2025():
    assert workdays.add_working_days(D(2025, 9, 26), 10) == D(2025, 10, 16)
    assert workdays.add_working_days(D(2025, 10, 16), 5) == D(2025, 10, 23)


def test_make_up_days_count_and_holidays_do_not():
    assert workdays.is_working_day(D(2025, 9, 28))  # Sunday, 调休上班
    assert workdays.is_working_day(D(2025, 10, 11))  # Saturday, 调休上班
    assert not workdays.is_working_day(D(2025, 10, 1))
    assert not workdays.is_working_day(D(2025, 10, 8))


def test_counting_starts_the_day_after_even_on_a_holiday():
    # From a holiday, the first working day after it is day 1.
    assert workdays.add_working_days(D(2025, 10, 1), 1) == D(2025, 10, 9)


def test_deadline_across_national_day_2026():
    deadline = workdays.working_deadline(D(2026, 9, 28), 10)
    assert not deadline.estimated
    # 2026: 10-01..10-07 off; make-up Saturday 10-10 counts: 09-29, 09-30, 10-08, 10-09, 10-10, 10-12..16.
    assert workdays.is_working_day(D(2026, 10, 10))
    assert deadline.date == D(2026, 10, 16)


def test_2027_is_estimated_monday_to_friday():
    deadline = workdays.working_deadline(D(2026, 12, 25), 10)
    assert deadline.estimated
    assert deadline.date == D(2027, 1, 8)
    assert not workdays.working_deadline(D(2026, 11, 2), 10).estimated


def test_staff_entries_make_2027_exact():
    CalendarYear.objects.create(year=2027, published=True)
    CalendarDay.objects.create(date=D(2027, 1, 1), is_working_day=False, note="元旦")
    deadline = workdays.working_deadline(D(2026, 12, 25), 10)
    assert not deadline.estimated
    assert deadline.date == D(2027, 1, 11)


def test_working_days_between_counts_the_half_open_interval():
    assert workdays.working_days_between(D(2025, 9, 26), D(2025, 10, 16)) == 10
    assert workdays.working_days_between(D(2025, 10, 16), D(2025, 9, 26)) == -10
    assert workdays.working_days_between(D(2025, 10, 16), D(2025, 10, 16)) == 0


@pytest.mark.parametrize("year", [2004, 2015, 2026, 2027, 2030, 2100])
def test_never_an_exception_for_a_valid_date(year):
    for month in range(1, 13):
        day = D(year, month, 15)
        result = workdays.add_working_days(day, 15)
        assert workdays.working_days_between(day, result) == 15


def test_cached_calendar_sees_staff_edits_at_once(settings, django_assert_num_queries):
    settings.WORKDAYS_CACHE_SECONDS = 30
    workdays.calendar_changed()
    assert workdays.add_working_days(D(2026, 12, 25), 10) == D(2027, 1, 8)
    with django_assert_num_queries(0):  # served from the process's copy
        workdays.add_working_days(D(2026, 12, 25), 10)
    CalendarDay.objects.create(date=D(2027, 1, 1), is_working_day=False, note="元旦")
    assert workdays.add_working_days(D(2026, 12, 25), 10) == D(2027, 1, 11)
    workdays.calendar_changed()
