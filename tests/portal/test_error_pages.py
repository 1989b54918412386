"""A 400, 403, 404, 500 or a refused form (CSRF) gives the citizen a page in
their language saying what happened and what to do, never Django's pages
for developers; `make run` (portal.settings.local) runs with DEBUG off and
keeps the developers' pages (/dev/sms/) by DEV_PAGES."""

import importlib

import pytest
from django.test import Client
from django.urls import clear_url_caches, reverse

from tests import factories

pytestmark = pytest.mark.django_db

# What Django's own pages say (debug or not): none may reach a citizen.
DJANGO_WORDS = (
    "403 Forbidden",
    "CSRF verification failed",
    "Server Error (500)",
    "Bad Request (400)",
    "<h1>Not Found</h1>",
    "was not found on this server",
    "Using the URLconf defined in",
    "Traceback",
    "DEBUG = True",
)


def in_language(client, language):
    client.cookies["django_language"] = language
    return client


def assert_citizen_page(response, *, status, language, words):
    text = response.content.decode()
    assert response.status_code == status
    assert f'<html lang="{"en" if language == "en" else "zh-Hans"}">' in text
    assert not [word for word in DJANGO_WORDS if word in text], text[:400]
    if language == "zh-hans":
        assert words in text
    assert 'href="/"' in text or f'href="{reverse("portal:home")}"' in text


@pytest.fixture
def error_urls(settings):
    settings.ROOT_URLCONF = "tests.portal.urls_errors"
    clear_url_caches()
    yield
    clear_url_caches()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_unknown_address_is_a_friendly_404(client, language):
    response = in_language(client, language).get("/no-such-page/")
    assert_citizen_page(
        response, status=404, language=language, words="找不到您要的页面"
    )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_forbidden_page_is_a_friendly_403(client, error_urls, language):
    response = in_language(client, language).get("/test-errors/403/")
    assert_citizen_page(
        response, status=403, language=language, words="您无权办理这项业务"
    )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_bad_request_is_a_friendly_400(client, error_urls, language):
    response = in_language(client, language).get("/test-errors/400/")
    assert_citizen_page(
        response, status=400, language=language, words="无法处理这个请求"
    )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_crash_is_a_friendly_500_that_asks_for_nothing_more(error_urls, language):
    client = in_language(Client(raise_request_exception=False), language)
    response = client.get("/test-errors/500/")
    assert_citizen_page(
        response, status=500, language=language, words="您的操作没有完成，也没有扣款"
    )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_form_refused_by_csrf_says_what_to_do(language):
    client = in_language(Client(enforce_csrf_checks=True), language)
    response = client.post(
        reverse("people:login"), {"username": "13900000000", "password": "x"}
    )
    assert_citizen_page(
        response, status=403, language=language, words="页面已过期，请重新提交"
    )


def test_a_csrf_failure_page_for_a_signed_in_citizen_keeps_the_site_around_it():
    user = factories.UserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(reverse("people:care_mode"), {"enabled": "1"})
    text = response.content.decode()
    assert response.status_code == 403 and "页面已过期" in text
    assert reverse("people:logout") in text  # the usual header, signed in
    user.refresh_from_db()
    assert user.care_mode is False


@pytest.fixture
def local_settings(monkeypatch):
    """portal.settings.local as `make run` reads it, with no DJANGO_* overrides."""
    for name in ("DJANGO_DEBUG", "DJANGO_DEV_PAGES", "DJANGO_ALLOWED_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    import portal.settings.local

    return importlib.reload(portal.settings.local)


def test_make_run_shows_citizens_pages_not_djangos(local_settings):
    import portal.settings.base

    assert local_settings.DEBUG is False
    assert local_settings.DEV_PAGES is True and portal.settings.base.DEV_PAGES is False
    assert {"127.0.0.1", "localhost"} <= set(local_settings.ALLOWED_HOSTS)
    assert local_settings.CSRF_FAILURE_VIEW == "portal.views.csrf_failure"
    # DEBUG off: WhiteNoise serves the static files, with or without collectstatic.
    assert local_settings.WHITENOISE_USE_FINDERS is True
    assert "Manifest" not in local_settings.STORAGES["staticfiles"]["BACKEND"]
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in local_settings.MIDDLEWARE


@pytest.fixture
def urls_with(settings):
    """Reload the URLconf under a setting (its dev pages are decided at import)."""
    import portal.urls

    def reload(**values):
        for name, value in values.items():
            setattr(settings, name, value)
        importlib.reload(portal.urls)
        clear_url_caches()

    yield reload
    settings.DEV_PAGES = False
    settings.DEBUG = False
    importlib.reload(portal.urls)
    clear_url_caches()


def test_dev_pages_follow_dev_pages_not_debug(client, urls_with):
    urls_with(DEV_PAGES=True, DEBUG=False)
    assert client.get("/dev/sms/").status_code == 200
    urls_with(DEV_PAGES=False, DEBUG=True)
    assert client.get("/dev/sms/").status_code == 404
