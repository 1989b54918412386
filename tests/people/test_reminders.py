"""Reminders from the hourly beat task (issue 11): each sent once however
often the scan runs, nobody written to at night, read in either language."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from enrollment.models import EnrollmentStatus, FlexibleMonth, Scheme
from people import reminders, tasks
from people.models import Notification, Reminder, Scope
from records import services as records_services
from tests import factories
from tests.records.conftest import covered

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def scan(moment: dt.datetime, django_capture_on_commit_callbacks) -> int:
    with (
        time_machine.travel(moment, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        return tasks.reminders_scan()


def read(note: Notification, language: str) -> str:
    with translation.override(language):
        return note.subject_text


@pytest.fixture
def window_end():
    policy = factories.policy("340100", 2027)
    return policy.window_end


@pytest.fixture
def family():
    hefei = factories.region("340100")
    mother = factories.UserFactory(person__name="王芳", person__region=hefei)
    son = factories.PersonFactory(name="李小明", region=hefei)
    factories.family_link(mother.person, son, scopes=[Scope.VIEW, Scope.ENROLL])
    return mother, son


def test_the_window_reminder_goes_once_for_each_person_not_registered(
    family, window_end, django_capture_on_commit_callbacks
):
    mother, son = family
    onlooker = factories.UserFactory(person__region=factories.region("340100"))
    factories.family_link(onlooker.person, son, scopes=[Scope.VIEW])
    moment = at(window_end - dt.timedelta(days=10), 10)
    assert scan(moment, django_capture_on_commit_callbacks) >= 2
    assert scan(moment + dt.timedelta(hours=1), django_capture_on_commit_callbacks) == 0
    notes = Notification.objects.filter(person=mother.person)
    assert sorted(read(n, "zh-hans").split("尚未")[0] for n in notes) == [
        "李小明",
        "王芳",
    ]
    # View authority alone does not make the son's registration their task.
    assert not Reminder.objects.filter(
        person=onlooker.person, key=f"enrollment.window.2027.{son.pk}"
    ).exists()


def test_a_registered_person_is_not_reminded(
    family, window_end, django_capture_on_commit_callbacks
):
    mother, son = family
    factories.EnrollmentFactory(person=mother.person, year=2027)
    factories.EnrollmentFactory(person=son, year=2027)
    scan(at(window_end - dt.timedelta(days=10), 10), django_capture_on_commit_callbacks)
    assert not Notification.objects.filter(person=mother.person).exists()


def test_no_window_reminder_earlier_than_14_days_before_it_closes(
    family, window_end, django_capture_on_commit_callbacks
):
    mother, _son = family
    scan(at(window_end - dt.timedelta(days=20), 10), django_capture_on_commit_callbacks)
    assert not Notification.objects.filter(person=mother.person).exists()


def test_nothing_is_sent_at_night(
    family, window_end, django_capture_on_commit_callbacks
):
    mother, _son = family
    night = at(window_end - dt.timedelta(days=10), 23)
    assert scan(night, django_capture_on_commit_callbacks) == 0
    assert scan(night + dt.timedelta(hours=8), django_capture_on_commit_callbacks) == 0
    assert not Reminder.objects.exists()
    assert scan(night + dt.timedelta(hours=9), django_capture_on_commit_callbacks) > 0
    assert Notification.objects.filter(person=mother.person).exists()


def test_the_window_reminder_reads_in_both_languages(
    family, window_end, django_capture_on_commit_callbacks
):
    mother, _son = family
    scan(at(window_end - dt.timedelta(days=10), 10), django_capture_on_commit_callbacks)
    note = Notification.objects.filter(person=mother.person).first()
    chinese, english = read(note, "zh-hans"), read(note, "en")
    assert "2027" in chinese and "2027" in english
    assert "%(" not in chinese and "%(" not in english


def test_a_flexible_workers_unpaid_month_is_reminded_once_after_the_20th(
    django_capture_on_commit_callbacks,
):
    worker = factories.UserFactory(person__region=factories.region("340100"))
    enrollment = factories.EnrollmentFactory(
        person=worker.person,
        scheme=Scheme.FLEXIBLE,
        status=EnrollmentStatus.ACTIVE,
        year=2026,
        category="",
        contribution_base=Decimal("6000"),
    )
    paid = factories.UserFactory(person__region=factories.region("340100"))
    FlexibleMonth.objects.create(
        enrollment=factories.EnrollmentFactory(
            person=paid.person,
            scheme=Scheme.FLEXIBLE,
            status=EnrollmentStatus.ACTIVE,
            year=2026,
            category="",
            contribution_base=Decimal("6000"),
        ),
        month=dt.date(2026, 5, 1),
        paid_on=dt.date(2026, 5, 3),
        reference="paid-may",
    )
    assert enrollment.pk
    scan(at(dt.date(2026, 5, 20), 10), django_capture_on_commit_callbacks)
    assert not Reminder.objects.filter(key__startswith="enrollment.flexible").exists()
    scan(at(dt.date(2026, 5, 21), 10), django_capture_on_commit_callbacks)
    scan(at(dt.date(2026, 5, 22), 10), django_capture_on_commit_callbacks)
    (note,) = Notification.objects.filter(person=worker.person)
    assert "2026-05" in read(note, "zh-hans") and "2026-05" in read(note, "en")
    assert not Notification.objects.filter(person=paid.person).exists()


def test_a_temporary_filing_expiring_within_a_week_is_reminded_once(
    django_capture_on_commit_callbacks,
):
    factories.region("110000")
    user = factories.UserFactory(
        person__name="王芳", person__region=factories.region("340100")
    )
    covered(user.person)
    with time_machine.travel(at(dt.date(2026, 6, 15), 10), tick=False):
        filing = records_services.filing_create(
            actor=user,
            person_id=user.person.pk,
            reason="referral",
            destination_code="110000",
            start_on=dt.date(2026, 6, 15),
        )
    Notification.objects.all().delete()
    end_on = filing.end_on
    scan(at(end_on - dt.timedelta(days=8), 10), django_capture_on_commit_callbacks)
    assert not Notification.objects.exists()
    scan(at(end_on - dt.timedelta(days=5), 10), django_capture_on_commit_callbacks)
    scan(at(end_on - dt.timedelta(days=4), 10), django_capture_on_commit_callbacks)
    (note,) = Notification.objects.filter(person=user.person)
    assert "%(" not in read(note, "zh-hans") and "%(" not in read(note, "en")


def test_the_scan_is_hourly_in_beat(settings):
    entries = list(settings.CELERY_BEAT_SCHEDULE.values())
    assert {"task": "people.tasks.reminders_scan", "schedule": 3600.0} in entries
    assert {"enrollment.window_closing", "enrollment.flexible_month"} <= set(
        reminders.reminder_sources()
    )
    assert "records.filing_expiring" in reminders.reminder_sources()


def test_each_source_runs_a_fixed_number_of_queries(family, window_end):
    moment = at(window_end - dt.timedelta(days=10), 10)
    sources = reminders.reminder_sources()

    def counts():
        found = {}
        for key, source in sources.items():
            with CaptureQueriesContext(connection) as context:
                list(source(moment))
            found[key] = len(context.captured_queries)
        return found

    with time_machine.travel(moment, tick=False):
        before = counts()
        for _ in range(3):
            relative = factories.PersonFactory(region=factories.region("340100"))
            factories.family_link(family[0].person, relative, scopes=[Scope.ENROLL])
        assert counts() == before
    assert before["enrollment.window_closing"] == 3
