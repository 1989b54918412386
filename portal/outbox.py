"""Transactional outbox: a task is written to the database in the same
transaction as the change that needs it, and sent to the broker after commit.
If the broker is down, the relay (portal.tasks.outbox_relay) sends it later."""

import logging

from django.db import transaction
from django.utils import timezone

from .models import OutboxMessage

log = logging.getLogger(__name__)


def enqueue(task_name: str, *args) -> OutboxMessage:
    """Record `task_name(*args)` now; send it once the transaction commits."""
    message = OutboxMessage.objects.create(task=task_name, args=list(args))
    transaction.on_commit(lambda: _send(message.pk))
    return message


def _send(message_id: int) -> bool:
    from .celery import app

    message = OutboxMessage.objects.filter(pk=message_id, sent_at__isnull=True).first()
    if message is None:
        return True
    if app.conf.task_always_eager:
        # Unit tests: run in-process, as .delay() would in eager mode.
        OutboxMessage.objects.filter(pk=message_id).update(sent_at=timezone.now(), attempts=1)
        app.tasks[message.task].apply(args=message.args, throw=True)
        return True
    try:
        app.send_task(message.task, args=message.args, retry=False)
    except Exception as exc:  # noqa: BLE001 - any broker failure leaves the row for the relay
        log.warning("broker unavailable, task %s kept in outbox: %s", message.task, exc)
        OutboxMessage.objects.filter(pk=message_id).update(attempts=message.attempts + 1)
        return False
    OutboxMessage.objects.filter(pk=message_id).update(sent_at=timezone.now(), attempts=message.attempts + 1)
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
