"""Staff pages: both regions see a transfer; queues ordered overdue first;
accept / reject with reason / complete through the services; counter applications."""

import datetime as dt

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from tests import factories
from transfers import services
from transfers.models import Transfer

from .scenario import IN, OUT, apply_args, ready_person, set_processing

pytestmark = pytest.mark.django_db


@pytest.fixture
def manual():
    factories.region(OUT)
    factories.region(IN)
    set_processing(OUT, "manual")
    set_processing(IN, "manual")


def clerk(client, code):
    user = factories.StaffFactory(region=factories.region(code))
    client.force_login(user)
    return user


def test_a_transfer_is_visible_to_staff_of_both_regions_and_no_other(client, manual):
    person, _o, _i = ready_person()
    transfer = services.transfer_apply(**apply_args(person))
    url = reverse("admin:transfers_transfer_changelist")
    for code, visible in ((OUT, True), (IN, True), ("370200", False)):
        clerk(client, code)
        body = client.get(url).content.decode()
        assert (transfer.reference in body) is visible, code
    clerk(client, "370200")
    change = client.get(reverse("admin:transfers_transfer_change", args=[transfer.pk]))
    assert change.status_code == 302  # "does not exist" for another region


def test_outgoing_queue_puts_overdue_first(client, manual):
    first, _o, _i = ready_person()
    second, _o, _i = ready_person()
    late = services.transfer_apply(**apply_args(first))
    soon = services.transfer_apply(**apply_args(second))
    Transfer.objects.filter(pk=late.pk).update(outgoing_deadline=dt.date(2026, 1, 5))
    Transfer.objects.filter(pk=soon.pk).update(outgoing_deadline=dt.date(2099, 1, 5))
    clerk(client, OUT)
    body = client.get(
        reverse("admin:transfers_outgoingqueue_changelist")
    ).content.decode()
    assert body.index(late.reference) < body.index(soon.reference)
    assert "已超期" in body
    clerk(client, IN)
    body = client.get(
        reverse("admin:transfers_incomingqueue_changelist")
    ).content.decode()
    assert late.reference not in body  # not the incoming region's turn yet


def test_staff_accept_issue_and_complete_through_actions(client, manual):
    person, _o, _i = ready_person()
    transfer = services.transfer_apply(**apply_args(person))
    clerk(client, OUT)
    url = reverse("admin:transfers_outgoingqueue_changelist")
    client.post(url, {"action": "action_accept", ACTION_CHECKBOX_NAME: [transfer.pk]})
    assert Transfer.objects.get(pk=transfer.pk).status == "outgoing_review"
    client.post(
        url, {"action": "action_issue_sheet", ACTION_CHECKBOX_NAME: [transfer.pk]}
    )
    assert Transfer.objects.get(pk=transfer.pk).status == "sheet_issued"
    services.transfers_scan(
        time_budget=1
    )  # the sheet message reaches the incoming region
    clerk(client, IN)
    url = reverse("admin:transfers_incomingqueue_changelist")
    client.post(url, {"action": "action_complete", ACTION_CHECKBOX_NAME: [transfer.pk]})
    assert Transfer.objects.get(pk=transfer.pk).status == "completed"
    page = client.get(
        reverse("admin:transfers_transfer_change", args=[transfer.pk])
    ).content.decode()
    assert "转入地办结" in page and "转出地受理" in page  # the history inline


def test_reject_with_reason_asks_for_the_reason_first(client, manual):
    person, _o, _i = ready_person()
    transfer = services.transfer_apply(**apply_args(person))
    clerk(client, OUT)
    url = reverse("admin:transfers_outgoingqueue_changelist")
    form = client.post(
        url, {"action": "action_reject", ACTION_CHECKBOX_NAME: [transfer.pk]}
    )
    assert form.status_code == 200 and "不予办理原因" in form.content.decode()
    assert Transfer.objects.get(pk=transfer.pk).status == "submitted"
    client.post(
        url,
        {
            "action": "action_reject",
            ACTION_CHECKBOX_NAME: [transfer.pk],
            "apply": "1",
            "code": "not_suspended",
            "text": "单位尚未办理停保",
        },
    )
    transfer.refresh_from_db()
    assert transfer.status == "rejected" and transfer.reject_code == "not_suspended"
    assert transfer.reject_text == "单位尚未办理停保"


def test_staff_of_the_wrong_side_cannot_act(client, manual):
    person, _o, _i = ready_person()
    transfer = services.transfer_apply(**apply_args(person))
    clerk(client, IN)
    client.post(
        reverse("admin:transfers_transfer_changelist"),
        {"action": "action_accept", ACTION_CHECKBOX_NAME: [transfer.pk]},
    )
    assert Transfer.objects.get(pk=transfer.pk).status == "submitted"


def test_counter_application_by_staff(client, manual):
    person, _o, _i = ready_person(person=factories.PersonFactory(name="李四"))
    user = clerk(client, IN)
    url = reverse("admin:transfers_transfer_counter")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "name": person.name,
            "id_number": person.id_number,
            "kind": "e2e",
            "outgoing_region": OUT,
            "incoming_region": IN,
        },
    )
    transfer = Transfer.objects.get(person=person)
    assert response.status_code == 302
    assert transfer.channel == "counter" and transfer.applicant == user


def test_auditors_see_but_cannot_act(client, manual):
    person, _o, _i = ready_person()
    transfer = services.transfer_apply(**apply_args(person))
    auditor = factories.StaffFactory(role="auditor", region=None)
    client.force_login(auditor)
    body = client.get(reverse("admin:transfers_transfer_changelist")).content.decode()
    assert transfer.reference in body
    client.post(
        reverse("admin:transfers_transfer_changelist"),
        {"action": "action_accept", ACTION_CHECKBOX_NAME: [transfer.pk]},
    )
    assert Transfer.objects.get(pk=transfer.pk).status == "submitted"
