"""A whole citizen journey (sign up, log in, add a family member, enroll, pay
with the channel calling back, bind for 家庭共济, apply for a transfer and
follow it) with every logger at DEBUG: no log line, as written by the
configured handlers, holds a full identity number or mobile number, and no
log record carries one in its raw message either (the masking filter is the
second line of defence, not the first)."""

import datetime as dt
import io
import logging
import re

import pytest
from django.test import Client
from django.urls import reverse

from payments.models import Payment, PaymentStatus
from people.models import SimSmsMessage, User
from tests.factories import id_number_for, policy, region, registry_person
from tests.payments.conftest import (  # noqa: F401 - the fixture
    callbacks_via_client,
    signed_quote,
)
from tests.transfers.scenario import IN, OUT, ready_person
from transfers import services as transfers
from transfers.models import Transfer

pytestmark = pytest.mark.django_db

ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


class Everything(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.raw = []

    def emit(self, record):
        self.raw.append(f"{record.name} {record.getMessage()} {record.exc_text or ''}")


@pytest.fixture
def all_logs():
    """Every logger at DEBUG; the configured handlers' output captured, and every raw record."""
    root = logging.getLogger()
    streams, saved_streams = [], []
    for handler in root.handlers:
        if isinstance(handler, logging.StreamHandler):
            stream = io.StringIO()
            saved_streams.append((handler, handler.setStream(stream)))
            streams.append(stream)
    raw = Everything()
    root.addHandler(raw)
    saved_levels = {
        name: logging.getLogger(name).level
        for name in [*logging.root.manager.loggerDict, ""]
    }
    for name in saved_levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield streams, raw
    for name, level in saved_levels.items():
        logging.getLogger(name).setLevel(level)
    root.removeHandler(raw)
    for handler, stream in saved_streams:
        handler.setStream(stream)


def test_a_whole_journey_logs_no_full_identity_or_mobile_number(
    all_logs,
    callbacks_via_client,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    streams, raw = all_logs
    for year in (2026, 2027):
        policy(OUT, year)
    region(IN)
    my_id = id_number_for(dt.date(1988, 8, 8))
    child_id = id_number_for(dt.date(2016, 6, 6))
    mobile = "13812345678"
    client = Client()

    registry_person(name="陈静", id_number=my_id)
    registry_person(
        name="陈小静",
        id_number=child_id,
        birth_certificate="Q340555777",
        mother_id_number=my_id,
    )

    # Sign up (the code comes by SMS), log out, fail a login, log in by mobile.
    response = client.post(
        reverse("people:signup"),
        {"name": "陈静", "id_number": my_id, "mobile": mobile},
    )
    assert response.status_code == 302
    code = re.search(r"\d{6}", SimSmsMessage.objects.latest("id").text).group(0)
    response = client.post(
        reverse("people:signup_finish"),
        {
            "code": code,
            "password1": "Journey-pass-2026",
            "password2": "Journey-pass-2026",
        },
    )
    assert response.status_code == 302
    client.post(reverse("people:logout"))
    assert (
        client.post(
            reverse("people:login"), {"username": mobile, "password": "wrong"}
        ).status_code
        == 400
    )
    assert (
        client.post(
            reverse("people:login"),
            {"username": mobile, "password": "Journey-pass-2026"},
        ).status_code
        == 302
    )
    me = User.objects.get(mobile=mobile).person

    # A family member, with a refused attempt first (a bad identity number).
    wrong_check = child_id[:-1] + (
        "1" if child_id[-1] != "1" else "2"
    )  # always a bad check character
    client.post(
        reverse("people:family"),
        {"name": "陈小静", "id_number": wrong_check, "relation": "child"},
    )
    assert (
        client.post(
            reverse("people:family"),
            {
                "name": "陈小静",
                "id_number": child_id,
                "relation": "child",
                "birth_certificate": "Q340555777",
            },
        ).status_code
        == 302
    )

    # Enroll for the next year (check your answers, then confirm) and pay; the channel calls back.
    data = {"person": str(me.pk), "year": "2027", "region": OUT, "category": "ordinary"}
    assert client.post(reverse("enrollment:resident"), data).status_code == 200
    response = client.post(reverse("enrollment:resident"), {**data, "step": "confirm"})
    assert response.status_code == 302, response.content[:500]
    enrollment = me.enrollments.get(year=2027)
    quote = signed_quote(client, enrollment)  # the quote page, as a browser sees it
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("payments:pay", args=[enrollment.pk]),
            {
                "channel": "wechat",
                "idempotency_key": "journey-key-000001",
                "months": 1,
                "quote": quote,
            },
        )
    assert response.status_code == 302
    payment = Payment.objects.get(idempotency_key="journey-key-000001")
    assert payment.status == PaymentStatus.SUCCESS
    client.get(reverse("payments:receipt", args=[payment.pk]))
    client.get(reverse("payments:history"))

    # 代缴 lookup and a 家庭共济 binding request (refused: not employee-insured) by identity number.
    client.post(
        reverse("payments:proxy"),
        {"id_number": child_id, "name": "陈小静", "year": "2027"},
    )
    client.post(
        reverse("payments:family"),
        {"id_number": child_id, "name": "陈小静", "relation": "child"},
    )

    # A transfer: apply through the web, the offices work it, the citizen follows it.
    ready_person(kind="e2e", person=me)
    apply = {
        "person": str(me.pk),
        "name": "陈静",
        "id_number": my_id,
        "kind": "e2e",
        "outgoing_region": OUT,
        "incoming_region": IN,
    }
    assert client.post(reverse("transfers:apply"), apply).status_code == 200
    assert (
        client.post(reverse("transfers:apply"), {**apply, "confirm": "1"}).status_code
        == 302
    )
    transfer = Transfer.objects.get(person=me)
    for _step in range(4):
        transfers.transfer_run_step(transfer_id=transfer.pk, claimed=True)
    client.get(reverse("transfers:detail", args=[transfer.pk]))
    client.get(reverse("transfers:sheet", args=[transfer.pk]))
    client.get(reverse("transfers:status", args=[transfer.pk]))
    client.get("/no-such-page/")

    written = "".join(stream.getvalue() for stream in streams)
    assert raw.raw and written, "nothing was logged: the capture is not working"
    assert not ID_NUMBER.findall(written) and not MOBILE.findall(written), written
    leaks = [line for line in raw.raw if ID_NUMBER.search(line) or MOBILE.search(line)]
    assert leaks == []


def test_gunicorns_access_log_is_masked_too(capsys):
    """The servers' own logs go through the masking (portal/gunicorn.conf.py)."""
    import logging.config
    import runpy
    from pathlib import Path

    config = runpy.run_path(
        str(Path(__file__).resolve().parents[2] / "portal" / "gunicorn.conf.py")
    )["logconfig_dict"]
    logging.config.dictConfig(config)
    number = id_number_for(dt.date(1970, 1, 1))
    access = logging.getLogger("gunicorn.access")
    access.info(
        '%(h)s "%(r)s" %(s)s',
        {"h": "127.0.0.1", "r": f"GET /verify/?id={number}&m=13812345678", "s": 200},
    )
    out = capsys.readouterr().out
    assert "GET /verify/" in out
    assert number not in out and "13812345678" not in out
    assert number[:4] + "**********" + number[-4:] in out
