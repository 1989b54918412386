"""Queues that empty: a failure the person has since paid leaves 缴费失败;
each queue shows its age and deadline; a payment's and a transfer's own page
offer the actions the list offers, to the region whose turn it is."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from enrollment.models import Verification
from payments import services
from payments.models import Payment, PaymentStatus
from people.models import StaffAccess
from tests.factories import EnrollmentFactory, PersonFactory, StaffFactory, UserFactory
from transfers.models import Transfer

CST = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(autouse=True)
def _in_the_window():
    with time_machine.travel(dt.datetime(2026, 11, 2, 10, 0, tzinfo=CST), tick=True):
        yield


def _failed_online_payment(region_obj, year=2027):
    """A WeChat attempt the channel declined (set directly: the decline itself
    is the payments tests' subject)."""
    citizen = UserFactory(person=PersonFactory(region=region_obj))
    enrollment = EnrollmentFactory(person=citizen.person, region=region_obj, year=year)
    payment = services.payment_checkout(
        user=citizen,
        enrollment_id=enrollment.pk,
        channel="wechat",
        idempotency_key=f"queue-key-{enrollment.pk:06d}-xxxx",
    )
    Payment.objects.filter(pk=payment.pk).update(
        status=PaymentStatus.FAILED, settled_at=timezone.now(), due_at=None
    )
    return Payment.objects.get(pk=payment.pk), enrollment


def _failed_queue(client):
    response = client.get(
        reverse("admin:payments_payment_changelist"), {"attention": "failed"}
    )
    assert response.status_code == 200
    return response


def test_a_failure_paid_another_way_leaves_the_failed_queue(client, staff, regions):
    failed, enrollment = _failed_online_payment(regions[0])
    still_failed, _other = _failed_online_payment(regions[0])
    client.force_login(staff["clerk"])
    queue = _failed_queue(client)
    assert {p.pk for p in queue.context["cl"].result_list} == {
        failed.pk,
        still_failed.pk,
    }
    services.payment_counter(
        staff=staff["clerk"],
        enrollment_id=enrollment.pk,
        idempotency_key="queue-counter-key-0001",
    )
    queue = _failed_queue(client)
    assert [p.pk for p in queue.context["cl"].result_list] == [still_failed.pk]


def test_the_failed_queue_shows_age_and_the_deadline_to_pay(client, staff, regions):
    from enrollment.models import Policy

    failed, enrollment = _failed_online_payment(regions[0])
    window_end = Policy.objects.get(region=regions[0], year=2027).window_end
    client.force_login(staff["clerk"])
    page = _failed_queue(client).content.decode()
    assert "已等待" in page and "处理期限" in page
    assert f"{window_end:%Y}年{window_end.month}月{window_end.day}日" in page
    assert failed.reference in page


def test_a_failed_payments_page_offers_the_retry_and_runs_it(client, staff, regions):
    failed, _enrollment = _failed_online_payment(regions[0])
    client.force_login(staff["clerk"])
    change = reverse("admin:payments_payment_change", args=[failed.pk])
    act = reverse("admin:payments_payment_act", args=[failed.pk, "retry"])
    page = client.get(change).content.decode()
    assert act in page and "补扣" in page
    response = client.post(act)
    assert response.status_code == 302 and response["Location"] == change
    assert Payment.objects.filter(order=failed.order).count() == 2
    assert StaffAccess.objects.filter(
        person=failed.insured, staff=staff["clerk"], action="action"
    ).exists()


def test_a_payments_page_action_is_refused_elsewhere_and_to_auditors(
    client, staff, regions
):
    failed, _enrollment = _failed_online_payment(regions[0])
    act = reverse("admin:payments_payment_act", args=[failed.pk, "retry"])
    change = reverse("admin:payments_payment_change", args=[failed.pk])
    client.force_login(staff["auditor"])
    assert act not in client.get(change).content.decode()
    assert client.post(act).status_code == 403
    client.force_login(staff["clerk_bj"])
    assert client.post(act).status_code == 404
    client.force_login(staff["clerk"])
    assert client.get(act).status_code == 405
    assert Payment.objects.count() == 1


def test_an_action_the_status_does_not_allow_is_explained_not_run(
    client, staff, regions
):
    paid = services.payment_counter(
        staff=staff["clerk"],
        enrollment_id=EnrollmentFactory(
            person=PersonFactory(region=regions[0]), region=regions[0]
        ).pk,
        idempotency_key="queue-counter-key-0002",
    )
    client.force_login(staff["clerk"])
    response = client.post(
        reverse("admin:payments_payment_act", args=[paid.pk, "retry"]), follow=True
    )
    assert "不能办理此操作" in response.content.decode()
    assert Payment.objects.count() == 1


@pytest.fixture
def transfer(regions):
    hefei, _beijing, qingdao = regions
    return Transfer.objects.create(
        person=PersonFactory(region=hefei),
        kind=Transfer._meta.get_field("kind").choices[0][0],
        outgoing_region=hefei,
        incoming_region=qingdao,
        outgoing_deadline=dt.date(2026, 11, 16),
    )


def test_the_outgoing_region_acts_from_the_transfers_page(client, staff, transfer):
    client.force_login(staff["clerk"])
    change = reverse("admin:transfers_transfer_change", args=[transfer.pk])
    page = client.get(change).content.decode()
    accept = reverse("admin:transfers_transfer_act", args=[transfer.pk, "accept"])
    reject = reverse("admin:transfers_transfer_act", args=[transfer.pk, "reject"])
    assert accept in page and reject in page
    response = client.post(accept)
    assert response.status_code == 302 and response["Location"] == change
    transfer.refresh_from_db()
    assert transfer.status != "submitted"
    assert StaffAccess.objects.filter(
        person=transfer.person, staff=staff["clerk"], action="action"
    ).exists()


def test_rejecting_from_the_transfers_page_asks_for_the_reason(client, staff, transfer):
    client.force_login(staff["clerk"])
    reject = reverse("admin:transfers_transfer_act", args=[transfer.pk, "reject"])
    form = client.get(reject)
    assert form.status_code == 200 and "不予办理原因" in form.content.decode()
    response = client.post(
        reject,
        {
            "apply": "1",
            "action": "action_reject",
            "_selected_action": [transfer.pk],
            "code": "arrears",
            "text": "",
        },
    )
    assert response.status_code == 302
    transfer.refresh_from_db()
    assert transfer.status == "rejected" and transfer.reject_code == "arrears"


def test_the_incoming_region_cannot_take_the_outgoing_step(client, regions, transfer):
    qingdao_clerk = StaffFactory(region=regions[2], role="clerk")
    client.force_login(qingdao_clerk)
    change = reverse("admin:transfers_transfer_change", args=[transfer.pk])
    accept = reverse("admin:transfers_transfer_act", args=[transfer.pk, "accept"])
    page = client.get(change)
    assert page.status_code == 200 and accept not in page.content.decode()
    client.post(accept)
    # Nor through the list's action.
    client.post(
        reverse("admin:transfers_transfer_changelist"),
        {"action": "action_accept", "_selected_action": [transfer.pk]},
    )
    transfer.refresh_from_db()
    assert transfer.status == "submitted"


def test_transfer_queues_show_how_long_the_step_has_waited(client, staff, transfer):
    client.force_login(staff["clerk"])
    page = client.get(reverse("admin:transfers_outgoingqueue_changelist"))
    text = page.content.decode()
    assert transfer.reference in text and "已等待" in text and "办理时限" in text


def test_the_verification_queue_shows_age_and_deadline(client, staff, regions):
    EnrollmentFactory(
        person=PersonFactory(region=regions[0]),
        region=regions[0],
        year=2027,
        category="dibao",
        verification=Verification.PENDING,
    )
    client.force_login(staff["clerk"])
    page = client.get(
        reverse("admin:enrollment_enrollment_changelist"),
        {"verification": "pending"},
    ).content.decode()
    assert "已等待" in page and "审核期限" in page and "2026年12月31日" in page
