"""`make bench`: measure the portal against this machine's own limits, in one run.

    .venv/bin/python bench/run.py                  # BENCH_PERSONS (default 20000)
    BENCH_PERSONS=1000000 .venv/bin/python bench/run.py   # database portal_bench_1m, results at-1m.json
    .venv/bin/python bench/run.py --only baseline_read,coverage_page --duration 3
    BENCH_DB=portal_bench_1m .venv/bin/python bench/run.py --skip-seed --out at-1m   # an already seeded database

Steps: create and migrate the bench database, seed it (seed_bench), start
gunicorn (2 sync workers) and a Celery worker (prefork, concurrency 2) on Redis
db 9, run every case with wrk (-t2 -c32), run pgbench TPC-B at 8 clients, run
the transfer engine case, profile the cases that miss their target with py-spy,
and write bench/results/latest.json, docs/PERFORMANCE.md and docs/performance.svg.

Ratios are what count: every figure of one run shares the same noisy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
VENV_BIN = ROOT / ".venv" / "bin"
PY = str(VENV_BIN / "python") if (VENV_BIN / "python").exists() else sys.executable
LUA = ROOT / "bench" / "wrk" / "requests.lua"
sys.path.insert(0, str(ROOT))

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")


def database_for(persons: int) -> str:
    """Each scale has its own database, so a 20,000-person run never reseeds
    the million (and the reverse): portal_bench, portal_bench_1m, …"""
    if os.environ.get("BENCH_DB"):
        return os.environ["BENCH_DB"]
    if persons == 20_000:
        return "portal_bench"
    if persons % 1_000_000 == 0:
        return f"portal_bench_{persons // 1_000_000}m"
    if persons % 1000 == 0:
        return f"portal_bench_{persons // 1000}k"
    return f"portal_bench_{persons}"


DB_NAME = database_for(int(os.environ.get("BENCH_PERSONS", "20000")))
TPCB_DB = "portal_bench_tpcb"
BROKER = os.environ.get("BENCH_BROKER", "redis://127.0.0.1:6379/9")

ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DATABASE_URL": f"{PG}/{DB_NAME}",
    "CELERY_BROKER_URL": BROKER,
    # The shared cache (sessions, rate limits) on its own Redis database.
    "CACHE_URL": os.environ.get("BENCH_CACHE", "redis://127.0.0.1:6379/8"),
    "CELERY_TASK_ALWAYS_EAGER": "false",
    "DJANGO_SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "PAYMENT_CALLBACK_SECRET": "bench-callback-secret",
    "AXES_ENABLED": "false",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "LOG_LEVEL": "WARNING",
    "PYTHONUNBUFFERED": "1",
}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_rss_mb(pid: int) -> dict:
    """Resident memory now and at its peak (VmHWM) of one process, in MB."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out["rss_mb" if key == "VmRSS" else "peak_rss_mb"] = round(
                    int(value.split()[0]) / 1024, 1
                )
    except FileNotFoundError:
        pass
    return out


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(x) for x in task.read_text().split()]
    return found


class Services:
    """gunicorn and a Celery worker, started and stopped by the runner (by pid)."""

    def __init__(self, port: int, logdir: Path):
        self.port = port
        self.logdir = logdir
        self.web = None
        self.worker = None

    def start_web(self):
        cmd = [
            str(VENV_BIN / "gunicorn"),
            "portal.wsgi:application",
            "--config",
            "portal/gunicorn.conf.py",
            "--workers",
            "2",
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--no-control-socket",
            "--worker-tmp-dir",
            "/dev/shm",
            "--backlog",
            "256",
            "--log-level",
            "warning",
            "--timeout",
            "60",
        ]
        self.web = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=full_env(),
            stdout=open(self.logdir / "gunicorn.log", "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port}/healthz", timeout=2
                ).read()
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                if self.web.poll() is not None:
                    raise RuntimeError(
                        f"gunicorn exited; see {self.logdir / 'gunicorn.log'}"
                    )
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer /healthz in 60 s")

    def wait_idle(self, timeout: float = 30.0) -> float:
        """Wait until the web workers stop using CPU: requests wrk sent before it
        stopped are still queued in gunicorn's backlog and would run into the
        next case's figures otherwise."""
        started = time.monotonic()

        def cpu() -> int:
            total = 0
            for pid in self.web_workers():
                try:
                    fields = (
                        Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    )
                    total += int(fields[11]) + int(
                        fields[12]
                    )  # utime + stime, in clock ticks
                except (FileNotFoundError, IndexError, ValueError):
                    pass
            return total

        last = cpu()
        while time.monotonic() - started < timeout:
            time.sleep(0.3)
            now = cpu()
            if now - last <= 1:  # at most 10 ms of CPU in 300 ms: idle
                break
            last = now
        return round(time.monotonic() - started, 1)

    def restart_web(self):
        """A fresh gunicorn (new socket): the only way to drop a backlog of slow
        requests that would otherwise run for minutes into the next case."""
        if self.web and self.web.poll() is None:
            os.killpg(self.web.pid, signal.SIGKILL)
            self.web.wait(timeout=10)
        self.start_web()

    def web_workers(self) -> list[int]:
        return children(self.web.pid) if self.web else []

    def start_worker(self, *, concurrency: int = 2, queues: str | None = None):
        cmd = [
            PY,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--loglevel=WARNING",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"bench{os.getpid()}@%h",
        ]
        if queues:
            cmd += ["-Q", queues]
        self.worker = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=full_env(),
            stdout=open(self.logdir / "celery.log", "ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        from portal.celery import app

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.worker.poll() is not None:
                raise RuntimeError(
                    f"celery worker exited; see {self.logdir / 'celery.log'}"
                )
            if app.control.ping(timeout=1.0):
                return
            time.sleep(0.3)
        raise RuntimeError("celery worker did not answer a ping in 60 s")

    def stop_worker(self):
        if self.worker and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGTERM)
            try:
                self.worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.worker.pid, signal.SIGKILL)
                self.worker.wait(timeout=10)
        self.worker = None

    def drain(self, timeout: float = 90.0) -> float:
        """Wait until the broker queue is empty (work the last case queued), so
        the next case does not share the CPU with it. Returns the seconds waited."""
        import redis

        started = time.monotonic()
        client = redis.Redis.from_url(BROKER)
        # Queued tasks are in the list; tasks a worker holds (a countdown, such
        # as the simulated channel's answer, or running) are in "unacked".
        while time.monotonic() - started < timeout and (
            client.llen("celery") or client.hlen("unacked")
        ):
            time.sleep(0.5)
        time.sleep(1.0)
        return round(time.monotonic() - started, 1)

    def worker_processes(self) -> list[int]:
        return children(self.worker.pid) if self.worker else []

    def stop(self):
        for proc in (self.web, self.worker):
            if proc and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)


def use_database(name: str) -> None:
    global DB_NAME
    DB_NAME = name
    ENV["DATABASE_URL"] = f"{PG}/{name}"


def full_env() -> dict:
    env = dict(os.environ)
    env.update(ENV)
    return env


def run_wrk(
    url: str,
    *,
    duration: float,
    connections: int = 32,
    threads: int = 2,
    headers: dict | None = None,
    method: str = "GET",
    body: str = "",
    requests_file: Path | None = None,
    expect: int | None = None,
) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "BENCH_HEADERS": "|".join(f"{k}: {v}" for k, v in (headers or {}).items()),
            "BENCH_METHOD": method,
            "BENCH_BODY": body,
            "BENCH_REQUESTS": str(requests_file) if requests_file else "",
            "BENCH_EXPECT": str(expect or ""),
            "BENCH_THREADS": str(threads),
        }
    )
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
    ]
    out = subprocess.run(
        cmd, env=env, capture_output=True, text=True, timeout=duration + 60
    )
    match = re.search(r"^BENCH_JSON (.*)$", out.stdout, re.M)
    if not match:
        raise RuntimeError(
            f"wrk gave no result: {out.stdout[-500:]} {out.stderr[-500:]}"
        )
    raw = json.loads(match.group(1))
    seconds = raw["duration_us"] / 1e6
    return {
        "rps": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p90_ms": round(raw["p90_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "requests": raw["requests"],
        "errors": raw["socket_errors"] + raw["bad_status"],
        "bad_statuses": raw["statuses"],
    }


def warm_sessions(ctx) -> None:
    for sessions, path in (
        (ctx.family_sessions, "/bench/chrome/"),
        (ctx.clerk_sessions, "/admin/"),
    ):
        for session in sessions:
            request = urllib.request.Request(
                ctx.base_url + path, headers=ctx.headers(session)
            )
            try:
                urllib.request.urlopen(request, timeout=30).read()
            except (urllib.error.URLError, OSError):
                pass


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    index = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[index]


def pgbench(duration: float, clients: int = 8) -> dict:
    """TPC-B (pgbench's default script) at `clients` clients on its own database."""
    host = ["-h", "127.0.0.1", "-U", "postgres"]
    subprocess.run(
        ["dropdb", *host, "--if-exists", TPCB_DB], check=True, capture_output=True
    )
    subprocess.run(["createdb", *host, TPCB_DB], check=True, capture_output=True)
    subprocess.run(
        ["pgbench", *host, "-i", "-q", "-s", "10", TPCB_DB],
        check=True,
        capture_output=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        prefix = str(Path(tmp) / "tx")
        out = subprocess.run(
            [
                "pgbench",
                *host,
                "-c",
                str(clients),
                "-j",
                "2",
                "-T",
                str(max(1, round(duration))),
                "-l",
                f"--log-prefix={prefix}",
                TPCB_DB,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        latencies = []
        for path in Path(tmp).glob("tx*"):
            for line in path.read_text().splitlines():
                parts = line.split()
                if len(parts) >= 3:
                    latencies.append(int(parts[2]) / 1000)
    tps = float(re.search(r"tps = ([\d.]+)", out.stdout).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    return {
        "rps": round(tps, 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "errors": int(failed.group(1)) if failed else 0,
        "requests": len(latencies),
    }


def profile_case(services: Services, case, ctx, duration: float, name: str) -> dict:
    """Rerun a case while py-spy samples both web workers; summarise where the time goes."""
    pyspy = VENV_BIN / "py-spy"
    if not pyspy.exists():
        return {"profile": "py-spy not installed"}
    # Build the requests first: py-spy must sample the run, not the build.
    spec = case.spec(ctx)
    services.wait_idle()
    outs, procs = [], []
    for pid in services.web_workers():
        out = RESULTS / "profiles" / f"{name}.{pid}.txt"
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
                    str(round(duration)),
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
    time.sleep(0.5)
    case.run(ctx, duration, spec)
    for proc in procs:
        try:
            proc.wait(timeout=duration + 30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return summarise_profile(outs, RESULTS / "profiles" / f"{name}.summary.txt")


def summarise_profile(paths: list[Path], out: Path) -> dict:
    """From py-spy's collapsed stacks: total samples, the share of time inside
    each of our own functions (inclusive) and the hottest leaves (self)."""
    inclusive, leaves, total = {}, {}, 0
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            count = int(count)
            total += count
            frames = stack.split(";")
            seen = set()
            for frame in frames:
                key = _frame_key(frame)
                if key in seen:
                    continue
                seen.add(key)
                inclusive[key] = inclusive.get(key, 0) + count
            leaf = _frame_key(frames[-1])
            leaves[leaf] = leaves.get(leaf, 0) + count
    if not total:
        return {"profile": "no samples"}
    own = {
        k: v
        for k, v in inclusive.items()
        if OWN_CODE.search(k) and "middleware.py" not in k
    }
    sql = sum(v for k, v in inclusive.items() if SQL_FRAME.search(k))
    template = sum(v for k, v in inclusive.items() if TEMPLATE_FRAME.search(k))
    lines = [f"samples: {total}", "", "our code, inclusive share of worker time:"]
    for key, value in sorted(own.items(), key=lambda kv: -kv[1])[:25]:
        lines.append(f"  {100 * value / total:5.1f}%  {key}")
    lines += ["", "hottest leaves (self time):"]
    for key, value in sorted(leaves.items(), key=lambda kv: -kv[1])[:25]:
        lines.append(f"  {100 * value / total:5.1f}%  {key}")
    out.write_text("\n".join(lines) + "\n")
    top_own = [
        f"{100 * v / total:.0f}% {k}"
        for k, v in sorted(own.items(), key=lambda kv: -kv[1])[:8]
    ]
    shown = str(out.relative_to(ROOT)) if out.is_relative_to(ROOT) else str(out)
    return {
        "profile": shown,
        "profile_samples": total,
        "profile_top": top_own,
        "profile_sql_share": round(sql / total, 3),
        "profile_template_share": round(template / total, 3),
    }


# Time waiting for PostgreSQL (statements and commits), and rendering templates.
SQL_FRAME = re.compile(
    r"(\.execute(many)? \(psycopg/cursor\.py\)|Connection\.commit \(psycopg/connection\.py\))$"
)
TEMPLATE_FRAME = re.compile(r"^Template\.render \(django/template/base\.py\)$")
OWN_CODE = re.compile(
    r"\((portal|core|people|enrollment|payments|transfers|records)/[^ ]*\.py\)$"
)


def _frame_key(frame: str) -> str:
    # "func (path/to/file.py:123)" → "func (path/to/file.py)"
    return re.sub(r":\d+\)$", ")", frame.strip()).replace(str(ROOT) + "/", "")


def django_setup():
    os.environ.update(ENV)
    import django

    django.setup()


def static_is_fresh() -> bool:
    """Whether the collected static files (their manifest) are newer than
    every source file: compressing them all again takes minutes on a busy
    machine, and the cases request no static file."""
    from django.conf import settings
    from django.contrib.staticfiles.finders import get_finders

    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.exists():
        return False
    built = manifest.stat().st_mtime
    for finder in get_finders():
        for path, storage in finder.list([]):
            if Path(storage.path(path)).stat().st_mtime > built:
                return False
    return True


def prepare_database(persons: int, skip_seed: bool) -> dict:
    host = ["-h", "127.0.0.1", "-U", "postgres"]
    exists = subprocess.run(
        ["psql", *host, "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{DB_NAME}'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["createdb", *host, DB_NAME], check=True)
    django_setup()
    from django.core.management import call_command

    log("migrate")
    call_command("migrate", interactive=False, verbosity=0)
    if static_is_fresh():
        log("collectstatic: the collected files are newer than every source, skipped")
    else:
        log("collectstatic")
        call_command("collectstatic", interactive=False, verbosity=0)
    seed = {"persons": persons}
    if not skip_seed:
        from people.models import Person

        count = Person.objects.count()
        started = time.monotonic()
        log(f"seed_bench --persons {persons}")
        # Always from scratch: the payment cases consume their seeded rows.
        call_command("seed_bench", persons=persons, reset=bool(count))
        seed["seconds"] = round(time.monotonic() - started, 1)
    # The bench's own cache (sessions, cached pages, rate limits): nothing
    # cached from an earlier run's data may answer for this one.
    from django.core.cache import cache

    cache.clear()
    from django.db import connection

    connection.close()
    return seed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--persons", type=int, default=int(os.environ.get("BENCH_PERSONS", "20000"))
    )
    parser.add_argument(
        "--duration", type=float, default=float(os.environ.get("BENCH_DURATION", "5"))
    )
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--skip-seed", action="store_true")
    parser.add_argument(
        "--seed-only",
        action="store_true",
        help="create, migrate and seed the database, then stop",
    )
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument(
        "--out",
        default=None,
        help="results file name under bench/results/ (without .json); "
        "latest (20,000 persons) or latest-1m (1,000,000) by default",
    )
    args = parser.parse_args(argv)
    use_database(database_for(args.persons))
    if args.out is None:
        args.out = (
            "latest"
            if args.persons == 20_000
            else "latest-" + DB_NAME.removeprefix("portal_bench_")
        )
    if not shutil.which("wrk"):
        print(
            "wrk is not installed (make bench installs it with apt-get)",
            file=sys.stderr,
        )
        return 2

    started = time.monotonic()
    RESULTS.mkdir(parents=True, exist_ok=True)
    seed = prepare_database(args.persons, args.skip_seed)
    if args.seed_only:
        log(f"seeded {DB_NAME}: {seed}")
        return 0
    from bench import cases as case_module

    port = free_port()
    # The simulated payment channels call back into this gunicorn.
    ENV["PORTAL_BASE_URL"] = f"http://127.0.0.1:{port}"
    logdir = Path(tempfile.mkdtemp(prefix="bench-logs-"))
    services = Services(port, logdir)
    results: list[dict] = []
    memory: dict = {}
    ctx = None
    import redis

    broker = redis.Redis.from_url(BROKER)
    broker.flushdb()  # Redis db 9 is the benchmark's own: no tasks left from an earlier run
    try:
        log(
            "starting gunicorn (2 sync workers) and a Celery worker (prefork, concurrency 2)"
        )
        services.start_web()
        services.start_worker()
        ctx = case_module.Context(
            base_url=f"http://127.0.0.1:{port}",
            results_dir=RESULTS,
            tmp=logdir,
            services=services,
        )
        ctx.prepare()
        ctx.profile = not args.no_profile
        wanted = {name for name in args.only.split(",") if name}
        selected = [
            case for case in case_module.CASES if not wanted or case.name in wanted
        ]
        # Warm both workers (imports, template caches, connections) before measuring.
        run_wrk(f"{ctx.base_url}/bench/read/{ctx.read_pk}/", duration=2)
        # And each logged-in session once: its first request refreshes the
        # session row (SessionRefreshMiddleware), which would otherwise fall
        # on whichever logged-in case comes first.
        warm_sessions(ctx)
        for case in selected:
            log(f"case {case.name}")
            try:
                result = case.measure(ctx, args.duration)
            except Exception as error:  # noqa: BLE001 - one broken case must not lose the run
                result = {
                    "name": case.name,
                    "kind": "page",
                    "baseline": case.baseline,
                    "rps": None,
                    "p50_ms": None,
                    "p99_ms": None,
                    "errors": None,
                    "note": f"case failed: {type(error).__name__}: {str(error)[:300]}",
                }
            if case.method_post:
                result["drain_seconds"] = services.drain()
            results.append(result)
            log(
                f"  → {json.dumps({k: result.get(k) for k in ('rps', 'p50_ms', 'p99_ms', 'errors', 'note')}, ensure_ascii=False)}"
            )
        # Baselines again at the end: the machine is shared, so a ratio uses the
        # mean of the two passes of its baseline.
        case_module.second_baseline_pass(ctx, results, args.duration)
        if not wanted or "pgbench_tpcb" in wanted:
            log("pgbench TPC-B, 8 clients")
            tpcb = {
                "name": "pgbench_tpcb",
                "kind": "limit",
                **pgbench(max(args.duration, 5)),
            }
            results.append(tpcb)
        engine = [
            case
            for case in case_module.ENGINE_CASES
            if not wanted or case.name in wanted
        ]
        for case in engine:
            log(f"case {case.name}")
            results.extend(case.measure(ctx, args.duration))
        case_module.compute_ratios(results)
        memory["web_workers"] = [peak_rss_mb(pid) for pid in services.web_workers()]
        memory["celery_processes"] = [
            peak_rss_mb(pid)
            for pid in [services.worker.pid, *services.worker_processes()]
        ]
        if not args.no_profile:
            for result in results:
                case = next((c for c in selected if c.name == result["name"]), None)
                if (
                    case is not None
                    and result.get("target_met") is False
                    and case.profilable
                ):
                    log(f"profiling {case.name} (missed its target)")
                    result.update(
                        profile_case(
                            services, case, ctx, max(args.duration, 5), case.name
                        )
                    )
    finally:
        services.stop()
        broker.flushdb()
    run = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "seconds": round(time.monotonic() - started, 1),
        "persons": ctx.persons if ctx is not None else args.persons,
        "seed": seed,
        "duration_per_case_s": args.duration,
        "memory": memory,
        "cpus": os.cpu_count(),
    }
    for result in results:
        result.setdefault("baseline", None)
        result.setdefault("ratio", None)
    out = results + [
        {
            "name": "_run",
            "rps": None,
            "p50_ms": None,
            "p99_ms": None,
            "errors": 0,
            "baseline": None,
            "ratio": None,
            **run,
        }
    ]
    target = RESULTS / f"{args.out}.json"
    target.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    log(f"wrote {target}")
    if not args.no_report and args.out in ("latest", "latest-1m"):
        from bench import report

        report.write(out)
        log("wrote docs/PERFORMANCE.md and docs/performance.svg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
