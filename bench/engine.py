"""The transfer engine case of `make bench`.

1. Transfers in flight are written straight into the database for persons no
   other case uses: N due now (next step "accept") and N not yet due (due in a
   day). N = 50,000 at a million persons, fewer on a small seed.
2. The scan's time: `transfers.services.transfers_claim_due` (the claim query
   of every scan) timed in a transaction that is rolled back, median of 30,
   first with N not-yet-due transfers, then with 10 N.
3. Throughput: all 11 N transfers made due at once, then one Celery worker
   (prefork, concurrency 2) with simulated offices that answer at once
   (SIMULATED_SECONDS_PER_WORKING_DAY=0), fed `transfers_scan` tasks as beat
   would (more often, so both processes stay busy); step transitions per
   second = new TransferEvent rows / (last event's time - first scan sent),
   by the database's clock.
"""

from __future__ import annotations

import statistics
import time

ENGINE_SECONDS_MIN = 10.0


def _persons_for_engine(persons: int) -> tuple[int, int, int]:
    """(first person id, last person id, N): the persons after the payment groups."""
    from bench.seeding import family_range

    _first, callback_last = family_range("callback", persons)
    first = callback_last + 1
    n = max(0, min(50_000, (persons - first + 1) // 11))
    return first, persons, n


def _cleanup(cursor, first: int, last: int):
    """Remove what earlier runs of this case left for these persons (bench database only)."""
    where = "transfer_id IN (SELECT id FROM transfers_transfer WHERE person_id BETWEEN %s AND %s)"
    for table in (
        "transfers_informationsheet",
        "transfers_handoffmessage",
        "transfers_transferevent",
    ):
        cursor.execute(f"DELETE FROM {table} WHERE {where}", [first, last])
    cursor.execute(
        "DELETE FROM transfers_transfer WHERE person_id BETWEEN %s AND %s",
        [first, last],
    )


def _insert_transfers(cursor, first: int, last: int, *, due: str) -> int:
    from bench.management.commands.seed_bench import Command
    from transfers.models import Transfer, TransferEvent

    command = Command()
    overrides = {
        "person": "p.id",
        "kind": "'r2r'",
        "outgoing_region": "p.region_id",
        "incoming_region": "CASE WHEN p.region_id = '340100' THEN '110000' ELSE '340100' END",
        "status": "'submitted'",
        "channel": "'online'",
        "outgoing_enrollment": "e.id",
        "outgoing_deadline": "current_date + 14",
        "submitted_at": "now()",
        "next_step": "'accept'",
        "due_at": due,
        "updated_at": "now()",
    }
    columns, values = command._select_list(Transfer, overrides)
    cursor.execute(
        f"INSERT INTO transfers_transfer ({columns}) SELECT {values} FROM people_person p "
        "JOIN enrollment_enrollment e ON e.person_id = p.id AND e.year = 2026 "
        "WHERE p.id BETWEEN %s AND %s",
        [first, last],
    )
    inserted = cursor.rowcount
    columns, values = command._select_list(
        TransferEvent,
        {
            "transfer": "t.id",
            "step": "'submitted'",
            "from_status": "''",
            "to_status": "'submitted'",
            "side": "'applicant'",
            "at": "now()",
            "deadline": "t.outgoing_deadline",
        },
    )
    cursor.execute(
        f"INSERT INTO transfers_transferevent ({columns}) SELECT {values} FROM transfers_transfer t "
        "WHERE t.person_id BETWEEN %s AND %s",
        [first, last],
    )
    return inserted


def _claim_time_ms(repeats: int = 30) -> float:
    """Median time of one claim (the scan's query and lease), rolled back each time."""
    from django.db import transaction

    from transfers.services import SCAN_BATCH, transfers_claim_due

    times = []
    for attempt in range(
        repeats + 3
    ):  # the first three warm the caches and are not counted
        with transaction.atomic():
            started = time.perf_counter()
            claimed = transfers_claim_due(batch=SCAN_BATCH)
            if attempt >= 3:
                times.append((time.perf_counter() - started) * 1000)
            transaction.set_rollback(True)
    assert claimed, "no due transfers to claim"
    return statistics.median(times)


def _db_now():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        return cursor.fetchone()[0]


def _last_event_at():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT max(at) FROM transfers_transferevent WHERE step <> 'submitted'"
        )
        return cursor.fetchone()[0]


def _events() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM transfers_transferevent WHERE step <> 'submitted'"
        )
        return cursor.fetchone()[0]


def measure(ctx, duration: float) -> list[dict]:
    from django.db import connection, transaction

    from transfers.services import SCAN_BATCH

    engine = {
        "name": "transfer_engine",
        "kind": "engine",
        "baseline": "pgbench_tpcb",
        "rps_target": 0.5,
        "describe": (
            "step transitions/s, one Celery worker (prefork, concurrency 2), "
            f"scans claim batches of {SCAN_BATCH}; drain of 11 N due transfers"
        ),
    }
    scan = {
        "name": "transfer_scan_10x",
        "kind": "engine",
        "baseline": "transfer_scan_1x",
        "describe": "claim query of a scan with 10× N not-yet-due transfers (ms, median of 30)",
    }
    scan_1x = {
        "name": "transfer_scan_1x",
        "kind": "engine",
        "baseline": None,
        "describe": "claim query of a scan with N not-yet-due transfers (ms, median of 30)",
    }
    first, last, n = _persons_for_engine(ctx.persons)
    if n < 50:
        note = f"too few persons for the engine case ({ctx.persons}); seed more"
        return [
            dict(d, rps=None, p50_ms=None, p99_ms=None, errors=None, note=note)
            for d in (engine, scan_1x, scan)
        ]
    due_first, due_last = first, first + n - 1
    wait_1x_last = due_last + n
    wait_10x_last = due_last + 10 * n
    with transaction.atomic(), connection.cursor() as cursor:
        _cleanup(cursor, first, last)
        _insert_transfers(
            cursor, due_first, due_last, due="now() - interval '1 second'"
        )
        _insert_transfers(
            cursor, due_last + 1, wait_1x_last, due="now() + interval '1 day'"
        )
        cursor.execute("ANALYZE transfers_transfer")
    t1 = _claim_time_ms()
    with transaction.atomic(), connection.cursor() as cursor:
        _insert_transfers(
            cursor, wait_1x_last + 1, wait_10x_last, due="now() + interval '1 day'"
        )
        cursor.execute("ANALYZE transfers_transfer")
    t10 = _claim_time_ms()
    scan_1x.update(
        rps=None, p50_ms=round(t1, 2), p99_ms=None, errors=0, due=n, not_yet_due=n
    )
    scan.update(
        rps=None,
        p50_ms=round(t10, 2),
        p99_ms=None,
        errors=0,
        due=n,
        not_yet_due=10 * n,
        ratio=round(t10 / t1, 2) if t1 else None,
        target_met=bool(t1) and t10 / t1 <= 1.5,
    )

    # Throughput with a worker whose simulated offices answer at once.
    services = ctx.services
    from bench import run as runner

    services.stop_worker()
    runner.ENV["SIMULATED_SECONDS_PER_WORKING_DAY"] = "0"
    try:
        services.start_worker(concurrency=2)
        from portal.celery import app

        # Every transfer inserted above is made due now (N + 10 N): the
        # set-based engine runs its batches far faster than a few hundred due
        # transfers would show in any window. Measured as a drain: step
        # transitions written between the first scan sent and the last event
        # (the database's own clock), fed like beat but every 0.5 s so that
        # both pool processes claim (skip_locked) and run batches.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE transfers_transfer SET due_at = now() - interval '1 second' "
                "WHERE person_id BETWEEN %s AND %s AND next_step = 'accept'",
                [due_first, wait_10x_last],
            )
        before_errors = _failed_steps(services)
        start_count, started_at = _events(), _db_now()
        window = max(ENGINE_SECONDS_MIN, 12 * duration)
        stop_at = time.monotonic() + window
        while time.monotonic() < stop_at:
            app.send_task("transfers.tasks.transfers_scan")
            time.sleep(0.5)
            if _due_left() == 0:
                break
        end_count, last_at = _events(), _last_event_at()
        steps = end_count - start_count
        seconds = (last_at - started_at).total_seconds() if last_at else 0.0
        rate = steps / seconds if seconds > 0 else 0.0
        remaining = _due_left()
        if getattr(ctx, "profile", False) and remaining:
            engine.update(_profile_workers(services, app, seconds=6))
        connection.close()
        app.control.purge()
        engine.update(
            rps=round(rate, 1),
            p50_ms=None,
            p99_ms=None,
            errors=_failed_steps(services) - before_errors,
            steps=steps,
            seconds=round(seconds, 2),
            due=11 * n,
            due_left_after=remaining,
        )
        ctx.engine_memory = [
            runner.peak_rss_mb(pid)
            for pid in [services.worker.pid, *services.worker_processes()]
        ]
    finally:
        runner.ENV.pop("SIMULATED_SECONDS_PER_WORKING_DAY", None)
    return [engine, scan_1x, scan]


def _profile_workers(services, app, *, seconds: float) -> dict:
    """Keep feeding scans while py-spy samples the pool processes."""
    import subprocess

    from bench import run as runner

    pyspy = runner.VENV_BIN / "py-spy"
    if not pyspy.exists():
        return {"profile": "py-spy not installed"}
    outs, procs = [], []
    for pid in services.worker_processes():
        out = runner.RESULTS / "profiles" / f"transfer_engine.{pid}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        outs.append(out)
        procs.append(
            subprocess.Popen(
                [
                    str(pyspy),
                    "record",
                    "--pid",
                    str(pid),
                    "--duration",
                    str(round(seconds)),
                    "--rate",
                    "250",
                    "--nonblocking",
                    "--format",
                    "raw",
                    "--output",
                    str(out),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    stop_at = time.monotonic() + seconds + 0.5
    while time.monotonic() < stop_at:
        app.send_task("transfers.tasks.transfers_scan")
        time.sleep(0.5)
    for proc in procs:
        try:
            proc.wait(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return runner.summarise_profile(
        outs, runner.RESULTS / "profiles" / "transfer_engine.summary.txt"
    )


def _due_left() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM transfers_transfer WHERE due_at <= now() + interval '1 hour'"
        )
        return cursor.fetchone()[0]


def _failed_steps(services) -> int:
    """Steps the scan logged as failed (their tracebacks are in the worker's log)."""
    log = services.logdir / "celery.log"
    if not log.exists():
        return 0
    return log.read_text(errors="replace").count("will retry")
