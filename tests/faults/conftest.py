"""Fault tests: the real-services fixtures (worker processes on the test
database and broker), plus a Redis server of our own that a test may stop and
start (never the shared one on 6379)."""

import shutil
import socket
import subprocess
import time

import pytest

from tests.integration.conftest import (  # noqa: F401 - re-exported
    purge_broker,
    start_worker,
    wait_until,
    worker_env,
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A throwaway redis-server the test starts, stops (SIGKILL) and restarts on one port."""

    def __init__(self, tmp_path):
        self.port = _free_port()
        self.dir = tmp_path
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(
            self.reachable,
            timeout=10,
            interval=0.05,
            message="our redis-server to listen",
        )
        return self

    def reachable(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture
def own_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = OwnRedis(tmp_path).start()
    yield server
    server.stop()


def elapsed_since(start: float) -> float:
    return round(time.monotonic() - start, 2)


# `make faults` records the figures in the committed results file; any other run
# (make test, CI) writes beside it under var/ so the work tree stays clean.
_HERE = __import__("pathlib").Path(__file__).resolve().parent
RESULTS = (
    _HERE / "results" / "latest.json"
    if __import__("os").environ.get("RECORD_RESULTS") == "1"
    else _HERE.parents[1] / "var" / "faults-latest.json"
)


def record(test: str, **figures) -> None:
    """Keep a fault test's figures of its last run (docs/RELIABILITY.md quotes them)."""
    import json

    RESULTS.parent.mkdir(exist_ok=True)
    try:
        data = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        data = {}
    data[test] = {"at": time.strftime("%Y-%m-%d %H:%M:%S"), **figures}
    RESULTS.write_text(
        json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    )
