"""The portal against real PostgreSQL, Redis and a real Celery worker."""

import pytest
from django.db import connection

from core.models import OutboxMessage
from core.outbox import enqueue

from .conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_runs_on_postgresql():
    assert connection.vendor == "postgresql"


def test_readyz_is_ready_when_database_and_broker_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "broker": "ok"}


def test_a_real_worker_runs_a_task_sent_through_the_outbox(start_worker):
    start_worker()
    from django.db import transaction

    with transaction.atomic():
        message = enqueue("core.tasks.outbox_relay")
    wait_until(
        lambda: OutboxMessage.objects.filter(
            pk=message.pk, sent_at__isnull=False
        ).exists(),
        message="the outbox message to be sent",
    )
