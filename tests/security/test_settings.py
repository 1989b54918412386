"""Security settings: deploy checks, headers, cookies, password hashing, CSRF."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def production_env(**extra):
    env = dict(os.environ)
    # The browser tests allow the ORM under Playwright's event loop; a deployment never does.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        DJANGO_SECRET_KEY="x" * 20
        + "-production-secret-from-the-environment-0123456789",
        DJANGO_ALLOWED_HOSTS="yibao.example.cn",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/portal",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        PAYMENT_CALLBACK_SECRET="callback-secret-from-the-environment",
        CACHE_URL="redis://127.0.0.1:6379/3",
    )
    env.update(extra)
    return env


def test_production_settings_pass_check_deploy_without_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("required", ["DJANGO_SECRET_KEY", "CACHE_URL"])
def test_production_refuses_to_start_without_a_required_setting(required):
    """No secret key by default, and no per-process cache (each worker would
    keep its own rate limits)."""
    env = production_env()
    env.pop(required, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert required in result.stderr


def test_passwords_are_hashed_with_argon2id_at_owasp_strength_in_production():
    from django.contrib.auth.hashers import Argon2PasswordHasher
    from django.utils.module_loading import import_string

    from portal.settings import base

    hasher = import_string(base.PASSWORD_HASHERS[0])()
    assert isinstance(hasher, Argon2PasswordHasher)
    encoded = hasher.encode("a-Password-2026", hasher.salt())
    assert encoded.startswith("argon2$argon2id$")
    # OWASP's minimum for Argon2id: 19 MiB of memory and 2 passes.
    assert hasher.memory_cost >= 19 * 1024 and hasher.time_cost >= 2
    assert hasher.verify("a-Password-2026", encoded)


def test_sessions_expire():
    assert settings.SESSION_COOKIE_AGE <= 60 * 60
    assert settings.SESSION_COOKIE_HTTPONLY


@pytest.mark.django_db
def test_content_security_policy_allows_no_inline_script(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    script_src = next(
        part for part in csp.split(";") if part.strip().startswith("script-src")
    )
    assert "'unsafe-inline'" not in script_src
    assert "'self'" in script_src
    assert "frame-ancestors 'none'" in csp


@pytest.mark.django_db
def test_pages_have_no_inline_scripts_or_styles(client):
    for url in ("/", "/signup/", "/login/"):
        html = client.get(url).content.decode()
        assert "<script>" not in html and "<script type" not in html, url
        assert " style=" not in html, url


@pytest.mark.django_db
def test_forms_are_protected_against_csrf():
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/signup/", {"name": "张三"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_a_page_view_does_not_write_the_session_until_a_minute_has_passed(client):
    import datetime as dt

    import time_machine
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import UserFactory

    user = UserFactory()
    start = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        client.force_login(user)
        with CaptureQueriesContext(connection) as quiet:
            assert client.get("/").status_code == 200
    assert not [
        q
        for q in quiet.captured_queries
        if "UPDATE" in q["sql"] and "django_session" in q["sql"]
    ]
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        with CaptureQueriesContext(connection) as refreshed:
            client.get("/")
    assert [
        q
        for q in refreshed.captured_queries
        if "UPDATE" in q["sql"] and "django_session" in q["sql"]
    ]
    with time_machine.travel(start + dt.timedelta(minutes=100), tick=False):
        response = client.get("/enrollment/coverage/")
    assert (
        response.status_code == 302 and "/login/" in response["Location"]
    )  # idle for over 30 minutes
