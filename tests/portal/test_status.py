"""系统状态 for people: an HTML page in their language saying what works and
what does not (and what that means for them); /readyz stays JSON for
machines; the footer links to the people's page."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def rows(response):
    return {row["key"]: row for row in response.context["rows"]}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_status_page_is_html_in_the_visitors_language(client, language):
    client.cookies["django_language"] = language
    response = client.get(reverse("portal:status"))
    text = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert f'<html lang="{"en" if language == "en" else "zh-Hans"}">' in text
    assert set(rows(response)) == {"database", "background", "sms", "registry"}
    assert all(row["state"] == "ok" for row in rows(response).values())
    assert response.context["all_ok"] is True
    if language == "zh-hans":
        assert "各项服务运行正常" in text and "可以登录" in text


def test_status_page_says_what_is_down_and_what_it_means(client, settings):
    settings.SMS_SIMULATION = {"unavailable": True, "delay_seconds": 0}
    response = client.get(reverse("portal:status"))
    text = response.content.decode()
    assert rows(response)["sms"]["state"] == "down"
    assert rows(response)["registry"]["state"] == "ok"
    assert response.context["all_ok"] is False
    assert "部分服务暂时不可用" in text and "暂时收不到短信验证码" in text


def test_status_page_says_background_work_is_down_when_the_broker_is(client):
    from portal.celery import app

    saved = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get(reverse("portal:status"))
    finally:
        app.conf.broker_url = saved
    background = rows(response)["background"]
    assert background["state"] == "down"
    assert "不会重复扣款" in str(background["meaning"])


def test_status_page_says_background_work_is_late_when_the_outbox_waits(client):
    import datetime as dt

    from django.utils import timezone

    from core.models import OutboxMessage

    message = OutboxMessage.objects.create(task="core.tasks.outbox_relay")
    OutboxMessage.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=10)
    )
    assert rows(client.get(reverse("portal:status")))["background"]["state"] == "late"


def test_a_real_adapter_is_not_reported_as_if_it_were_checked(client, settings):
    settings.SMS_GATEWAY = "somewhere.RealGateway"
    assert "sms" not in rows(client.get(reverse("portal:status")))


def test_readyz_stays_json_for_machines(client):
    response = client.get(reverse("readyz"))
    assert response["Content-Type"] == "application/json"
    assert response.json()["status"] == "ready"


def test_the_footer_links_to_the_peoples_status_page(client):
    text = client.get(reverse("portal:home")).content.decode()
    assert f'href="{reverse("portal:status")}"' in text
    assert f'href="{reverse("healthz")}"' not in text
    assert f'href="{reverse("readyz")}"' not in text
