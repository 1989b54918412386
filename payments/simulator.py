"""Simulated payment providers (国家医保服务平台App, 微信, 支付宝, 银行App).

A stand-in for the outside channels, run by the Celery workers. It keeps its own
ledger (SimTransaction) and talks to the portal only over HTTP: it answers each
charge request later with an HMAC-SHA256-signed callback POSTed to
PORTAL_BASE_URL + /payments/callback/<channel>/. It never calls the portal's
services. How it answers is scripted per channel (SimChannelScript): succeed,
decline, charge but stay silent, never process, answer twice, or answer out of
order, each after a chosen delay.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from decimal import Decimal

import requests
from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction

from .models import SimBehaviour, SimChannelScript, SimTransaction
from .signing import sign

log = logging.getLogger(__name__)
DEFAULT_DELAY = Decimal("0.5")


def script(
    channel: str, behaviour: str, *, delay: float | Decimal | str = DEFAULT_DELAY
) -> SimChannelScript:
    """Queue how `channel` answers its next request (tests, demo, staff)."""
    return SimChannelScript.objects.create(
        channel=channel, behaviour=behaviour, delay_seconds=Decimal(str(delay))
    )


def _next_behaviour(channel: str) -> tuple[str, Decimal]:
    row = (
        SimChannelScript.objects.select_for_update(skip_locked=True)
        .filter(channel=channel, used=False)
        .order_by("created_at", "id")
        .first()
    )
    if row is None:
        return SimBehaviour.SUCCEED, DEFAULT_DELAY
    row.used = True
    row.save(update_fields=["used"])
    return row.behaviour, row.delay_seconds


def provider_request(*, channel: str, merchant_reference: str, amount: Decimal) -> str:
    """Take a charge request; the same merchant reference twice is one charge."""
    with transaction.atomic():
        existing = SimTransaction.objects.filter(
            channel=channel, merchant_reference=merchant_reference
        ).first()
        if existing is not None:
            return existing.transaction_id
        behaviour, delay = _next_behaviour(channel)
        transaction_id = f"{channel[:2].upper()}{time.strftime('%Y%m%d')}{secrets.token_hex(6).upper()}"
        if behaviour == SimBehaviour.NEVER:
            # The request is lost: no record, no charge, no answer.
            return transaction_id
        try:
            with transaction.atomic():
                txn = SimTransaction.objects.create(
                    channel=channel,
                    merchant_reference=merchant_reference,
                    transaction_id=transaction_id,
                    amount=amount,
                    behaviour=behaviour,
                    delay_seconds=delay,
                )
        except IntegrityError:
            return SimTransaction.objects.get(
                channel=channel, merchant_reference=merchant_reference
            ).transaction_id
        transaction.on_commit(
            lambda: provider_answer.apply_async(args=[txn.pk], countdown=float(delay))
        )
    return transaction_id


def provider_query(*, channel: str, merchant_reference: str) -> dict | None:
    txn = SimTransaction.objects.filter(
        channel=channel, merchant_reference=merchant_reference
    ).first()
    if txn is None:
        return None
    if txn.charged or txn.behaviour in (
        SimBehaviour.SUCCEED,
        SimBehaviour.TWICE,
        SimBehaviour.OUT_OF_ORDER,
        SimBehaviour.SILENT,
    ):
        _charge(txn)  # the money moved when the customer confirmed, answered or not
        return {
            "status": "success",
            "transaction_id": txn.transaction_id,
            "amount": txn.amount,
        }
    if (
        txn.behaviour in (SimBehaviour.DECLINE, SimBehaviour.LATE_CHARGE)
        and not txn.charged
    ):
        return {
            "status": "failed",
            "transaction_id": txn.transaction_id,
            "amount": txn.amount,
        }
    return {
        "status": "processing",
        "transaction_id": txn.transaction_id,
        "amount": txn.amount,
    }


def provider_refund(*, channel: str, merchant_reference: str, amount: Decimal) -> str:
    with transaction.atomic():
        txn = SimTransaction.objects.select_for_update().get(
            channel=channel, merchant_reference=merchant_reference
        )
        if txn.refunded_amount == 0:
            txn.refunded_amount = amount
            txn.save(update_fields=["refunded_amount"])
    return f"RF{txn.transaction_id}"


def _charge(txn: SimTransaction) -> None:
    SimTransaction.objects.filter(pk=txn.pk, charged=False).update(
        charged=True, result="success"
    )


def http_post(url: str, *, body: bytes, headers: dict) -> int:
    """One HTTP POST; replaced in unit tests by one through Django's test client."""
    response = requests.post(url, data=body, headers=headers, timeout=10)
    return response.status_code


def send_callback(*, channel: str, payload: dict) -> int:
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(16)
    signature = sign(
        secret=settings.PAYMENT_CALLBACK_SECRET,
        timestamp=timestamp,
        nonce=nonce,
        body=body,
    )
    url = settings.PORTAL_BASE_URL.rstrip("/") + f"/payments/callback/{channel}/"
    return http_post(
        url,
        body=body,
        headers={
            "Content-Type": "application/json",
            "X-Timestamp": timestamp,
            "X-Nonce": nonce,
            "X-Signature": signature,
        },
    )


def _payload(txn: SimTransaction, status: str, seq: int) -> dict:
    return {
        "reference": txn.merchant_reference,
        "transaction_id": txn.transaction_id,
        "status": status,
        "amount": str(txn.amount),
        "seq": seq,
        "reason": "余额不足" if status == "failed" else "",
    }


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=8)
def provider_answer(self, txn_id: int):
    """Answer a charge request as scripted (the provider's own worker)."""
    txn = SimTransaction.objects.filter(pk=txn_id).first()
    if txn is None:
        return "missing"
    behaviour = txn.behaviour
    if behaviour in (SimBehaviour.DECLINE, SimBehaviour.LATE_CHARGE):
        SimTransaction.objects.filter(pk=txn.pk).update(result="failed")
        messages = [_payload(txn, "failed", 2)]
        if behaviour == SimBehaviour.LATE_CHARGE:
            # The provider later takes the money anyway (a duplicate the portal must refund).
            provider_late_charge.apply_async(
                args=[txn.pk], countdown=float(txn.delay_seconds) + 2.0
            )
    else:
        _charge(txn)
        if behaviour == SimBehaviour.SILENT:
            return "silent"
        messages = [_payload(txn, "success", 2)]
        if behaviour == SimBehaviour.TWICE:
            messages.append(_payload(txn, "success", 2))
        elif behaviour == SimBehaviour.OUT_OF_ORDER:
            messages.append(
                _payload(txn, "processing", 1)
            )  # the older message arrives last
    try:
        codes = [
            send_callback(channel=txn.channel, payload=message) for message in messages
        ]
    except requests.RequestException as exc:
        raise self.retry(exc=exc, countdown=1) from exc
    if any(code >= 500 for code in codes):
        raise self.retry(countdown=1)
    return codes


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=8)
def provider_late_charge(self, txn_id: int):
    txn = SimTransaction.objects.filter(pk=txn_id).first()
    if txn is None:
        return "missing"
    SimTransaction.objects.filter(pk=txn.pk).update(charged=True, result="success")
    try:
        return send_callback(channel=txn.channel, payload=_payload(txn, "success", 3))
    except requests.RequestException as exc:
        raise self.retry(exc=exc, countdown=1) from exc
