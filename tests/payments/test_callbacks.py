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


# --- Every number parsed is checked for its type and range (issue 11) ----------


def unchanged(payment, events):
    """Nothing about the payment was written: only the refusal is logged."""
    payment.refresh_from_db()
    return (
        payment.status == PaymentStatus.STARTED
        and payment.last_callback_seq == 0
        and payment.events.count() == events
        and not Receipt.objects.exists()
        and not PaidPeriod.objects.exists()
        and set(CallbackLog.objects.values_list("outcome", flat=True)) <= {"malformed"}
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"seq": 10**30},
        {"seq": 2**31},
        {"seq": -1},
        {"seq": 2.5},
        {"seq": 2.0},
        {"seq": "2"},
        {"seq": None},
        {"seq": True},
        {"seq": [2]},
        {"amount": "1" + "0" * 30},
        {"amount": "10000000000.00"},
        {"amount": "-420.00"},
        {"amount": "420.001"},
        {"amount": "1e400"},
        {"amount": "NaN"},
        {"amount": "Infinity"},
        {"amount": "４２０.００"},
        {"amount": 420.0},
        {"amount": 420},
        {"amount": None},
        {"reference": 12345},
        {"reference": "P" * 200},
        {"status": ["success"]},
    ],
    ids=repr,
)
def test_a_number_out_of_range_or_of_the_wrong_type_answers_400_and_writes_nothing(
    client, started, changes
):
    events = started.events.count()
    response = signed_post(client, "wechat", {**payload(started), **changes})
    assert response.status_code == 400
    assert response.json()["error"] == "malformed" and response.json()["reason"]
    assert unchanged(started, events)


@pytest.mark.parametrize(
    "body",
    [
        b'{"reference":"R","status":"success","amount":"420.00","seq":1e400}',
        b'{"reference":"R","status":"success","amount":"420.00","seq":NaN}',
        b'{"reference":"R","status":"success","amount":"420.00","seq":-Infinity}',
        b'{"reference":"R","status":"success","amount":"420.00","seq":'
        + b"9" * 5000
        + b"}",
        b"[" * 100_000 + b"]" * 100_000,
        b"\xff\xfe not utf-8",
    ],
    ids=["seq 1e400", "seq NaN", "seq -Infinity", "seq 5000 digits", "deep", "bytes"],
)
def test_raw_bodies_that_json_reads_strangely_answer_400(client, started, body):
    events = started.events.count()
    body = body.replace(b'"R"', f'"{started.reference}"'.encode())
    response = signed_post(client, "wechat", None, body=body)
    assert response.status_code == 400
    assert unchanged(started, events)


def test_the_largest_sequence_number_the_database_holds_is_accepted(client, started):
    response = signed_post(client, "wechat", payload(started, seq=2**31 - 1))
    assert response.status_code == 200
    started.refresh_from_db()
    assert started.status == PaymentStatus.SUCCESS
    assert started.last_callback_seq == 2**31 - 1


@pytest.mark.parametrize(
    "timestamp", ["9" * 30, "²", "١٢٣٤٥٦٧٨٩٠", "-1", "1.5", " 1700000000"]
)
def test_a_signed_timestamp_that_is_not_unix_seconds_answers_400(
    client, started, timestamp
):
    """Signed, so it passes the signature; then refused as a timestamp, not a 500."""
    from django.conf import settings

    from payments.signing import sign

    body = json.dumps(payload(started)).encode()
    nonce = "t" * 32
    signature = sign(
        secret=settings.PAYMENT_CALLBACK_SECRET,
        timestamp=timestamp,
        nonce=nonce,
        body=body,
    )
    response = client.post(
        "/payments/callback/wechat/",
        data=body,
        content_type="application/json",
        headers={"X-Timestamp": timestamp, "X-Nonce": nonce, "X-Signature": signature},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "bad timestamp"
    started.refresh_from_db()
    assert started.status == PaymentStatus.STARTED
    assert not CallbackLog.objects.exists()


def test_a_signature_with_non_ascii_characters_is_refused_not_a_500(client, started):
    response = client.post(
        "/payments/callback/wechat/",
        data=json.dumps(payload(started)),
        content_type="application/json",
        headers={
            "X-Timestamp": str(int(time.time())),
            "X-Nonce": "n" * 32,
            "X-Signature": "é" * 64,
        },
    )
    assert response.status_code == 403
    assert not CallbackLog.objects.exists()


# --- The simulated channels call back the portal's own address ----------------


def test_the_simulator_calls_back_settings_portal_base_url(settings, monkeypatch):
    from payments import simulator

    settings.PORTAL_BASE_URL = "http://127.0.0.1:18801/"
    sent = []
    monkeypatch.setattr(
        simulator,
        "http_post",
        lambda url, *, body, headers: sent.append(url) or 200,
    )
    assert simulator.send_callback(channel="wechat", payload={"seq": 1}) == 200
    assert sent == ["http://127.0.0.1:18801/payments/callback/wechat/"]


def test_make_run_passes_its_own_address_to_web_worker_and_beat():
    """`PORT=18801 make run`: the worker's simulated channels must call back
    18801, not the default 8000 (PORTAL_BASE_URL is read from the environment)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    makefile = (root / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "PORTAL_BASE_URL=http://127.0.0.1:$(PORT)" in run
    processes = dict(
        line.split(":", 1)
        for line in (root / "Procfile").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    assert set(processes) >= {"web", "worker", "beat"}
    for name in ("web", "worker", "beat"):
        assert "PORTAL_BASE_URL=" in processes[name], name
