"""The engine runs each step for a claimed batch with a fixed number of
statements, not a number per transfer: a batch of 50 costs what a batch of 1
does. Money and months still move exactly once, and one failing transfer
does not hold up its batch."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrollment.models import ContributionMonths, Enrollment, EnrollmentStatus
from payments.models import AccountEntry, PersonalAccount
from people.models import Notification, Person
from transfers import services
from transfers.models import (
    HandoffMessage,
    InformationSheet,
    Step,
    Transfer,
    TransferEvent,
    TransferStatus,
)

from .scenario import IN, OUT, bulk_ready, bulk_submitted

pytestmark = pytest.mark.django_db

PATH = (Step.ACCEPT, Step.ISSUE_SHEET, Step.RECEIVE, Step.COMPLETE)


def held() -> tuple[Decimal, int]:
    """Balances + money in transit, months + months in transit."""
    money = (
        PersonalAccount.objects.aggregate(s=Sum("balance"))["s"] or 0
    ) + services.money_in_transit()
    transit = Transfer.objects.aggregate(
        a=Sum("transit_actual_months"), d=Sum("transit_deemed_months")
    )
    months = (ContributionMonths.objects.aggregate(s=Sum("months"))["s"] or 0) + (
        (transit["a"] or 0) + (transit["d"] or 0)
    )
    return money, months


def run_path(transfers, *, check=None) -> dict[str, int]:
    """Each step of the path as one batch; the statements each batch ran."""
    ids = [t.pk for t in transfers]
    counts = {}
    for step in PATH:
        with CaptureQueriesContext(connection) as queries:
            ran = services.transfers_run_batch(step=step, transfer_ids=ids)
        assert ran == len(ids)
        counts[step] = len(queries)
        if check:
            check()
    return counts


def test_a_batch_of_50_runs_as_many_statements_as_a_batch_of_1():
    one = bulk_submitted(bulk_ready(1))
    fifty = bulk_submitted(bulk_ready(50, first_birth=timezone.datetime(1980, 1, 1)))
    counts_one = run_path(one)
    counts_fifty = run_path(fifty)
    assert counts_fifty == counts_one
    assert Transfer.objects.filter(status=TransferStatus.COMPLETED).count() == 51
    # Not one statement per transfer: the issue of the sheet, the heaviest
    # step, stays a small fixed number.
    assert max(counts_fifty.values()) < 30


def test_rejections_inside_a_batch_cost_no_statements_per_transfer():
    """Half of a batch rejected at acceptance (arrears), half accepted: the
    same statements for 1 + 1 transfers as for 25 + 25."""

    def half_in_arrears(people):
        Enrollment.objects.bulk_create(
            Enrollment(
                person=p,
                region_id=OUT,
                scheme="employee",
                year=2027,
                status=EnrollmentStatus.REGISTERED,
            )
            for p in people[::2]
        )
        return bulk_submitted(people)

    two = half_in_arrears(bulk_ready(2))
    fifty = half_in_arrears(bulk_ready(50, first_birth=timezone.datetime(1980, 1, 1)))
    counts = []
    for transfers in (two, fifty):
        with CaptureQueriesContext(connection) as queries:
            services.transfers_run_batch(
                step=Step.ACCEPT, transfer_ids=[t.pk for t in transfers]
            )
        counts.append(len(queries))
    assert counts[0] == counts[1]
    statuses = dict(
        Transfer.objects.filter(pk__in=[t.pk for t in fifty])
        .values_list("status")
        .annotate(n=Count("id"))
    )
    assert statuses == {"rejected": 25, "outgoing_review": 25}
    rejected = Transfer.objects.filter(pk__in=[t.pk for t in fifty[::2]])
    assert {(t.reject_code, t.reject_side) for t in rejected} == {
        ("arrears", "outgoing")
    }
    assert (
        HandoffMessage.objects.filter(transfer__in=rejected, kind="rejected").count()
        == 25
    )


def test_money_and_months_are_conserved_after_every_batch_and_move_once():
    people = bulk_ready(50)
    transfers = bulk_submitted(people)
    start = held()
    run_path(transfers, check=lambda: held() == start or pytest.fail(str(held())))
    assert held() == start
    balances = {
        (a.person_id, a.region_id): a.balance for a in PersonalAccount.objects.all()
    }
    months = {
        (person_id, region_id, kind): total
        for person_id, region_id, kind, total in ContributionMonths.objects.values_list(
            "person_id", "region_id", "kind"
        ).annotate(total=Sum("months"))
    }
    for i, person in enumerate(people):
        assert balances[(person.pk, OUT)] == 0
        assert balances[(person.pk, IN)] == Decimal("100.00") + i
        assert months[(person.pk, OUT, "actual")] == 0
        assert months[(person.pk, IN, "actual")] == 12 + i % 7
        assert months.get((person.pk, IN, "deemed"), 0) == i % 3
    # Each movement once: out and in per transfer, and one event per step.
    assert AccountEntry.objects.filter(reference__startswith="transfer:").count() == 100
    assert TransferEvent.objects.count() == 5 * 50
    assert InformationSheet.objects.count() == 50
    assert all(sheet.signature_holds() for sheet in InformationSheet.objects.all())
    assert set(
        Person.objects.filter(pk__in=[p.pk for p in people]).values_list(
            "region_id", flat=True
        )
    ) == {IN}
    # Told of each of the four steps.
    assert Notification.objects.filter(person__in=people).count() == 4 * 50
    # The outgoing enrollments were already suspended: nothing to suspend again.
    assert not Enrollment.objects.filter(
        person__in=people, region_id=OUT, events__isnull=False
    ).exists()


def test_a_batch_run_again_changes_nothing():
    transfers = bulk_submitted(bulk_ready(10))
    ids = [t.pk for t in transfers]
    for step in PATH:
        services.transfers_run_batch(step=step, transfer_ids=ids)
        before = (
            TransferEvent.objects.count(),
            AccountEntry.objects.count(),
            ContributionMonths.objects.count(),
            Notification.objects.count(),
            held(),
        )
        # The same claim again (a lost acknowledgement): the step has moved on.
        assert services.transfers_run_batch(step=step, transfer_ids=ids) == 0
        after = (
            TransferEvent.objects.count(),
            AccountEntry.objects.count(),
            ContributionMonths.objects.count(),
            Notification.objects.count(),
            held(),
        )
        assert after == before


def test_one_failing_transfer_leaves_the_rest_of_its_batch_to_complete(caplog):
    transfers = bulk_submitted(bulk_ready(5))
    ids = [t.pk for t in transfers]
    for step in PATH[:3]:
        services.transfers_run_batch(step=step, transfer_ids=ids)
    broken = transfers[2]
    # Its sheet message is lost: completing it fails.
    HandoffMessage.objects.filter(transfer=broken, kind="sheet").delete()
    Transfer.objects.filter(pk__in=ids).update(due_at=timezone.now())
    services.transfers_scan(time_budget=1)
    statuses = dict(Transfer.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert statuses.pop(broken.pk) == TransferStatus.INCOMING_REVIEW
    assert set(statuses.values()) == {TransferStatus.COMPLETED}
    broken.refresh_from_db()
    # Left with its lease, to be tried again when it ends.
    assert broken.next_step == Step.COMPLETE and broken.due_at > timezone.now()
    assert "will retry" in caplog.text


def test_a_clerk_acts_through_the_same_step_as_the_engine():
    """transfer_accept on one transfer is the engine's accept on a batch of one:
    the same event, deadline and schedule."""
    engine, clerk_side = bulk_submitted(bulk_ready(2))
    services.transfers_run_batch(step=Step.ACCEPT, transfer_ids=[engine.pk])
    services.transfer_accept(transfer_id=clerk_side.pk)
    engine.refresh_from_db()
    clerk_side.refresh_from_db()
    for field in ("status", "outgoing_deadline", "next_step"):
        assert getattr(engine, field) == getattr(clerk_side, field)
    assert [e.step for e in engine.events.all()] == [
        e.step for e in clerk_side.events.all()
    ]


def test_a_clerks_acts_are_audited_and_the_engines_are_not():
    """Staff actions keep their audit trail (the transfer, the enrollment it
    resumes, the account it opens, the person it moves); the engine's
    batches write without it (their event rows record them)."""
    from auditlog.context import set_actor
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from tests import factories

    from .scenario import set_processing

    engine, by_hand = bulk_submitted(bulk_ready(2))
    for step in PATH:
        services.transfers_run_batch(step=step, transfer_ids=[engine.pk])
    set_processing(OUT, "manual")
    set_processing(IN, "manual")
    out_clerk = factories.StaffFactory(region=factories.region(OUT))
    in_clerk = factories.StaffFactory(region=factories.region(IN))
    # Suspended at the incoming region meanwhile: completing resumes it.
    Enrollment.objects.filter(person=by_hand.person, region_id=IN).update(
        status=EnrollmentStatus.SUSPENDED
    )
    Transfer.objects.filter(pk=by_hand.pk).update(
        status=TransferStatus.OUTGOING_REVIEW, next_step="", due_at=None
    )
    with set_actor(out_clerk):
        services.transfer_issue_sheet(transfer_id=by_hand.pk, actor=out_clerk)
    with set_actor(in_clerk):
        services.transfer_complete(transfer_id=by_hand.pk, actor=in_clerk)
    assert Transfer.objects.get(pk=by_hand.pk).status == TransferStatus.COMPLETED

    def entries(model, pk):
        return LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(model), object_pk=str(pk)
        )

    assert not entries(Transfer, engine.pk).exists()
    assert {e.actor for e in entries(Transfer, by_hand.pk)} == {out_clerk, in_clerk}
    resumed = Enrollment.objects.get(person=by_hand.person, region_id=IN)
    assert resumed.status == EnrollmentStatus.ACTIVE
    assert entries(Enrollment, resumed.pk).get().actor == in_clerk
    account = PersonalAccount.objects.get(person=by_hand.person, region_id=IN)
    assert {e.action for e in entries(PersonalAccount, account.pk)} == {
        LogEntry.Action.CREATE,
        LogEntry.Action.UPDATE,
    }
    assert entries(Person, by_hand.person_id).get().actor == in_clerk
