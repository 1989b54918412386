"""Shared test set-up.

Tests under tests/integration and tests/faults need PostgreSQL, Redis and real
Celery worker processes. Without CI=true they skip with a one-line reason when
those are absent; with CI=true a missing service fails the run.
"""

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import pytest

SERVICE_DIRS = ("integration", "faults")
TESTS_DIR = Path(__file__).resolve().parent


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or 0), timeout=2
        ):
            return True
    except OSError:
        return False


def services_problem() -> str | None:
    """Why the real-services tests cannot run here, or None."""
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        return "DATABASE_URL is not a PostgreSQL URL"
    db = settings.DATABASES["default"]
    if not _reachable(
        f"postgres://{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    ):
        return f"PostgreSQL not reachable at {db.get('HOST')}:{db.get('PORT') or 5432}"
    broker = settings.CELERY_BROKER_URL
    if not broker.startswith("redis://"):
        return "CELERY_BROKER_URL is not a Redis URL"
    if not _reachable(broker):
        return f"Redis not reachable at {broker}"
    return None


def pytest_collection_modifyitems(config, items):
    service_items = [
        item
        for item in items
        if Path(str(item.fspath)).relative_to(TESTS_DIR).parts[0] in SERVICE_DIRS
    ]
    if not service_items:
        return
    problem = services_problem()
    for item in service_items:
        item.add_marker(pytest.mark.integration)
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.exit(
            f"real-services tests cannot run under CI=true: {problem}", returncode=3
        )
    reason = f"real-services tests skipped: {problem}"
    print(reason)
    for item in service_items:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (rate limits, "looked at today"
    marks, cached pages): the database is new for each test, so must be what
    the cache remembers of it."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _language_reset():
    """A request in English leaves English active in the test process: the
    next test starts in the portal's own language again."""
    yield
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
