"""A measurement, not a test of behaviour: step transitions per second of the
transfer engine on PostgreSQL, for the figures in bench/NOTES.md (§5).

Not collected by a normal run (no `test_` file name); run it by path:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/14 CELERY_TASK_ALWAYS_EAGER=false \\
    .venv/bin/python -m pytest tests/integration/engine_rate.py -q -s -p no:randomly

`ENGINE_RATE_N` transfers (default 1,000) of persons ready to move e2e are
written straight into the database, due now, then driven to completion (four
steps each: accept, issue_sheet, receive, complete) with simulated offices
that answer at once:
- in process: `transfers_scan()` in a loop, one process, claims of
  `ENGINE_RATE_BATCH` (default transfers.services.SCAN_BATCH); before it, the
  statements of one scan of 50 due at each step;
- with a worker: one Celery worker (prefork, concurrency 2) fed
  `transfers_scan` every 0.5 s, as `bench/engine.py` does.
A step transition is a TransferEvent row other than `submitted`.
"""

import datetime as dt
import os
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.celery import app
from tests.transfers.scenario import bulk_ready, bulk_submitted
from transfers import services
from transfers.models import EventStep, Transfer, TransferEvent, TransferStatus

pytestmark = pytest.mark.django_db(transaction=True)

N = int(os.environ.get("ENGINE_RATE_N", "1000"))
# Claims of the in-process scans (the worker's use transfers_scan's default).
BATCH = int(os.environ.get("ENGINE_RATE_BATCH", services.SCAN_BATCH))


def due_transfers(count: int) -> list[Transfer]:
    """`count` submitted transfers due now, as transfer_apply leaves them."""
    return bulk_submitted(bulk_ready(count))


def steps() -> int:
    return TransferEvent.objects.exclude(step=EventStep.SUBMITTED).count()


def completed() -> int:
    return Transfer.objects.filter(status=TransferStatus.COMPLETED).count()


def test_rate_in_process(settings):
    settings.SIMULATED_SECONDS_PER_WORKING_DAY = 0.0
    settings.WORKDAYS_CACHE_SECONDS = 30.0
    # The statements of one scan of 50 due transfers, at each step.
    sample = bulk_submitted(bulk_ready(50, first_birth=dt.date(1960, 1, 1)))
    per_step = {}
    for step in ("accept", "issue_sheet", "receive", "complete"):
        before = steps()
        with CaptureQueriesContext(connection) as queries:
            services.transfers_scan(batch=50, time_budget=0.0001)
        per_step[step] = (len(queries), steps() - before)
    assert completed() == len(sample)
    due_transfers(N)
    start_steps, started = steps(), time.perf_counter()
    while completed() < N + len(sample):
        services.transfers_scan(batch=BATCH, time_budget=8.0)
    seconds = time.perf_counter() - started
    done = steps() - start_steps
    print(
        f"\nin process, batches of {BATCH}: {done} steps in {seconds:.1f} s "
        f"= {done / seconds:.0f} steps/s"
    )
    for step, (statements, moved) in per_step.items():
        print(f"  a scan of 50 due at {step}: {statements} statements, {moved} steps")


def test_rate_with_a_worker_of_concurrency_2(start_worker, settings):
    due_transfers(N)
    start_worker(SIMULATED_SECONDS_PER_WORKING_DAY="0", WORKDAYS_CACHE_SECONDS="30")
    started, first = time.perf_counter(), steps()
    deadline = started + 600
    while completed() < N and time.perf_counter() < deadline:
        app.send_task("transfers.tasks.transfers_scan")
        time.sleep(0.5)
    seconds = time.perf_counter() - started
    done = steps() - first
    print(
        f"\nworker (concurrency 2): {done} steps in {seconds:.1f} s "
        f"= {done / seconds:.0f} steps/s (granularity 0.5 s)"
    )
    assert completed() == N
