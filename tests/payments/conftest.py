"""Helpers for the payments unit tests: tasks run in-process (eager), and the
simulated providers' HTTP callbacks go through Django's test client."""

import json
import re
import secrets
import time
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from enrollment.models import Scheme
from payments import simulator
from payments.models import BindingStatus, FamilyBinding, PersonalAccount
from payments.services import account_post
from payments.signing import sign
from tests.factories import EnrollmentFactory, PersonFactory, UserFactory, region


@pytest.fixture
def callbacks_via_client(monkeypatch):
    """Route the simulator's callbacks into this process's URLconf."""
    sent = []

    def post(url, *, body, headers):
        client = Client()
        path = url.split("://", 1)[-1].split("/", 1)[-1]
        response = client.post(
            "/" + path,
            data=body,
            content_type="application/json",
            headers={k: v for k, v in headers.items() if k != "Content-Type"},
        )
        sent.append((path, response.status_code, json.loads(body)))
        return response.status_code

    monkeypatch.setattr(simulator, "http_post", post)
    return sent


def signed_post(
    client, channel, payload, *, nonce=None, timestamp=None, secret=None, body=None
):
    body = body if body is not None else json.dumps(payload).encode()
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    signature = sign(
        secret=secret or settings.PAYMENT_CALLBACK_SECRET,
        timestamp=timestamp,
        nonce=nonce,
        body=body,
    )
    return client.post(
        f"/payments/callback/{channel}/",
        data=body,
        content_type="application/json",
        headers={"X-Timestamp": timestamp, "X-Nonce": nonce, "X-Signature": signature},
    )


@pytest.fixture
def citizen(db):
    user = UserFactory(person__region=region("340100"))
    return user


@pytest.fixture
def resident_enrollment(citizen):
    return EnrollmentFactory(person=citizen.person, year=2026)


def employee_with_account(balance="1000.00", *, region_code="340100"):
    """An employee-insured citizen with a funded personal account."""
    user = UserFactory(person__region=region(region_code))
    EnrollmentFactory(
        person=user.person,
        scheme=Scheme.EMPLOYEE,
        category="",
        status="active",
        region=region(region_code),
    )
    account = PersonalAccount.objects.create(person=user.person, region_id=region_code)
    if Decimal(balance):
        account_post(
            account_id=account.pk,
            amount=Decimal(balance),
            kind="contribution",
            reference=f"seed:{account.pk}",
        )
    account.refresh_from_db()
    return user, account


def bind(authoriser, relative, relation="parent"):
    return FamilyBinding.objects.create(
        authoriser=authoriser,
        relative=relative,
        relation=relation,
        status=BindingStatus.ACTIVE,
    )


def relative_enrollment(year=2026, region_code="340100"):
    person = PersonFactory(region=region(region_code))
    return EnrollmentFactory(person=person, year=year, region=region(region_code))


def signed_quote(client, enrollment, **query) -> str:
    """The signed quote the pay page puts in its form, as a browser sends it
    back with 确认缴费 (payments.quotes)."""
    page = client.get(reverse("payments:pay", args=[enrollment.pk]), query)
    found = re.search(r'name="quote" value="([^"]+)"', page.content.decode())
    assert found, "the pay page offers no signed quote"
    return found.group(1)
