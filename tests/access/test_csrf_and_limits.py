"""CSRF is enforced on every POST form (a POST without the token is refused
with 403 and writes nothing); the only exempt view is the channels' signed
callback. There are no file uploads; a request body over
DATA_UPLOAD_MAX_MEMORY_SIZE (or with too many fields) is refused with 400."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.badinput.test_forms_property import row_counts

pytestmark = pytest.mark.django_db

POST_FORMS = [
    "/signup/",
    "/login/",
    "/logout/",
    "/family/",
    "/care-mode/",
    "/language/",
    "/enrollment/resident/",
    "/enrollment/newborn/",
    "/enrollment/flexible/",
    "/enrollment/{unpaid}/cancel/",
    "/payments/pay/{unpaid}/",
    "/payments/proxy/",
    "/payments/family/",
    "/payments/p/{payment}/retry/",
    "/payments/family/{binding}/consent/",
    "/payments/family/{binding}/unbind/",
    "/transfers/apply/",
    "/transfers/{transfer}/cancel/",
    "/admin/staff/counter/person/",
    "/admin/payments/payment/{payment}/change/",
]


def urls_for(world):
    ids = {
        "unpaid": world["unpaid"].pk,
        "payment": world["payment"].pk,
        "binding": world["binding"].pk,
        "transfer": world["transfer"].pk,
    }
    return [url.format(**ids) for url in POST_FORMS]


@pytest.mark.parametrize("who", ["anonymous", "owner", "staff_here"])
def test_every_post_form_without_the_csrf_token_is_refused_and_writes_nothing(
    world, who
):  # noqa: F811
    client = Client(enforce_csrf_checks=True)
    if who != "anonymous":
        client.force_login(world["users"][who])
    for url in urls_for(world):
        before = row_counts()
        response = client.post(
            url,
            {
                "name": "王五",
                "channel": "wechat",
                "idempotency_key": "k" * 20,
                "accept": "1",
                "enabled": "1",
                "language": "en",
            },
        )
        assert response.status_code == 403, f"{url} as {who}: {response.status_code}"
        assert row_counts() == before, url


def _views(resolver, prefix=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def test_only_the_signed_callback_is_csrf_exempt():
    exempt = {
        route
        for route, view in _views(get_resolver())
        if getattr(view, "csrf_exempt", False) and not route.startswith("admin/")
    }
    assert exempt == {"payments/callback/<str:channel>/"}


def test_a_post_over_the_upload_limit_is_refused_with_400_not_500(world):  # noqa: F811
    client = Client()
    client.force_login(world["users"]["owner"])
    big = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    before = row_counts()
    for url in (
        "/family/",
        "/payments/proxy/",
        "/transfers/apply/",
        f"/payments/pay/{world['unpaid'].pk}/",
    ):
        assert client.post(url, {"name": big}).status_code == 400, url
    too_many = {f"f{i}": "1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    assert client.post("/family/", too_many).status_code == 400
    response = Client().post(
        "/payments/callback/wechat/",
        data=big.encode(),
        content_type="application/json",
        headers={"X-Timestamp": "1", "X-Nonce": "n" * 16, "X-Signature": "0"},
    )
    assert 400 <= response.status_code < 500
    assert row_counts() == before
