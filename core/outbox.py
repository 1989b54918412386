"""Transactional outbox: a task is written to the database in the same
transaction as the change that needs it, and sent to the broker after commit.

Nothing more is written on the way: the worker that starts the task marks the
row (`sent_at`, by `acknowledge`, a task_prerun receiver), so the request that
made the change commits once. A row nobody marked is sent again by the relay
(core.tasks.outbox_relay, every 2 s): at once when the request could not send
it (the broker was down: `attempts` > 0), after UNACKNOWLEDGED_AFTER when it
was sent but never started (the web process died before sending it, or the
broker lost it). Every task is safe to run twice, so a message sent twice
costs a little work and a message never sent cannot happen."""

import logging
import socket
import time
from functools import partial
from urllib.parse import urlparse

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import OutboxMessage

log = logging.getLogger(__name__)

# The message header that carries the row's id to the worker.
HEADER = "outbox_id"
# How long a message sent after commit may wait for a worker to start it
# before the relay sends it again: long enough for a queue on a busy day.
UNACKNOWLEDGED_AFTER = 60.0


def enqueue(task_name: str, *args) -> OutboxMessage:
    """Record `task_name(*args)` now; send it once the transaction commits."""
    message = OutboxMessage.objects.create(task=task_name, args=list(args))
    transaction.on_commit(partial(_send, message, wait_for_broker=False))
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


def _send(message: OutboxMessage, *, wait_for_broker: bool = True) -> bool:
    """Send one row's task. After commit (wait_for_broker=False) nothing is
    written unless the send fails; the relay marks what it sends itself."""
    global _broker_down_since
    from celery import current_app as app

    if app.conf.task_always_eager:
        # Unit tests: run in-process, as .delay() would in eager mode.
        _mark_sent(message.pk)
        app.tasks[message.task].apply(args=message.args, throw=True)
        return True
    if (
        not wait_for_broker
        and _broker_down_since is not None
        and not _broker_answers(app.conf.broker_write_url or app.conf.broker_url)
    ):
        _left_for_relay(message.pk)  # still down
        return False
    try:
        app.send_task(
            message.task, args=message.args, headers={HEADER: message.pk}, retry=False
        )
    except Exception as exc:  # noqa: BLE001 - any broker failure leaves the row for the relay
        log.warning("broker unavailable, task %s kept in outbox: %s", message.task, exc)
        _broker_down_since = _broker_down_since or time.monotonic()
        _left_for_relay(message.pk)
        return False
    _broker_down_since = None
    if wait_for_broker:
        _mark_sent(message.pk)  # the relay: sent again now, never a third time
    return True


def _mark_sent(message_id: int) -> None:
    OutboxMessage.objects.filter(pk=message_id, sent_at__isnull=True).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1
    )


def _left_for_relay(message_id: int) -> None:
    """The request could not send it: the relay sends it at its next pass."""
    OutboxMessage.objects.filter(pk=message_id).update(attempts=F("attempts") + 1)


def acknowledge(sender=None, task=None, **kwargs) -> None:
    """celery task_prerun receiver (connected in CoreConfig.ready()): a worker
    starts a task sent through the outbox, so its row is delivered."""
    message_id = getattr(getattr(task, "request", None), HEADER, None)
    if isinstance(message_id, int):
        _mark_sent(message_id)


def relay(*, older_than_seconds: float = UNACKNOWLEDGED_AFTER, batch: int = 200) -> int:
    """Send what the after-commit send could not (broker down) at once, and
    what no worker started within `older_than_seconds` (process killed,
    message lost); each is marked sent by this send."""
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    sent = 0
    with transaction.atomic():
        messages = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True)
            .filter(Q(attempts__gt=0) | Q(created_at__lt=cutoff))
            .order_by("created_at")[:batch]
        )
    for message in messages:
        if not _send(message):
            break
        sent += 1
    return sent
