"""The database connection dropped in the middle of a request (its backend
terminated from a second connection right after the request's first write):
the citizen gets the clear 503 page, and nothing of the request is written."""

import time

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from core.models import OutboxMessage
from payments.models import Order, Payment, PaymentEvent
from people.models import Person, User
from tests.factories import EnrollmentFactory, UserFactory, id_number_for, region
from tests.faults.conftest import record
from tests.payments.conftest import signed_quote
from tests.transfers.scenario import IN, OUT, bulk_ready
from transfers.models import Transfer, TransferEvent

pytestmark = pytest.mark.django_db(transaction=True)

WATCHED = (
    Order,
    Payment,
    PaymentEvent,
    OutboxMessage,
    Person,
    User,
    Transfer,
    TransferEvent,
)


def terminate_after_first_write():
    """An execute wrapper: after the first INSERT/UPDATE of the request succeeds,
    another session terminates this one's backend, as a database restart or a
    network cut would."""
    state = {"cut": False}
    pid = connection.connection.info.backend_pid
    settings_dict = connection.settings_dict

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not state["cut"] and sql.lstrip().upper().startswith(("INSERT", "UPDATE")):
            state["cut"] = True
            with psycopg.connect(
                host=settings_dict["HOST"] or "127.0.0.1",
                port=settings_dict["PORT"] or 5432,
                user=settings_dict["USER"],
                dbname=settings_dict["NAME"],
                autocommit=True,
            ) as other:
                other.execute("SELECT pg_terminate_backend(%s)", [pid])
            time.sleep(0.05)
        return result

    return wrapper, state


def counts():
    return {model.__name__: model.objects.count() for model in WATCHED}


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def pay_request(db):
    user = UserFactory(person__region=region("340100"))
    enrollment = EnrollmentFactory(person=user.person, year=2026)
    client = signed_in(user)
    return (
        client,
        reverse("payments:pay", args=[enrollment.pk]),
        {
            "channel": "alipay",
            "idempotency_key": "db-drop-pay-key-0001",
            "months": 1,
            "quote": signed_quote(client, enrollment),
        },
    )


def transfer_request(db):
    person = bulk_ready(1)[0]
    person.name = "转移甲"
    person.save(update_fields=["name"])
    return (
        signed_in(UserFactory(person=person)),
        reverse("transfers:apply"),
        {
            "person": str(person.pk),
            "name": person.name,
            "id_number": person.id_number,
            "kind": "e2e",
            "outgoing_region": OUT,
            "incoming_region": IN,
            "confirm": "1",
        },
    )


def signup_request(db):
    """Sign-up's second step (the SMS code and the password), where the
    account is written; the first step is done beforehand."""
    import datetime as dt
    import re

    from people.models import SimSmsMessage
    from tests.factories import registry_person

    number = id_number_for(dt.date(1991, 3, 4))
    registry_person(name="王小明", id_number=number)
    client = Client()
    first = client.post(
        reverse("people:signup"),
        {"name": "王小明", "id_number": number, "mobile": "13700001111"},
    )
    assert first.status_code == 302
    code = re.search(r"\d{6}", SimSmsMessage.objects.latest("id").text).group(0)
    return (
        client,
        reverse("people:signup_finish"),
        {
            "code": code,
            "password1": "Long-enough-pass-42",
            "password2": "Long-enough-pass-42",
        },
    )


@pytest.mark.parametrize(
    "make_request",
    [pay_request, transfer_request, signup_request],
    ids=["pay", "transfer_apply", "signup"],
)
def test_connection_dropped_after_first_write_gives_503_and_writes_nothing(
    make_request, db
):
    client, url, data = make_request(db)
    before = counts()
    connection.ensure_connection()
    wrapper, state = terminate_after_first_write()
    with connection.execute_wrapper(wrapper):
        response = client.post(url, data)
    assert state["cut"], "the request wrote nothing, so the cut never happened"
    connection.close()  # the test's own connection was the one cut
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "暂时" in response.content.decode() or "稍后" in response.content.decode()
    assert counts() == before
    # And once the database is back the same request goes through.
    response = client.post(url, data)
    assert response.status_code == 302
    assert counts() != before
    record(
        f"database_dropped_{make_request.__name__}",
        faults_injected=1,
        status=503,
        rows_written=0,
        retried_status=302,
    )
