"""The preconditions are checked again wherever a step depends on them (SPEC §8):
the outgoing acceptance (受理) re-runs those that can change after applying, and
the sheet re-checks the arrears before the balance leaves. A rejection cannot
be bypassed by applying again before what caused it is put right."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from core.errors import DomainError
from enrollment.models import Enrollment, EnrollmentStatus
from payments.models import PersonalAccount
from payments.services import payment_counter
from people.models import Notification
from tests import factories
from transfers import services
from transfers.models import HandoffMessage, InformationSheet, Transfer

from .scenario import IN, OUT, apply_args, ready_person, set_processing

pytestmark = pytest.mark.django_db


def unpaid_registration(person, *, year=2027):
    """A registration at the outgoing region that is not paid: arrears (欠费)."""
    factories.policy(OUT, year)
    return Enrollment.objects.create(
        person=person,
        region_id=OUT,
        scheme="resident",
        category="ordinary",
        year=year,
        status=EnrollmentStatus.REGISTERED,
    )


def out_clerk():
    return factories.StaffFactory(region=factories.region(OUT))


def test_arrears_arising_after_applying_reject_at_acceptance_with_the_arrears_code():
    person, _out, _in = ready_person()
    set_processing(OUT, "manual")
    transfer = services.transfer_apply(**apply_args(person))
    unpaid_registration(person)
    clerk = out_clerk()
    result = services.transfer_accept(transfer_id=transfer.pk, actor=clerk)
    transfer.refresh_from_db()
    assert result.status == transfer.status == "rejected"
    assert (transfer.reject_code, transfer.reject_side) == ("arrears", "outgoing")
    assert transfer.accepted_at is None and transfer.outgoing_deadline is None
    assert "补缴" in transfer.next_action
    event = transfer.events.get(step="rejected")
    assert event.actor == clerk and event.from_status == "submitted"
    assert HandoffMessage.objects.get(transfer=transfer, kind="rejected")
    assert (
        HandoffMessage.objects.get(transfer=transfer, kind="application").processed_at
        is not None
    )
    assert (
        Notification.objects.filter(person=person, subject="转移接续申请未通过")
        .get()
        .body_text.startswith("原因：转出地存在欠费")
    )


def test_rejected_for_arrears_then_applying_again_unpaid_is_refused_and_paid_goes_through():
    person, _out, _in = ready_person()
    set_processing(OUT, "manual")
    first = services.transfer_apply(**apply_args(person))
    arrears = unpaid_registration(person)
    clerk = out_clerk()
    services.transfer_accept(transfer_id=first.pk, actor=clerk)
    assert Transfer.objects.get(pk=first.pk).reject_code == "arrears"

    # Applying again without paying: refused with the same reason, nothing written.
    with pytest.raises(DomainError) as info:
        services.transfer_apply(**apply_args(person))
    assert info.value.code == "outgoing_arrears"
    assert Transfer.objects.filter(person=person).count() == 1

    # Paid at the outgoing region's counter: applying again goes through to the end.
    payment = payment_counter(
        staff=clerk, enrollment_id=arrears.pk, idempotency_key="recheck-arrears-01"
    )
    assert payment.status == "success"
    set_processing(OUT, "auto")
    second = services.transfer_apply(**apply_args(person))
    for _ in range(4):
        services.transfers_scan(time_budget=1)
    second.refresh_from_db()
    assert second.status == "completed"
    assert PersonalAccount.objects.get(person=person, region_id=IN).balance > 0


def test_the_simulated_office_rejects_again_when_the_arrears_come_back():
    """The engine's acceptance (no staff) runs the same check."""
    person, _out, _in = ready_person()
    transfer = services.transfer_apply(**apply_args(person))
    unpaid_registration(person)
    services.transfers_scan(time_budget=1)
    transfer.refresh_from_db()
    assert (transfer.status, transfer.reject_code) == ("rejected", "arrears")
    assert transfer.next_step == "" and transfer.due_at is None
    assert not InformationSheet.objects.filter(transfer=transfer).exists()


def test_an_outgoing_enrollment_active_again_before_acceptance_is_rejected():
    # Another year at the incoming region: one enrollment in force per year.
    person, outgoing, _in = ready_person(in_year=2027)
    set_processing(OUT, "manual")
    transfer = services.transfer_apply(**apply_args(person))
    Enrollment.objects.filter(pk=outgoing.pk).update(status=EnrollmentStatus.ACTIVE)
    services.transfer_accept(transfer_id=transfer.pk, actor=out_clerk())
    transfer.refresh_from_db()
    assert (transfer.status, transfer.reject_code) == ("rejected", "not_suspended")
    assert "暂停参保" in transfer.next_action


def test_an_incoming_enrollment_no_longer_normal_at_acceptance_is_rejected():
    person, _out, incoming = ready_person()
    set_processing(OUT, "manual")
    transfer = services.transfer_apply(**apply_args(person))
    Enrollment.objects.filter(pk=incoming.pk).update(status=EnrollmentStatus.SUSPENDED)
    services.transfer_accept(transfer_id=transfer.pk, actor=out_clerk())
    transfer.refresh_from_db()
    assert (transfer.status, transfer.reject_code) == (
        "rejected",
        "incoming_not_normal",
    )


def test_issuing_the_sheet_of_an_unaccepted_transfer_checks_first_and_the_rejection_stands():
    person, _out, _in = ready_person()
    set_processing(OUT, "manual")
    transfer = services.transfer_apply(**apply_args(person))
    unpaid_registration(person)
    balance = PersonalAccount.objects.get(person=person, region_id=OUT).balance
    result = services.transfer_issue_sheet(transfer_id=transfer.pk, actor=out_clerk())
    assert result.status == "rejected"
    assert Transfer.objects.get(pk=transfer.pk).reject_code == "arrears"
    assert not InformationSheet.objects.filter(transfer=transfer).exists()
    assert PersonalAccount.objects.get(person=person, region_id=OUT).balance == balance


def test_arrears_arising_after_acceptance_stop_the_balance_leaving():
    person, _out, _in = ready_person()
    set_processing(OUT, "manual")
    transfer = services.transfer_apply(**apply_args(person))
    clerk = out_clerk()
    services.transfer_accept(transfer_id=transfer.pk, actor=clerk)
    unpaid_registration(person)
    balance = PersonalAccount.objects.get(person=person, region_id=OUT).balance
    services.transfer_issue_sheet(transfer_id=transfer.pk, actor=clerk)
    transfer.refresh_from_db()
    assert (transfer.status, transfer.reject_code) == ("rejected", "arrears")
    assert transfer.transit_amount == 0 and transfer.next_step == ""
    assert PersonalAccount.objects.get(person=person, region_id=OUT).balance == balance


def test_incoming_staff_cannot_trigger_the_outgoing_check():
    person, _out, _in = ready_person()
    set_processing(OUT, "manual")
    transfer = services.transfer_apply(**apply_args(person))
    unpaid_registration(person)
    incoming_clerk = factories.StaffFactory(region=factories.region(IN))
    with pytest.raises(DomainError) as info:
        services.transfer_accept(transfer_id=transfer.pk, actor=incoming_clerk)
    assert info.value.code == "wrong_region"
    assert Transfer.objects.get(pk=transfer.pk).status == "submitted"


def test_the_staff_accept_action_says_the_check_failed(client):
    person, _out, _in = ready_person()
    set_processing(OUT, "manual")
    transfer = services.transfer_apply(**apply_args(person))
    unpaid_registration(person)
    client.force_login(out_clerk())
    url = reverse("admin:transfers_outgoingqueue_changelist")
    response = client.post(
        url,
        {"action": "action_accept", ACTION_CHECKBOX_NAME: [transfer.pk]},
        follow=True,
    )
    body = response.content.decode()
    assert "复核办理条件未通过" in body and "转出地存在欠费" in body
    assert "已受理：" not in body
    assert Transfer.objects.get(pk=transfer.pk).status == "rejected"
