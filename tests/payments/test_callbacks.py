"""The callback endpoint: signature, timestamp window, replay, amount tamper, duplicates, order."""

import json
import time

import pytest

from payments import services
from payments.models import CallbackLog, PaidPeriod, PaymentStatus, Receipt

from .conftest import signed_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def started(citizen, resident_enrollment):
    """An attempt submitted to WeChat whose answer has not come yet."""
    return services.payment_checkout(
        user=citizen,
        enrollment_id=resident_enrollment.pk,
        channel="wechat",
        idempotency_key="cb-key-0000000000",
    )


def payload(payment, status="success", amount="420.00", seq=2):
    return {
        "reference": payment.reference,
        "status": status,
        "amount": amount,
        "seq": seq,
        "transaction_id": "WX123",
    }


def test_a_valid_success_callback_settles_the_payment(client, started):
    response = signed_post(client, "wechat", payload(started))
    assert response.status_code == 200
    started.refresh_from_db()
    assert (
        started.status == PaymentStatus.SUCCESS
        and started.provider_transaction_id == "WX123"
    )


def test_a_wrong_signature_is_refused_and_changes_nothing(client, started):
    response = signed_post(client, "wechat", payload(started), secret="not-the-secret")
    assert response.status_code == 403
    started.refresh_from_db()
    assert started.status == PaymentStatus.STARTED and not CallbackLog.objects.exists()


def test_a_body_changed_after_signing_is_refused(client, started):
    body = json.dumps(payload(started)).encode()
    timestamp, nonce = str(int(time.time())), "n" * 32
    from django.conf import settings

    from payments.signing import sign

    signature = sign(
        secret=settings.PAYMENT_CALLBACK_SECRET,
        timestamp=timestamp,
        nonce=nonce,
        body=body,
    )
    tampered = body.replace(b"420.00", b"1.00")
    response = client.post(
        "/payments/callback/wechat/",
        data=tampered,
        content_type="application/json",
        headers={"X-Timestamp": timestamp, "X-Nonce": nonce, "X-Signature": signature},
    )
    assert response.status_code == 403


def test_a_replayed_nonce_is_refused(client, started):
    first = signed_post(
        client,
        "wechat",
        payload(started, status="processing", seq=1),
        nonce="replay-nonce-1",
    )
    assert first.status_code == 200
    again = signed_post(
        client,
        "wechat",
        payload(started, status="processing", seq=1),
        nonce="replay-nonce-1",
    )
    assert again.status_code == 409
    assert CallbackLog.objects.filter(nonce="replay-nonce-1").count() == 1


def test_an_old_timestamp_is_refused(client, started):
    response = signed_post(
        client, "wechat", payload(started), timestamp=int(time.time()) - 3600
    )
    assert response.status_code == 400
    started.refresh_from_db()
    assert started.status == PaymentStatus.STARTED


def test_an_amount_that_does_not_match_the_order_is_refused_and_changes_nothing(
    client, started
):
    response = signed_post(client, "wechat", payload(started, amount="0.01"))
    assert response.status_code == 400
    started.refresh_from_db()
    assert started.status == PaymentStatus.STARTED
    assert not Receipt.objects.exists() and not PaidPeriod.objects.exists()
    assert CallbackLog.objects.get().outcome == "amount_mismatch"


def test_a_second_identical_callback_is_accepted_and_changes_nothing(client, started):
    assert signed_post(client, "wechat", payload(started)).status_code == 200
    events = started.events.count()
    assert signed_post(client, "wechat", payload(started)).status_code == 200
    started.refresh_from_db()
    assert started.status == PaymentStatus.SUCCESS
    assert started.events.count() == events
    assert Receipt.objects.count() == 1 and PaidPeriod.objects.count() == 1


def test_an_older_message_arriving_after_the_outcome_is_ignored(client, started):
    assert signed_post(client, "wechat", payload(started, seq=2)).status_code == 200
    late = signed_post(client, "wechat", payload(started, status="processing", seq=1))
    assert late.status_code == 200 and late.json()["result"] == "stale"
    started.refresh_from_db()
    assert started.status == PaymentStatus.SUCCESS


def test_a_decline_after_success_does_not_undo_it(client, started):
    signed_post(client, "wechat", payload(started, seq=2))
    signed_post(client, "wechat", payload(started, status="failed", seq=3))
    started.refresh_from_db()
    assert started.status == PaymentStatus.SUCCESS


def test_a_callback_on_another_channel_does_not_find_the_payment(client, started):
    response = signed_post(client, "alipay", payload(started))
    assert response.status_code == 400
    started.refresh_from_db()
    assert started.status == PaymentStatus.STARTED


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"reference": 1}',
        b'{"reference":"x","status":"success","amount":"abc"}',
        b'{"reference":"x","status":"weird","amount":"1"}',
    ],
)
def test_malformed_callbacks_answer_4xx_never_500(client, started, body):
    response = signed_post(client, "wechat", None, body=body)
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("channel", ["counter", "account", "nope"])
def test_unknown_channels_are_not_found(client, channel):
    assert signed_post(client, channel, {"reference": "x"}).status_code == 404


def test_missing_headers_are_refused(client, started):
    response = client.post(
        "/payments/callback/wechat/",
        data=json.dumps(payload(started)),
        content_type="application/json",
    )
    assert response.status_code == 403
