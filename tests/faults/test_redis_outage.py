"""Redis (the broker) stopped while citizens keep paying and applying through
the web: every page still answers (no 5xx), the work is recorded in the
database (transactional outbox rows left unsent), and once Redis is back the
outbox relay delivers it and every payment and transfer completes: nothing lost.

The broker here is a redis-server of the test's own (never the shared one),
killed and restarted empty, as a crashed Redis without persistence comes back.
"""

import time

import pytest
from django.test import Client
from django.urls import reverse

from core import outbox
from core.models import OutboxMessage
from payments.models import IN_FLIGHT, Payment, PaymentStatus
from portal.celery import app
from tests.factories import EnrollmentFactory, UserFactory, region
from tests.faults.conftest import record, wait_until
from tests.load.invariants import broken, violations
from tests.payments.conftest import signed_quote
from tests.transfers.scenario import IN, OUT, bulk_ready
from transfers.models import Transfer

pytestmark = pytest.mark.django_db(transaction=True)

OUTAGE_SECONDS = 12
WORKER_ENV = {
    "SIMULATED_SECONDS_PER_WORKING_DAY": "0.01",
    "TRANSFER_CLAIM_LEASE_SECONDS": "2",
}


@pytest.fixture
def broker_is_own_redis(own_redis, settings):
    """Point this process's Celery app (and the workers it starts) at our own Redis."""
    previous = app.conf.broker_url
    settings.CELERY_BROKER_URL = own_redis.url

    def use(url):
        app.conf.broker_url = app.conf.broker_read_url = app.conf.broker_write_url = url
        app._pool = None  # the producer pool was built for the old URL
        app.amqp._producer_pool = None

    use(own_redis.url)
    yield own_redis
    use(previous)


def pay(client, enrollment, n):
    url = reverse("payments:pay", args=[enrollment.pk])
    quote = signed_quote(client, enrollment)  # the quote page, before the clock
    started = time.monotonic()
    response = client.post(
        url,
        {
            "channel": "wechat",
            "idempotency_key": f"outage-pay-key-{n:05d}",
            "months": 1,
            "quote": quote,
        },
    )
    return response.status_code, time.monotonic() - started


def apply_transfer(client, person):
    data = {
        "person": str(person.pk),
        "name": person.name,
        "id_number": person.id_number,
        "kind": "e2e",
        "outgoing_region": OUT,
        "incoming_region": IN,
        "confirm": "1",
    }
    started = time.monotonic()
    response = client.post(reverse("transfers:apply"), data)
    return response.status_code, time.monotonic() - started


def test_redis_down_web_keeps_answering_work_kept_in_outbox_and_delivered_when_back(
    broker_is_own_redis, start_worker, live_server, settings
):
    settings.SIMULATED_SECONDS_PER_WORKING_DAY = 0.01
    redis = broker_is_own_redis
    citizens = []
    for _i in range(16):
        user = UserFactory(person__region=region("340100"))
        client = Client()
        client.force_login(user)
        citizens.append((client, EnrollmentFactory(person=user.person, year=2026)))
    movers = []
    for i, person in enumerate(bulk_ready(8)):
        person.name = (
            "转移" + "甲乙丙丁戊己庚辛"[i]
        )  # a name as on an identity card: no digits
        person.save(update_fields=["name"])
        user = UserFactory(person=person)
        client = Client()
        client.force_login(user)
        movers.append((client, person))
    start_worker(
        PORTAL_BASE_URL=live_server.url, CELERY_BROKER_URL=redis.url, **WORKER_ENV
    )

    # Before the outage: a few payments go through normally.
    before = [
        pay(client, enrollment, n)
        for n, (client, enrollment) in enumerate(citizens[:4])
    ]
    assert all(code == 302 for code, _t in before)
    wait_until(
        lambda: Payment.objects.filter(status=PaymentStatus.SUCCESS).count() == 4,
        timeout=30,
        message="the payments before the outage",
    )

    redis.stop()
    outage_started = time.monotonic()
    during = []
    n = 4

    def work_left():
        return n < len(citizens) or Transfer.objects.count() < len(movers)

    # At least OUTAGE_SECONDS of outage, and until every payment and transfer
    # of the script was asked for (a loaded machine answers more slowly; the
    # cap only stops a broken run).
    while (
        time.monotonic() - outage_started < OUTAGE_SECONDS or work_left()
    ) and time.monotonic() - outage_started < 180:
        if n < len(citizens):
            client, enrollment = citizens[n]
            during.append(("pay", *pay(client, enrollment, n)))
            n += 1
        else:
            client, person = movers[
                len([d for d in during if d[0] == "apply"]) % len(movers)
            ]
            if not Transfer.objects.filter(person=person).exists():
                during.append(("apply", *apply_transfer(client, person)))
            else:
                started = time.monotonic()
                code = client.get(reverse("payments:history")).status_code
                during.append(("history", code, time.monotonic() - started))
        time.sleep(0.2)
    unsent_during = OutboxMessage.objects.filter(sent_at__isnull=True).count()
    in_flight_during = Payment.objects.filter(status__in=IN_FLIGHT).count()

    assert all(code < 500 for _kind, code, _t in during), during
    # Pages answer at their usual speed: after the first request that finds the
    # broker gone (it may wait on the connection once), none waits on it.
    assert during[0][2] < 15.0 and max(t for _kind, _code, t in during[1:]) < 2.0, (
        during
    )
    assert [code for kind, code, _t in during if kind == "pay"] == [302] * (
        len(citizens) - 4
    )
    assert (
        unsent_during >= len(citizens) - 4
    )  # each payment's submit task waits in the database
    assert in_flight_during == len(citizens) - 4
    assert Transfer.objects.count() == len(movers)

    redis.start()  # back, empty
    back = time.monotonic()
    # Generous: the worker reconnects with back-off, slower on a loaded machine.
    while time.monotonic() - back < 240:
        outbox.relay(older_than_seconds=0)  # what the beat relay does every 2 s
        app.send_task("transfers.tasks.transfers_scan")
        if (
            OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0
            and Payment.objects.filter(status=PaymentStatus.SUCCESS).count()
            == len(citizens)
            and Transfer.objects.filter(status="completed").count() == len(movers)
        ):
            break
        time.sleep(0.5)
    delivered_in = time.monotonic() - back

    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 0
    assert Payment.objects.filter(status=PaymentStatus.SUCCESS).count() == len(citizens)
    assert Transfer.objects.filter(status="completed").count() == len(movers)
    assert broken(violations()) == {}
    latencies = sorted(t for _kind, _code, t in during)
    record(
        "redis_outage",
        outage_s=OUTAGE_SECONDS,
        requests_during_outage=len(during),
        errors_5xx=0,
        slowest_request_s=round(latencies[-1], 2),
        median_request_s=round(latencies[len(latencies) // 2], 3),
        outbox_rows_unsent_during=unsent_during,
        delivered_after_restart_s=round(delivered_in, 1),
        payments_success=len(citizens),
        transfers_completed=len(movers),
        rows_lost=0,
    )
