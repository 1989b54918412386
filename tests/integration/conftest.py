"""Real worker processes for the real-services tests.

Tests that use a worker must commit their data (`@pytest.mark.django_db(transaction=True)`)
so the worker, a separate process on the same test database, sees it.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def worker_env(**extra) -> dict:
    """The environment of a process that talks to the test database and broker."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.test",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_TASK_ALWAYS_EAGER="false",
        AXES_ENABLED="false",
        PYTHONUNBUFFERED="1",
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


class WorkerProcess:
    """A real `celery worker` (or beat) process, started and killed by tests."""

    def __init__(self, *, args=(), log_path: Path, **extra_env):
        self.args = list(args)
        self.log_path = log_path
        self.extra_env = extra_env
        self.proc = None

    def start(self):
        log = open(self.log_path, "ab")
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--loglevel=INFO",
            "--pool=prefork",
            "--concurrency=2",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"test{os.getpid()}-{time.time_ns()}@%h",
            *self.args,
        ]
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=worker_env(**self.extra_env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def wait_ready(self, timeout=60):
        from portal.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"worker exited with {self.proc.returncode}; see {self.log_path}"
                )
            replies = app.control.ping(timeout=1.0)
            if replies:
                return replies
            time.sleep(0.5)
        raise TimeoutError(f"worker not ready in {timeout}s; see {self.log_path}")

    def kill(self, sig=signal.SIGKILL):
        """Kill the whole process group (the main process and its pool children)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def purge_broker():
    from portal.celery import app

    app.control.purge()
    yield


@pytest.fixture
def start_worker(tmp_path, purge_broker, django_db_setup):
    """Start real worker processes; all are stopped at the end of the test."""
    started = []

    def start(*args, **extra_env):
        worker = WorkerProcess(
            args=args, log_path=tmp_path / f"worker{len(started)}.log", **extra_env
        ).start()
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_until(predicate, *, timeout=60.0, interval=0.2, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
