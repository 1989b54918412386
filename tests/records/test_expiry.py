"""Temporary filings end by themselves: due work in the database (`due_at`),
claimed by a beat scan with skip_locked, each expired in its own transaction,
safe to run twice."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

from people.models import Notification
from records import services, tasks
from records.models import Filing, FilingEvent, FilingStatus

from .conftest import BEIJING, TODAY

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def file(user, **options):
    return services.filing_create(
        actor=user,
        person_id=user.person.pk,
        **{
            "reason": "other",
            "destination_code": BEIJING,
            "start_on": TODAY,
            **options,
        },
    )


def at(*args):
    return time_machine.travel(dt.datetime(*args, tzinfo=SHANGHAI), tick=False)


def test_nothing_is_due_before_the_last_day_is_over(citizen):
    filing = file(citizen)
    with at(2026, 12, 14, 23, 59):
        assert services.filings_expire_due() == 0
    filing.refresh_from_db()
    assert filing.status == FilingStatus.ACTIVE


def test_the_scan_expires_due_temporary_filings_once(citizen):
    filing = file(citizen)
    with at(2026, 12, 15, 0, 1):
        assert services.filings_expire_due() == 1
        assert services.filings_expire_due() == 0
    filing.refresh_from_db()
    assert filing.status == FilingStatus.EXPIRED
    assert filing.due_at is None and filing.expired_at is not None
    assert FilingEvent.objects.filter(filing=filing, action="expire").count() == 1
    assert Notification.objects.filter(
        person=citizen.person, subject__contains="已到期"
    ).exists()


def test_long_term_and_cancelled_filings_are_never_claimed(citizen, regions):
    from tests import factories

    from .conftest import covered

    other = factories.UserFactory()
    covered(other.person)
    long_term = file(citizen, reason="retired", commitment=True)
    cancelled = file(other)
    services.filing_cancel(actor=other, filing_id=cancelled.pk)
    with at(2030, 1, 1, 0, 0):
        assert services.filings_claim_due() == []
    long_term.refresh_from_db()
    assert long_term.status == FilingStatus.ACTIVE


def test_a_claim_takes_a_lease_so_other_scans_skip_it(citizen):
    filing = file(citizen)
    with at(2026, 12, 15, 8, 0):
        assert services.filings_claim_due() == [filing.pk]
        # Claimed: a second scan finds nothing until the lease runs out.
        assert services.filings_claim_due() == []
    filing.refresh_from_db()
    assert filing.status == FilingStatus.ACTIVE
    assert filing.due_at > dt.datetime(2026, 12, 15, 8, 0, tzinfo=SHANGHAI)
    with at(2026, 12, 15, 8, 6):
        assert services.filings_claim_due() == [filing.pk]


def test_expiring_a_filing_not_yet_due_gives_its_due_time_back(citizen):
    filing = file(citizen)
    Filing.objects.filter(pk=filing.pk).update(
        due_at=dt.datetime(2026, 7, 1, tzinfo=SHANGHAI)
    )
    services.filing_expire(filing_id=filing.pk)
    filing.refresh_from_db()
    assert filing.status == FilingStatus.ACTIVE
    assert filing.due_at == dt.datetime(2026, 12, 15, tzinfo=SHANGHAI)


def test_one_failing_filing_does_not_stop_the_scan(citizen, monkeypatch):
    from tests import factories

    from .conftest import covered

    other = factories.UserFactory()
    covered(other.person)
    first, second = file(citizen), file(other)
    real = services.filing_expire

    def flaky(*, filing_id, today=None):
        if filing_id == first.pk:
            raise RuntimeError("worker trouble")
        return real(filing_id=filing_id, today=today)

    monkeypatch.setattr(services, "filing_expire", flaky)
    with at(2026, 12, 15, 1, 0):
        assert services.filings_expire_due() == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("active", "expired")
    assert first.due_at is not None  # left with its lease, retried later


def test_the_beat_schedule_runs_the_scan_task(citizen):
    entry = settings.CELERY_BEAT_SCHEDULE["records-filings-expire"]
    assert entry["task"] == "records.tasks.filings_expire_scan"
    filing = file(citizen)
    with at(2026, 12, 16, 0, 0):
        tasks.filings_expire_scan()
        tasks.filing_expire(filing.pk)  # a repeat is a no-op
    filing.refresh_from_db()
    assert filing.status == FilingStatus.EXPIRED
