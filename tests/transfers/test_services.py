"""The handoff between regions: money and months move exactly once, every task
is safe to run twice, rejections send what moved back, staff act for their side."""

from decimal import Decimal

import pytest
from django.core import mail
from django.db.models import Sum
from django.utils import timezone

from core.errors import DomainError
from enrollment.models import ContributionMonths, Enrollment, EnrollmentStatus
from payments.models import AccountEntry, PersonalAccount
from people.models import Notification, Person
from tests import factories
from transfers import services, tasks
from transfers.models import (
    HandoffMessage,
    InformationSheet,
    Step,
    Transfer,
    TransferEvent,
    TransferStatus,
)

from .scenario import IN, OUT, apply_args, ready_person, set_processing

pytestmark = pytest.mark.django_db


def totals():
    """Everything that must be conserved, and the rows that must not duplicate."""
    return {
        "money": (PersonalAccount.objects.aggregate(s=Sum("balance"))["s"] or 0)
        + services.money_in_transit(),
        "months": (ContributionMonths.objects.aggregate(s=Sum("months"))["s"] or 0)
        + (Transfer.objects.aggregate(s=Sum("transit_actual_months"))["s"] or 0)
        + (Transfer.objects.aggregate(s=Sum("transit_deemed_months"))["s"] or 0),
    }


def snapshot(transfer_id):
    transfer = Transfer.objects.get(pk=transfer_id)
    return (
        transfer.status,
        transfer.next_step,
        transfer.transit_amount,
        TransferEvent.objects.filter(transfer_id=transfer_id).count(),
        HandoffMessage.objects.filter(transfer_id=transfer_id).count(),
        AccountEntry.objects.count(),
        ContributionMonths.objects.count(),
        Notification.objects.count(),
        tuple(PersonalAccount.objects.order_by("pk").values_list("balance", flat=True)),
    )


def make_due(transfer_id):
    Transfer.objects.filter(pk=transfer_id).update(due_at=timezone.now())


def test_end_to_end_moves_balance_and_months_once_and_keeps_them_split():
    person, outgoing, incoming = ready_person(
        balance=Decimal("1234.56"), actual=36, deemed=12
    )
    before = totals()
    transfer = services.transfer_apply(**apply_args(person))
    for _ in range(4):
        services.transfers_scan(time_budget=1)
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.COMPLETED
    assert totals() == before
    out_account = PersonalAccount.objects.get(person=person, region_id=OUT)
    in_account = PersonalAccount.objects.get(person=person, region_id=IN)
    assert out_account.balance == 0 and in_account.balance == Decimal("1234.56")
    months = dict(
        ContributionMonths.objects.filter(person=person, region_id=IN)
        .values_list("kind")
        .annotate(s=Sum("months"))
    )
    assert months == {"actual": 36, "deemed": 12}
    assert (
        ContributionMonths.objects.filter(person=person, region_id=OUT).aggregate(
            s=Sum("months")
        )["s"]
        == 0
    )
    assert transfer.transit_amount == 0
    assert Person.objects.get(pk=person.pk).region_id == IN
    sheet = InformationSheet.objects.get(transfer=transfer)
    assert (sheet.actual_months, sheet.deemed_months, sheet.account_balance) == (
        36,
        12,
        Decimal("1234.56"),
    )
    assert (sheet.outgoing_region_code, sheet.incoming_region_code) == (OUT, IN)
    assert sheet.suspended_on is not None
    assert list(
        HandoffMessage.objects.filter(transfer=transfer)
        .values_list("kind", flat=True)
        .order_by("id")
    ) == ["application", "sheet", "completed"]
    assert (
        HandoffMessage.objects.get(transfer=transfer, kind="sheet").processed_at
        is not None
    )


def test_an_outgoing_enrollment_active_again_after_acceptance_is_suspended_by_the_sheet():
    person, outgoing, _in = ready_person(
        out_status=EnrollmentStatus.SUSPENDED, in_year=2027
    )
    set_processing(OUT, "manual")
    transfer = services.transfer_apply(**apply_args(person))
    services.transfer_accept(transfer_id=transfer.pk)
    # Re-activated at the outgoing region after acceptance (a late correction);
    # before acceptance it would be rejected (test_recheck.py).
    Enrollment.objects.filter(pk=outgoing.pk).update(status=EnrollmentStatus.ACTIVE)
    services.transfer_issue_sheet(transfer_id=transfer.pk)
    assert Enrollment.objects.get(pk=outgoing.pk).status == EnrollmentStatus.SUSPENDED


def test_the_sheet_lists_the_outgoing_history_by_year_with_its_suspension_day():
    person, outgoing, _in = ready_person(out_year=2025, in_year=2026)
    Enrollment.objects.create(
        person=person,
        region_id=OUT,
        scheme="employee",
        year=2024,
        status=EnrollmentStatus.TERMINATED,
    )
    set_processing(OUT, "manual")
    transfer = services.transfer_apply(**apply_args(person))
    services.transfer_accept(transfer_id=transfer.pk)
    # Active again when the sheet is issued, so that the step suspends it today.
    Enrollment.objects.filter(pk=outgoing.pk).update(status=EnrollmentStatus.ACTIVE)
    services.transfer_issue_sheet(transfer_id=transfer.pk)
    sheet = InformationSheet.objects.get(transfer=transfer)
    assert [row["year"] for row in sheet.contribution_history] == [2024, 2025]
    assert sheet.suspended_on == timezone.localdate()
    assert (sheet.actual_months, sheet.deemed_months) == (36, 12)


def test_a_suspended_incoming_enrollment_is_resumed_when_the_transfer_completes():
    person, _out, incoming = ready_person()
    set_processing(IN, "manual")
    transfer = services.transfer_issue_sheet(
        transfer_id=services.transfer_apply(**apply_args(person)).pk
    )
    Enrollment.objects.filter(pk=incoming.pk).update(status=EnrollmentStatus.SUSPENDED)
    services.transfer_complete(transfer_id=transfer.pk)
    incoming.refresh_from_db()
    assert incoming.status == EnrollmentStatus.ACTIVE
    assert list(incoming.events.values_list("from_status", "to_status", "reason")) == [
        (EnrollmentStatus.SUSPENDED, EnrollmentStatus.ACTIVE, "转移接续：转入")
    ]


@pytest.mark.parametrize(
    "step", [Step.ACCEPT, Step.ISSUE_SHEET, Step.RECEIVE, Step.COMPLETE]
)
def test_every_task_run_twice_is_a_no_op(step):
    person, _out, _in = ready_person()
    transfer = services.transfer_apply(**apply_args(person))
    while Transfer.objects.get(pk=transfer.pk).next_step != step:
        make_due(transfer.pk)
        tasks.transfer_step.delay(transfer.pk)
    make_due(transfer.pk)
    tasks.transfer_step.delay(transfer.pk)
    after_first = snapshot(transfer.pk)
    before_totals = totals()
    # Again by id, again claimed by the scan (as after a lost acknowledgement), and the scan task.
    tasks.transfer_step.delay(transfer.pk)
    services.transfer_run_step(transfer_id=transfer.pk, step=step, claimed=True)
    tasks.transfers_scan.delay()
    if step == Step.COMPLETE:
        assert snapshot(transfer.pk) == after_first
    else:
        # The scan may only have moved on to the *next* step; this step's effects stay single.
        assert (
            TransferEvent.objects.filter(
                transfer=transfer,
                step={
                    Step.ACCEPT: "accepted",
                    Step.ISSUE_SHEET: "sheet_issued",
                    Step.RECEIVE: "received",
                }[step],
            ).count()
            == 1
        )
    assert totals() == before_totals


def test_a_step_that_is_not_due_yet_does_nothing():
    person, _out, _in = ready_person()
    transfer = services.transfer_apply(**apply_args(person))
    Transfer.objects.filter(pk=transfer.pk).update(
        due_at=timezone.now() + timezone.timedelta(hours=1)
    )
    before = snapshot(transfer.pk)
    tasks.transfer_step.delay(transfer.pk)
    assert services.transfers_scan(time_budget=1) == 0
    assert snapshot(transfer.pk) == before


def test_the_scan_leases_what_it_claims():
    person, _out, _in = ready_person()
    transfer = services.transfer_apply(**apply_args(person))
    claimed = services.transfers_claim_due(batch=10)
    assert claimed == [(transfer.pk, Step.ACCEPT)]
    # Claimed but not processed (a worker died): not claimed again until the lease ends.
    assert services.transfers_claim_due(batch=10) == []
    assert Transfer.objects.get(pk=transfer.pk).due_at > timezone.now()


def test_cancel_before_acceptance_and_not_after():
    person, _out, _in = ready_person()
    set_processing(OUT, "manual")
    transfer = services.transfer_apply(**apply_args(person))
    services.transfer_cancel(transfer_id=transfer.pk)
    transfer.refresh_from_db()
    assert (
        transfer.status == "cancelled"
        and transfer.cancelled_at
        and transfer.due_at is None
    )
    other, _o, _i = ready_person()
    second = services.transfer_apply(**apply_args(other))
    services.transfer_accept(transfer_id=second.pk)
    with pytest.raises(DomainError) as info:
        services.transfer_cancel(transfer_id=second.pk)
    assert info.value.code == "already_accepted"


def test_rejection_by_the_outgoing_region_moves_nothing():
    person, _out, _in = ready_person()
    set_processing(OUT, "manual")
    before = totals()
    transfer = services.transfer_apply(**apply_args(person))
    clerk = factories.StaffFactory(region=factories.region(OUT))
    services.transfer_reject(
        transfer_id=transfer.pk, code="arrears", text="2025年12月未缴", actor=clerk
    )
    transfer.refresh_from_db()
    assert transfer.status == "rejected" and transfer.reject_side == "outgoing"
    assert "补缴" in transfer.next_action
    assert totals() == before
    assert (
        HandoffMessage.objects.get(transfer=transfer, kind="rejected").to_region_id
        == IN
    )


def test_rejection_by_the_incoming_region_returns_money_and_months_once():
    person, _out, _in = ready_person(balance=Decimal("500.00"), actual=10, deemed=0)
    set_processing(IN, "manual")
    before = totals()
    transfer = services.transfer_apply(**apply_args(person))
    for _ in range(3):
        services.transfers_scan(time_budget=1)
    assert Transfer.objects.get(pk=transfer.pk).status == "incoming_review"
    assert PersonalAccount.objects.get(person=person, region_id=OUT).balance == 0
    clerk = factories.StaffFactory(region=factories.region(IN))
    services.transfer_reject(
        transfer_id=transfer.pk, code="other", text="信息表缺少缴费明细", actor=clerk
    )
    assert totals() == before  # still in transit
    services.transfers_scan(time_budget=1)
    services.transfers_scan(time_budget=1)
    services.transfer_run_step(transfer_id=transfer.pk, step=Step.RETURN, claimed=True)
    transfer.refresh_from_db()
    assert transfer.transit_amount == 0 and transfer.due_at is None
    assert PersonalAccount.objects.get(person=person, region_id=OUT).balance == Decimal(
        "500.00"
    )
    assert (
        ContributionMonths.objects.filter(person=person, region_id=OUT).aggregate(
            s=Sum("months")
        )["s"]
        == 10
    )
    assert TransferEvent.objects.filter(transfer=transfer, step="returned").count() == 1
    assert totals() == before


def test_staff_act_only_for_their_own_side():
    person, _out, _in = ready_person()
    set_processing(OUT, "manual")
    set_processing(IN, "manual")
    transfer = services.transfer_apply(**apply_args(person))
    incoming_clerk = factories.StaffFactory(region=factories.region(IN))
    outgoing_clerk = factories.StaffFactory(region=factories.region(OUT))
    with pytest.raises(DomainError) as info:
        services.transfer_accept(transfer_id=transfer.pk, actor=incoming_clerk)
    assert info.value.code == "wrong_region"
    services.transfer_issue_sheet(transfer_id=transfer.pk, actor=outgoing_clerk)
    with pytest.raises(DomainError):
        services.transfer_complete(transfer_id=transfer.pk, actor=outgoing_clerk)
    services.transfer_complete(transfer_id=transfer.pk, actor=incoming_clerk)
    assert Transfer.objects.get(pk=transfer.pk).status == "completed"
    actors = dict(
        TransferEvent.objects.filter(transfer=transfer).values_list("step", "actor")
    )
    assert (
        actors["sheet_issued"] == outgoing_clerk.pk
        and actors["completed"] == incoming_clerk.pk
    )


@pytest.mark.parametrize("status", TransferStatus.values)
def test_services_refuse_from_the_wrong_status(status):
    person, _out, _in = ready_person()
    set_processing(OUT, "manual")
    transfer = services.transfer_apply(**apply_args(person))
    extra = {"reject_code": "other", "reject_text": "x"} if status == "rejected" else {}
    Transfer.objects.filter(pk=transfer.pk).update(status=status, **extra)
    attempts = {
        "cancel": (
            lambda: services.transfer_cancel(transfer_id=transfer.pk),
            {"submitted", "cancelled"},
        ),
        "accept": (
            lambda: services.transfer_accept(transfer_id=transfer.pk),
            {"submitted", "outgoing_review"},
        ),
        "complete": (
            lambda: services.transfer_complete(transfer_id=transfer.pk),
            {"sheet_issued", "incoming_review", "completed"},
        ),
        "reject": (
            lambda: services.transfer_reject(
                transfer_id=transfer.pk, code="other", text="x"
            ),
            {"submitted", "outgoing_review", "incoming_review", "rejected"},
        ),
    }
    for name, (call, allowed_from) in attempts.items():
        Transfer.objects.filter(pk=transfer.pk).update(status=status, **extra)
        if status in allowed_from:
            if name == "complete" and status != "completed":
                continue  # needs the sheet message: covered end to end above
            call()
        else:
            with pytest.raises(DomainError):
                call()


def test_each_step_sends_an_inbox_message_and_an_email(
    django_capture_on_commit_callbacks,
):
    user = factories.UserFactory(email="citizen@example.cn")
    person, _out, _in = ready_person(person=user.person)
    with django_capture_on_commit_callbacks(execute=True):
        transfer = services.transfer_apply(**apply_args(person), applicant=user)
        for _ in range(4):
            services.transfers_scan(time_budget=1)
    assert Transfer.objects.get(pk=transfer.pk).status == "completed"
    subjects = list(
        Notification.objects.filter(person=person)
        .order_by("id")
        .values_list("subject", flat=True)
    )
    assert len(subjects) == 5
    assert subjects[-1] == "转移接续已办结"
    assert len(mail.outbox) == 5
    assert mail.outbox[0].to == ["citizen@example.cn"]
