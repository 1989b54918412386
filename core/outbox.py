"""Transactional outbox: a task is written to the database in the same
transaction as the change that needs it, and sent to the broker after commit.
If the broker is down, the relay (core.tasks.outbox_relay) sends it later."""

import logging
import socket
import time
from urllib.parse import urlparse

from django.db import transaction
from django.utils import timezone

from .models import OutboxMessage

log = logging.getLogger(__name__)


def enqueue(task_name: str, *args) -> OutboxMessage:
    """Record `task_name(*args)` now; send it once the transaction commits."""
    message = OutboxMessage.objects.create(task=task_name, args=list(args))
    transaction.on_commit(lambda: _send(message.pk, wait_for_broker=False))
    return message


# After a failed send, requests stop waiting for the broker (redis-py retries a
# refused connection for seconds): until it answers a quick probe again, new
# rows are left to the relay, so pages keep answering at full speed.
_broker_down_since: float | None = None


def _broker_answers(url: str) -> bool:
    parsed = urlparse(url)
    if parsed.scheme not in ("redis", "rediss", "amqp"):
        return True
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=0.25
        ):
            return True
    except OSError:
        return False


def _send(message_id: int, *, wait_for_broker: bool = True) -> bool:
    global _broker_down_since
    from celery import current_app as app

    message = OutboxMessage.objects.filter(pk=message_id, sent_at__isnull=True).first()
    if message is None:
        return True
    if (
        not app.conf.task_always_eager
        and not wait_for_broker
        and _broker_down_since is not None
        and not _broker_answers(app.conf.broker_write_url or app.conf.broker_url)
    ):
        return False  # still down: the relay sends it later
    if app.conf.task_always_eager:
        # Unit tests: run in-process, as .delay() would in eager mode.
        OutboxMessage.objects.filter(pk=message_id).update(
            sent_at=timezone.now(), attempts=1
        )
        app.tasks[message.task].apply(args=message.args, throw=True)
        return True
    try:
        app.send_task(message.task, args=message.args, retry=False)
    except Exception as exc:  # noqa: BLE001 - any broker failure leaves the row for the relay
        log.warning("broker unavailable, task %s kept in outbox: %s", message.task, exc)
        _broker_down_since = _broker_down_since or time.monotonic()
        OutboxMessage.objects.filter(pk=message_id).update(
            attempts=message.attempts + 1
        )
        return False
    _broker_down_since = None
    OutboxMessage.objects.filter(pk=message_id).update(
        sent_at=timezone.now(), attempts=message.attempts + 1
    )
    return True


def relay(*, older_than_seconds: float = 3.0, batch: int = 200) -> int:
    """Send what the after-commit hook could not (broker down, process killed)."""
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    sent = 0
    with transaction.atomic():
        ids = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True, created_at__lt=cutoff)
            .order_by("created_at")
            .values_list("pk", flat=True)[:batch]
        )
    for message_id in ids:
        if not _send(message_id):
            break
        sent += 1
    return sent
