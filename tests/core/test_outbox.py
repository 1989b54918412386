"""The transactional outbox: a task is sent after its transaction commits and
the request writes nothing more; the worker that starts it marks the row; the
relay sends again what was not sent (at once) or never started (after
UNACKNOWLEDGED_AFTER), and marks what it sends."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import outbox
from core.models import OutboxMessage

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker(monkeypatch):
    """A broker that records what it is sent (or refuses, when told to)."""
    from portal.celery import app

    state = SimpleNamespace(sent=[], down=False)

    def send_task(name, args=None, headers=None, **kwargs):
        if state.down:
            raise ConnectionError("broker down")
        state.sent.append((name, args, headers))

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    monkeypatch.setattr(app, "send_task", send_task)
    monkeypatch.setattr(outbox, "_broker_down_since", None)
    yield state
    app.conf.task_always_eager = eager


def test_a_task_is_sent_after_commit_and_the_request_writes_nothing_more(broker):
    with CaptureQueriesContext(connection) as captured:
        with transaction.atomic():
            message = outbox.enqueue("core.tasks.outbox_relay", 7)
            assert broker.sent == []  # not before the commit
    assert broker.sent == [
        ("core.tasks.outbox_relay", [7], {outbox.HEADER: message.pk})
    ]
    statements = [query["sql"] for query in captured.captured_queries]
    assert statements[-1] == "COMMIT" and not any(
        sql.startswith("UPDATE") or sql.startswith("SELECT") for sql in statements
    ), statements


def test_the_worker_starting_the_task_marks_its_row(broker):
    with transaction.atomic():
        message = outbox.enqueue("core.tasks.outbox_relay")
    task = SimpleNamespace(request=SimpleNamespace(**{outbox.HEADER: message.pk}))
    outbox.acknowledge(task=task)
    outbox.acknowledge(task=SimpleNamespace(request=SimpleNamespace()))  # not ours
    message.refresh_from_db()
    assert message.sent_at is not None and message.attempts == 1


def test_a_failed_send_is_left_for_the_relay_which_sends_it_at_once(broker):
    broker.down = True
    with transaction.atomic():
        message = outbox.enqueue("core.tasks.outbox_relay")
    message.refresh_from_db()
    assert message.sent_at is None and message.attempts == 1
    broker.down = False
    broker.sent.clear()
    assert outbox.relay() == 1
    message.refresh_from_db()
    assert message.sent_at is not None and len(broker.sent) == 1
    assert outbox.relay() == 0  # marked: never sent a third time


def test_a_message_never_started_is_sent_again_only_after_a_while(broker):
    with transaction.atomic():
        message = outbox.enqueue("core.tasks.outbox_relay")
    broker.sent.clear()
    assert outbox.relay() == 0  # sent a moment ago: a worker may yet start it
    OutboxMessage.objects.filter(pk=message.pk).update(
        created_at=timezone.now()
        - dt.timedelta(seconds=outbox.UNACKNOWLEDGED_AFTER + 1)
    )
    assert outbox.relay() == 1 and len(broker.sent) == 1
    message.refresh_from_db()
    assert message.sent_at is not None
