"""An optional e-mail address, verified by a signed link that expires after
24 hours (issue 11): messages are e-mailed only to a verified address."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.signing import TimestampSigner
from django.urls import reverse
from django.utils.translation import gettext_noop

from people import services
from people.models import User
from tests import factories

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=SHANGHAI)


def send_link(client, user, capture, address="li@example.cn"):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False), capture(execute=True):
        response = client.post(reverse("people:email"), {"email": address})
    assert response.status_code == 302
    (message,) = mail.outbox
    mail.outbox.clear()
    return re.search(r"https?://\S+/account/email/verify/\S+/", message.body)[0]


def test_the_inbox_links_to_the_email_page(client):
    user = factories.UserFactory()
    client.force_login(user)
    page = client.get(reverse("people:inbox")).content.decode()
    assert reverse("people:email") in page


def test_a_bad_address_is_refused_beside_its_field(client):
    user = factories.UserFactory()
    client.force_login(user)
    response = client.post(reverse("people:email"), {"email": "not-an-address"})
    assert response.status_code == 400
    assert "email" in response.context["form"].errors
    user.refresh_from_db()
    assert user.email == "" and not mail.outbox


def test_opening_the_link_verifies_the_address(
    client, django_capture_on_commit_callbacks
):
    user = factories.UserFactory()
    link = send_link(client, user, django_capture_on_commit_callbacks)
    user.refresh_from_db()
    assert user.email == "li@example.cn" and user.email_verified_at is None
    client.logout()
    with time_machine.travel(NOW + dt.timedelta(hours=23), tick=False):
        response = client.get(link)
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.email_verified_at == NOW + dt.timedelta(hours=23)


def test_an_unverified_address_gets_no_mail(django_capture_on_commit_callbacks):
    user = factories.UserFactory()
    User.objects.filter(pk=user.pk).update(email="li@example.cn")
    user.person.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(
            person=User.objects.get(pk=user.pk).person, subject=gettext_noop("消息")
        )
    assert user.person.notifications.count() == 1
    assert mail.outbox == []


def test_a_verified_address_gets_mail(client, django_capture_on_commit_callbacks):
    user = factories.UserFactory()
    link = send_link(client, user, django_capture_on_commit_callbacks)
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        client.get(link)
    with django_capture_on_commit_callbacks(execute=True):
        services.notify(
            person=User.objects.get(pk=user.pk).person, subject=gettext_noop("消息")
        )
    (message,) = mail.outbox
    assert message.to == ["li@example.cn"]


def test_an_expired_link_is_refused_and_changes_nothing(
    client, django_capture_on_commit_callbacks
):
    user = factories.UserFactory()
    link = send_link(client, user, django_capture_on_commit_callbacks)
    with time_machine.travel(NOW + dt.timedelta(hours=24, seconds=1), tick=False):
        response = client.get(link)
    assert response.status_code == 400
    assert response.context["error"]
    user.refresh_from_db()
    assert user.email_verified_at is None


def test_a_forged_link_is_refused_and_changes_nothing(
    client, django_capture_on_commit_callbacks
):
    user = factories.UserFactory()
    other = factories.UserFactory()
    link = send_link(client, user, django_capture_on_commit_callbacks)
    other.email = "li@example.cn"
    other.save(update_fields=["email"])
    token = link.rstrip("/").rsplit("/", 1)[1]
    forged = TimestampSigner(key="not-the-key", salt=services.EMAIL_TOKEN_SALT)
    for bad in (
        token[:-2] + ("xx" if not token.endswith("xx") else "yy"),
        "garbage",
        forged.sign_object({"u": other.pk, "e": "li@example.cn"}),
    ):
        bad = reverse("people:email_verify", args=[bad])
        assert client.get(bad).status_code == 400
    user.refresh_from_db()
    other.refresh_from_db()
    assert user.email_verified_at is None and other.email_verified_at is None


def test_a_link_for_a_replaced_address_verifies_nothing(
    client, django_capture_on_commit_callbacks
):
    user = factories.UserFactory()
    capture = django_capture_on_commit_callbacks
    first = send_link(client, user, capture, "old@example.cn")
    send_link(client, user, capture, "new@example.cn")
    assert client.get(first).status_code == 400
    user.refresh_from_db()
    assert (user.email, user.email_verified_at) == ("new@example.cn", None)


def test_sending_the_link_is_rate_limited(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms": ("2/h", "2/h")}
    user = factories.UserFactory()
    client.force_login(user)
    statuses = [
        client.post(reverse("people:email"), {"email": "li@example.cn"}).status_code
        for _ in range(3)
    ]
    assert statuses == [302, 302, 429]
