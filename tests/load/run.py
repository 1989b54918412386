"""The load run (`make loadtest`): mixed citizen traffic from Locust (headless)
against gunicorn (2 sync workers) + PostgreSQL (database portal_load) + Redis +
a Celery worker and beat, on this machine; then the invariant check. Writes
tests/load/results/latest.json (throughput, latency percentiles, errors,
invariants) and prints a summary.

Knobs (environment): LOAD_USERS (50), LOAD_SECONDS (60), LOAD_CITIZENS (400),
LOAD_DB (portal_load), LOAD_BROKER (redis://127.0.0.1:6379/11)."""

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
VENV_BIN = Path(sys.executable).parent
WORK = ROOT / "var" / "load"
RESULTS = ROOT / "tests" / "load" / "results" / "latest.json"

USERS = int(os.environ.get("LOAD_USERS", "50"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
CITIZENS = int(os.environ.get("LOAD_CITIZENS", "400"))
DB = os.environ.get("LOAD_DB", "portal_load")
BROKER = os.environ.get("LOAD_BROKER", "redis://127.0.0.1:6379/11")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PORT = free_port()
ENV = {
    "DJANGO_SETTINGS_MODULE": "portal.settings.local",
    "DJANGO_DEBUG": "false",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
    "CELERY_BROKER_URL": BROKER,
    "CACHE_URL": os.environ.get("LOAD_CACHE", "redis://127.0.0.1:6379/12"),
    "CELERY_TASK_ALWAYS_EAGER": "false",
    "CELERY_DB_REUSE_MAX": "1000",
    "PORTAL_BASE_URL": f"http://127.0.0.1:{PORT}",
    "SIMULATED_SECONDS_PER_WORKING_DAY": "0.05",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "LOG_LEVEL": "WARNING",
    "PYTHONUNBUFFERED": "1",
}


def log(message: str) -> None:
    print(f"[loadtest {time.strftime('%H:%M:%S')}] {message}", flush=True)


def env() -> dict:
    return {**os.environ, **ENV}


def start(name: str, cmd: list[str], **extra) -> subprocess.Popen:
    out = open(WORK / f"{name}.log", "wb")
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env={**env(), **extra},
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen | None, sig=signal.SIGTERM) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def prepare() -> list[dict]:
    host = ["-h", "127.0.0.1", "-U", "postgres"]
    subprocess.run(["dropdb", *host, "--if-exists", DB], check=True)
    subprocess.run(["createdb", *host, DB], check=True)
    os.environ.update(ENV)
    import django

    django.setup()
    from django.core.management import call_command

    log(f"migrate {DB}")
    call_command("migrate", interactive=False, verbosity=0)
    log(f"seed {CITIZENS} citizens")
    from tests.load.seed import seed

    citizens = seed(CITIZENS)
    from portal.celery import app

    app.control.purge()
    from django.db import connection

    connection.close()
    return citizens


def wait_web(proc) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=2).read()
            return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited; see {WORK / 'gunicorn.log'}"
                ) from None
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer /healthz in 60 s")


def locust_figures(prefix: Path) -> dict:
    rows = list(csv.DictReader(open(f"{prefix}_stats.csv", encoding="utf-8")))
    figures = {}
    for row in rows:
        name = row["Name"] if row["Type"] else "Aggregated"
        name = (
            f"{row['Type']} {row['Name']}".strip()
            if row["Name"] != "Aggregated"
            else "all"
        )
        figures[name] = {
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "rps": round(float(row["Requests/s"]), 1),
            "p50_ms": _num(row["50%"]),
            "p95_ms": _num(row["95%"]),
            "p99_ms": _num(row["99%"]),
            "max_ms": _num(row["Max Response Time"]),
        }
    failures = []
    failures_csv = Path(f"{prefix}_failures.csv")
    if failures_csv.exists():
        failures = [
            {
                "name": r["Name"],
                "error": r["Error"][:200],
                "count": int(r["Occurrences"]),
            }
            for r in csv.DictReader(open(failures_csv, encoding="utf-8"))
        ]
    return {"endpoints": figures, "failures": failures}


def _num(value):
    try:
        return round(float(value))
    except (TypeError, ValueError):
        return None


def settle(timeout: float = 150.0) -> float:
    """Wait until no payment is in flight and no transfer is mid-way (the channels
    answer, reconciliation asks about the silent ones, the transfer engine works)."""
    from payments.models import IN_FLIGHT, Payment
    from transfers.models import Transfer

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        busy = (
            Payment.objects.filter(status__in=IN_FLIGHT).count()
            + Transfer.objects.exclude(
                status__in=["completed", "rejected", "cancelled"]
            ).count()
        )
        if not busy:
            break
        time.sleep(2)
    from django.db import connection

    connection.close()
    return round(time.monotonic() - started, 1)


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    # Other work on the machine skews the figures: say how busy it was.
    load_before = [round(x, 2) for x in os.getloadavg()]
    citizens = prepare()
    citizens_file = WORK / "citizens.json"
    citizens_file.write_text(json.dumps(citizens, ensure_ascii=False))
    web = worker = beat = None
    try:
        log(
            f"gunicorn (2 sync workers) on :{PORT}, a Celery worker (prefork 2) and beat"
        )
        web = start(
            "gunicorn",
            [
                str(VENV_BIN / "gunicorn"),
                "portal.wsgi:application",
                "--config",
                "portal/gunicorn.conf.py",
                "--workers",
                "2",
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{PORT}",
                "--no-control-socket",
                "--worker-tmp-dir",
                "/dev/shm",
                "--backlog",
                "512",
                "--timeout",
                "60",
                "--log-level",
                "warning",
            ],
        )
        worker = start(
            "celery-worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--loglevel=WARNING",
                "--pool=prefork",
                "--concurrency=2",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"load{os.getpid()}@%h",
            ],
        )
        beat = start(
            "celery-beat",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "beat",
                "--loglevel=WARNING",
                "-s",
                str(WORK / "beat-schedule"),
            ],
        )
        wait_web(web)
        log(f"locust: {USERS} users, spawned at {USERS}/s, {SECONDS} s")
        prefix = WORK / "locust"
        started = time.monotonic()
        subprocess.run(
            [
                str(VENV_BIN / "locust"),
                "-f",
                str(ROOT / "tests" / "load" / "locustfile.py"),
                "--headless",
                "-u",
                str(USERS),
                "-r",
                str(USERS),
                "-t",
                f"{SECONDS}s",
                "--host",
                f"http://127.0.0.1:{PORT}",
                "--csv",
                str(prefix),
                "--only-summary",
                "--stop-timeout",
                "10",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env={**env(), "LOAD_CITIZENS": str(citizens_file)},
            check=False,
            stdout=open(WORK / "locust.log", "wb"),
            stderr=subprocess.STDOUT,
        )
        ran = round(time.monotonic() - started, 1)
        log("load over; waiting for payments and transfers to settle")
        settled_in = settle()
    finally:
        for proc in (beat, web, worker):
            stop(proc)
    from tests.load.invariants import broken, totals, violations

    found = violations()
    traffic = locust_figures(WORK / "locust")
    result = {
        "at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{os.cpu_count()} cores",
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "setup": {
            "users": USERS,
            "seconds": SECONDS,
            "ran_seconds": ran,
            "citizens": CITIZENS,
            "web": "gunicorn 2 sync workers",
            "workers": "celery prefork 2 + beat",
            "database": DB,
        },
        "traffic": traffic,
        "settled_after_load_seconds": settled_in,
        "totals": totals(),
        "invariants_checked": sorted(found),
        "invariants_broken": broken(found),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    overall = traffic["endpoints"].get("all", {})
    log(
        f"{overall.get('requests')} requests, {overall.get('failures')} failures, {overall.get('rps')} req/s, "
        f"p50 {overall.get('p50_ms')} ms, p95 {overall.get('p95_ms')} ms, p99 {overall.get('p99_ms')} ms"
    )
    log(f"totals: {result['totals']}")
    log(
        "invariants: "
        + (
            "all hold"
            if not result["invariants_broken"]
            else f"BROKEN {result['invariants_broken']}"
        )
    )
    log(f"written to {RESULTS.relative_to(ROOT)}")
    return 1 if result["invariants_broken"] or overall.get("failures") else 0


if __name__ == "__main__":
    sys.exit(main())
