"""Staff enter next year's holidays and make-up days; once the year is marked
published, deadlines computed through it are exact (SPEC §3)."""

import datetime as dt

from django.urls import reverse

from core.models import CalendarDay
from core.workdays import working_deadline


def test_entering_2027_holidays_makes_a_2027_deadline_exact(client, staff, regions):
    before = working_deadline(dt.date(2026, 12, 30), 3)
    assert before.estimated  # chinesecalendar stops at 2026: Monday–Friday, estimated
    assert before.date == dt.date(2027, 1, 4)

    client.force_login(staff["supervisor"])
    add_day = reverse("admin:core_calendarday_add")
    for day, working, note in [
        ("2027-01-01", False, "元旦"),
        ("2027-01-04", False, "元旦调休"),
        ("2027-01-09", True, "元旦调休上班"),
    ]:
        data = {
            "date": day,
            "note": note,
            **({"is_working_day": "on"} if working else {}),
        }
        assert client.post(add_day, data).status_code == 302
    assert CalendarDay.objects.filter(date__year=2027).count() == 3

    # Days entered but the year not yet published: the rest of 2027 is still a guess.
    still = working_deadline(dt.date(2026, 12, 30), 3)
    assert still.estimated

    response = client.post(
        reverse("admin:core_calendaryear_add"), {"year": 2027, "published": "on"}
    )
    assert response.status_code == 302
    exact = working_deadline(dt.date(2026, 12, 30), 3)
    # 12-31 (Thu) works, 01-01 holiday, 01-04 holiday, 01-05 and 01-06 work.
    assert exact == type(exact)(dt.date(2027, 1, 6), False)
    # The make-up Saturday counts.
    assert working_deadline(dt.date(2027, 1, 8), 1).date == dt.date(2027, 1, 9)


def test_clerks_and_auditors_cannot_edit_the_calendar(client, staff, regions):
    for role in ("clerk", "auditor"):
        client.force_login(staff[role])
        response = client.post(
            reverse("admin:core_calendarday_add"), {"date": "2027-02-01", "note": "x"}
        )
        assert response.status_code == 403
        assert (
            client.get(reverse("admin:core_calendarday_changelist")).status_code == 200
        )
    assert not CalendarDay.objects.filter(date="2027-02-01").exists()


def test_a_year_cannot_be_published_before_its_holidays_are_entered(
    client, staff, regions
):
    from core.models import CalendarYear

    client.force_login(staff["supervisor"])
    response = client.post(
        reverse("admin:core_calendaryear_add"), {"year": 2028, "published": "on"}
    )
    assert response.status_code == 200
    assert "请先在“工作日历”中录入 2028 年的放假和调休安排" in response.content.decode()
    assert not CalendarYear.objects.filter(year=2028).exists()
    assert working_deadline(dt.date(2028, 3, 1), 1).estimated


def test_publishing_a_year_sends_calendar_published(client, staff, regions):
    from core.signals import calendar_published

    calls = []

    def receiver(sender, *, year, **kwargs):
        calls.append(year)

    calendar_published.connect(receiver)
    try:
        CalendarDay.objects.create(
            date=dt.date(2027, 1, 1), is_working_day=False, note="元旦"
        )
        client.force_login(staff["supervisor"])
        response = client.post(
            reverse("admin:core_calendaryear_add"), {"year": 2027, "published": "on"}
        )
        assert response.status_code == 302
    finally:
        calendar_published.disconnect(receiver)
    assert calls == [2027]


def test_transfers_receives_calendar_published():
    """The deadline recompute is connected at start-up, not looked up by name."""
    from core.signals import calendar_published

    receivers = [r[1]() for r in calendar_published.receivers]
    assert any(getattr(r, "__module__", "") == "transfers.apps" for r in receivers)
