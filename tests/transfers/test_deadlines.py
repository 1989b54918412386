"""Deadlines on the working-day calendar: across National Day 2026 and into 2027 (estimated)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from transfers import services
from transfers.models import Transfer, TransferEvent
from transfers.selectors import transfer_timeline

from .scenario import IN, OUT, apply_args, ready_person, set_processing

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def at(*args):
    return time_machine.travel(dt.datetime(*args, tzinfo=TZ), tick=False)


def test_outgoing_deadline_across_national_day_2026():
    person, _out, _in = ready_person()
    set_processing(OUT, "manual")
    with at(2026, 9, 28, 10, 0):
        transfer = services.transfer_apply(**apply_args(person))
        services.transfer_accept(transfer_id=transfer.pk)
    transfer.refresh_from_db()
    # 09-29, 09-30, 10-08, 10-09, 10-10 (make-up Saturday), 10-12 … 10-16.
    assert transfer.outgoing_deadline == dt.date(2026, 10, 16)
    assert not transfer.outgoing_deadline_estimated
    event = TransferEvent.objects.get(transfer=transfer, step="accepted")
    assert event.deadline == dt.date(2026, 10, 16) and not event.estimated


def test_incoming_deadline_five_working_days_from_receipt_across_national_day():
    person, _out, _in = ready_person()
    set_processing(OUT, "manual")
    set_processing(IN, "manual")
    with at(2026, 9, 29, 9, 0):
        transfer = services.transfer_apply(**apply_args(person))
        services.transfer_issue_sheet(transfer_id=transfer.pk)
        services.transfers_scan(time_budget=1)  # the sheet message is delivered
    transfer.refresh_from_db()
    assert transfer.status == "incoming_review"
    # 09-30, 10-08, 10-09, 10-10, 10-12.
    assert transfer.incoming_deadline == dt.date(2026, 10, 12)
    assert not transfer.incoming_deadline_estimated


def test_deadlines_into_2027_are_estimated_and_shown_so():
    person, _out, _in = ready_person()
    set_processing(OUT, "manual")
    with at(2026, 12, 24, 10, 0):
        transfer = services.transfer_apply(**apply_args(person))
        services.transfer_accept(transfer_id=transfer.pk)
        transfer.refresh_from_db()
        assert transfer.outgoing_deadline_estimated
        # Monday–Friday from 12-25: 12-25, 12-28..31, 01-01 (estimated working), 01-04..07.
        assert transfer.outgoing_deadline == dt.date(2027, 1, 7)
        current = [
            step for step in transfer_timeline(transfer) if step.state == "current"
        ][0]
        assert current.estimated and current.days_left == 10


def test_deadline_is_exact_again_once_the_2027_calendar_is_entered():
    from core.models import CalendarDay, CalendarYear

    CalendarYear.objects.create(year=2027, published=True)
    CalendarDay.objects.create(
        date=dt.date(2027, 1, 1), is_working_day=False, note="元旦"
    )
    person, _out, _in = ready_person()
    set_processing(OUT, "manual")
    with at(2026, 12, 24, 10, 0):
        transfer = services.transfer_apply(**apply_args(person))
        services.transfer_accept(transfer_id=transfer.pk)
    transfer = Transfer.objects.get(pk=transfer.pk)
    assert not transfer.outgoing_deadline_estimated
    assert transfer.outgoing_deadline == dt.date(2027, 1, 8)


def test_each_step_records_its_time_and_deadline():
    person, _out, _in = ready_person()
    with at(2026, 11, 23, 10, 0):
        transfer = services.transfer_apply(**apply_args(person))
        for _ in range(4):
            services.transfers_scan(time_budget=1)
    transfer.refresh_from_db()
    assert transfer.status == "completed"
    for field in (
        "submitted_at",
        "accepted_at",
        "sheet_issued_at",
        "received_at",
        "completed_at",
    ):
        assert getattr(transfer, field) is not None, field
    steps = dict(
        TransferEvent.objects.filter(transfer=transfer).values_list("step", "deadline")
    )
    assert steps["accepted"] == steps["sheet_issued"] == transfer.outgoing_deadline
    assert steps["received"] == steps["completed"] == transfer.incoming_deadline


def test_publishing_2027_makes_stored_estimated_deadlines_exact():
    from core.models import CalendarDay, CalendarYear

    person, _out, _in = ready_person()
    set_processing(OUT, "manual")
    with at(2026, 12, 24, 10, 0):
        transfer = services.transfer_apply(**apply_args(person))
        services.transfer_accept(transfer_id=transfer.pk)
    transfer.refresh_from_db()
    assert transfer.outgoing_deadline_estimated
    estimated = transfer.outgoing_deadline
    # Staff enter New Year's Day 2027 as a holiday and publish the year.
    CalendarDay.objects.create(
        date=dt.date(2027, 1, 1), is_working_day=False, note="元旦"
    )
    CalendarYear.objects.create(year=2027, published=True)
    assert services.transfer_deadlines_recompute(year=2027) == 1
    transfer.refresh_from_db()
    assert not transfer.outgoing_deadline_estimated
    assert transfer.outgoing_deadline == estimated + dt.timedelta(
        days=1
    )  # one working day fewer in the span
    event = TransferEvent.objects.get(transfer=transfer, step="accepted")
    assert event.deadline == transfer.outgoing_deadline and not event.estimated
    assert (
        services.transfer_deadlines_recompute(year=2027) == 0
    )  # nothing left to change


def test_the_outgoing_10_working_days_run_from_acceptance_as_in_spec_example():
    """SPEC §3/§8: accepted 2025-09-26 → 10 working days → 2025-10-16 → the sheet
    received that day → 5 more → 2025-10-23; the days before acceptance do not count."""
    person, _out, _in = ready_person()
    set_processing(OUT, "manual")
    set_processing(IN, "manual")
    with at(2025, 9, 22, 9, 0):
        transfer = services.transfer_apply(**apply_args(person))
    transfer.refresh_from_db()
    assert (
        transfer.outgoing_deadline is None and not transfer.outgoing_deadline_estimated
    )
    submitted = TransferEvent.objects.get(transfer=transfer, step="submitted")
    assert submitted.deadline is None
    with at(2025, 9, 26, 15, 0):
        services.transfer_accept(transfer_id=transfer.pk)
    transfer.refresh_from_db()
    assert transfer.outgoing_deadline == dt.date(2025, 10, 16)
    assert not transfer.outgoing_deadline_estimated
    with at(2025, 10, 16, 10, 0):
        services.transfer_issue_sheet(transfer_id=transfer.pk)
        services.transfers_scan(time_budget=1)  # the sheet message is delivered
    transfer.refresh_from_db()
    assert transfer.incoming_deadline == dt.date(2025, 10, 23)


def test_a_late_acceptance_moves_the_outgoing_deadline_with_it():
    person, _out, _in = ready_person()
    set_processing(OUT, "manual")
    with at(2026, 11, 2, 9, 0):
        transfer = services.transfer_apply(**apply_args(person))
    with at(2026, 11, 9, 9, 0):
        services.transfer_accept(transfer_id=transfer.pk)
    transfer.refresh_from_db()
    # 10 working days after Monday 11-09, not after 11-02.
    assert transfer.outgoing_deadline == dt.date(2026, 11, 23)


def test_an_application_not_yet_accepted_has_no_deadline_to_recompute():
    from core.models import CalendarYear

    person, _out, _in = ready_person()
    set_processing(OUT, "manual")
    with at(2026, 12, 24, 10, 0):
        transfer = services.transfer_apply(**apply_args(person))
        current = [s for s in transfer_timeline(transfer) if s.state == "current"][0]
    assert current.key == "accepted" and current.deadline is None
    assert "从受理之日起算" in str(current.note)
    CalendarYear.objects.create(year=2027, published=True)
    assert services.transfer_deadlines_recompute(year=2027) == 0
    transfer.refresh_from_db()
    assert transfer.outgoing_deadline is None
