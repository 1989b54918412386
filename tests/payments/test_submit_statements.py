"""确认缴费 and the channel's callback in one short transaction each: the
statements they run (fixed, and the same for a family of 1 and of 10), the
signed quote the POST pays (expired, altered, another's, or no longer the
price: refused, nothing written), and one live attempt per period held by the
database (a double click, a second tab, concurrent POSTs: one order).

The statements, counted with CaptureQueriesContext (BEGIN and COMMIT
included where the database driver reports them):

确认缴费, paying for oneself (SUBMIT_OWN):
  the session's user; the enrollment (access);
  BEGIN; the enrollment with its insured person locked; the paid periods;
  the policy's prices; INSERT the order; the family's users (page cache);
  INSERT the attempt as started; INSERT its two events; INSERT the outbox
  row; COMMIT. Nothing after the commit: the worker marks the outbox row.
确认缴费 for a family member (SUBMIT_FOR_RELATIVE) adds the authority check,
  the user's own person (named in the message) and the ProxyAccess and
  Notification rows.
The channel's success callback (CALLBACK):
  BEGIN; the insured person locked (by the reference); the attempt with its
  order, enrollment, persons and region; the paid periods; INSERT the
  attempt's event; UPDATE the attempt; the family's users (page cache);
  INSERT the paid period; enrollment_activate in its own savepoint (the
  enrollment locked, its policy, INSERT its event, UPDATE it, INSERT its
  contribution months ON CONFLICT DO NOTHING); INSERT the receipt; INSERT the
  notification (one more when someone else paid); INSERT the callback's
  nonce row; COMMIT. No other savepoint, no row read again before an update.
"""

import datetime as dt
import re
import threading
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enrollment.models import PolicyCategory
from payments import quotes
from payments.models import Order, Payment, PaymentEvent, PaymentStatus
from tests.factories import (
    EnrollmentFactory,
    PersonFactory,
    UserFactory,
    family_link,
    region,
)

from .conftest import signed_post, signed_quote

pytestmark = pytest.mark.django_db(transaction=True)

SUBMIT_OWN = 12
SUBMIT_FOR_RELATIVE = 16
CALLBACK = 19


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC), tick=True):
        yield


@pytest.fixture(autouse=True)
def broker_in_memory():
    """Tasks sent to an in-memory broker, as the web does in production (not
    run in-process as unit tests usually do), so a POST's statements end at
    its commit and no simulated channel answers."""
    from portal.celery import app

    before = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://"
    app._pool = None
    app.amqp._producer_pool = None
    yield
    app.conf.task_always_eager, app.conf.broker_url = before
    app._pool = None
    app.amqp._producer_pool = None


def family(size: int):
    """A citizen with `size - 1` relatives they may pay for, each with an
    unpaid 2026 residents' enrollment; returns (user, own, relative's)."""
    user = UserFactory(person__region=region("340100"))
    own = EnrollmentFactory(person=user.person, year=2026)
    relatives = []
    for _i in range(size - 1):
        relative = PersonFactory(region=region("340100"))
        family_link(user.person, relative, "child")
        relatives.append(EnrollmentFactory(person=relative, year=2026))
    return user, own, (relatives[-1] if relatives else None)


def post_pay(client, enrollment, key, *, quote=None, channel="wechat"):
    return client.post(
        reverse("payments:pay", args=[enrollment.pk]),
        {
            "channel": channel,
            "idempotency_key": key,
            "months": "1",
            "quote": signed_quote(client, enrollment) if quote is None else quote,
        },
    )


def submit_statements(client, enrollment, key) -> list[str]:
    quote = signed_quote(client, enrollment)
    with CaptureQueriesContext(connection) as captured:
        response = post_pay(client, enrollment, key, quote=quote)
    assert response.status_code == 302, response.content.decode()[:2000]
    return [query["sql"] for query in captured.captured_queries]


def success_callback(payment) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = signed_post(
            Client(),
            payment.channel,
            {
                "reference": payment.reference,
                "status": "success",
                "amount": str(payment.amount),
                "seq": 2,
                "transaction_id": f"T{payment.pk}",
            },
        )
    assert response.status_code == 200, response.content
    return [query["sql"] for query in captured.captured_queries]


def _shape(statements: list[str]) -> str:
    return "\n".join(sql[:120] for sql in statements)


def _writes_nothing_twice(statements: list[str], *, savepoints: int = 0) -> None:
    """No savepoint but `savepoints` (each a SAVEPOINT and its RELEASE), and
    no row read again before its update."""
    assert sum("SAVEPOINT" in sql for sql in statements) == 2 * savepoints, _shape(
        statements
    )
    # The auditlog re-read: a SELECT of the attempt just before its UPDATE.
    for before, sql in zip(statements, statements[1:], strict=False):
        if sql.startswith('UPDATE "payments_payment"'):
            assert not before.startswith('SELECT "payments_payment"'), _shape(
                statements
            )


@pytest.mark.parametrize("size", [1, 10])
def test_paying_for_oneself_is_a_fixed_handful_of_statements(size):
    user, own, _relative = family(size)
    client = Client()
    client.force_login(user)
    statements = submit_statements(client, own, f"own-key-{size:02d}-abcdefgh")
    assert len(statements) == SUBMIT_OWN, _shape(statements)
    _writes_nothing_twice(statements)
    assert statements[-1] == "COMMIT", _shape(statements)
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.STARTED
    assert [(e.from_status, e.to_status) for e in payment.events.all()] == [
        ("", "created"),
        ("created", "started"),
    ]


@pytest.mark.parametrize("size", [2, 10])
def test_paying_for_a_relative_is_a_fixed_handful_of_statements(size):
    user, _own, relative = family(size)
    client = Client()
    client.force_login(user)
    statements = submit_statements(client, relative, f"rel-key-{size:02d}-abcdefgh")
    assert len(statements) == SUBMIT_FOR_RELATIVE, _shape(statements)
    _writes_nothing_twice(statements)


@pytest.mark.parametrize("size", [1, 10])
def test_the_success_callback_is_one_short_transaction(size):
    user, own, relative = family(size)
    client = Client()
    client.force_login(user)
    enrollment = relative or own
    post_pay(client, enrollment, f"cb-key-{size:02d}-abcdefghij")
    payment = Payment.objects.get()
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.SUBMITTED)
    statements = success_callback(payment)
    # One notification more when the payer is not the insured person.
    assert len(statements) == CALLBACK + (1 if relative else 0), _shape(statements)
    # enrollment_activate's own atomic block is the one savepoint: it keeps a
    # refused activation from spoiling its caller's transaction.
    _writes_nothing_twice(statements, savepoints=1)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCESS and payment.receipt


def test_a_repeated_callback_changes_nothing_and_is_refused_as_a_replay():
    user, own, _relative = family(1)
    client = Client()
    client.force_login(user)
    post_pay(client, own, "replay-key-abcdefghij")
    payment = Payment.objects.get()
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.SUBMITTED)
    body = {
        "reference": payment.reference,
        "status": "success",
        "amount": str(payment.amount),
        "seq": 2,
        "transaction_id": "T-replay",
    }
    first = signed_post(Client(), "wechat", body, nonce="n" * 32)
    events = PaymentEvent.objects.count()
    second = signed_post(Client(), "wechat", body, nonce="n" * 32)
    late = signed_post(Client(), "wechat", body)  # same message, new nonce
    assert (first.status_code, second.status_code, late.status_code) == (
        200,
        409,
        200,
    )
    assert late.json()["result"] == "stale"
    assert PaymentEvent.objects.count() == events
    assert payment.paid_periods.count() == 1


# --- the signed quote -----------------------------------------------------------------


@pytest.fixture
def citizen_client():
    user, own, _relative = family(1)
    client = Client()
    client.force_login(user)
    return user, own, client


def _refused_with_a_fresh_quote(response, status, words):
    text = response.content.decode()
    assert response.status_code == status, text[:2000]
    assert words in text
    fresh = re.search(r'name="quote" value="([^"]+)"', text)
    assert fresh and "¥420.00" in text
    assert not Order.objects.exists() and not Payment.objects.exists()
    return fresh.group(1)


def test_an_expired_quote_is_priced_again_and_nothing_is_written(citizen_client):
    _user, own, client = citizen_client
    quote = signed_quote(client, own)
    with time_machine.travel(
        dt.datetime(2026, 3, 10, 10, quotes.QUOTE_MAX_AGE_MINUTES + 1, tzinfo=dt.UTC)
    ):
        response = post_pay(client, own, "expired-key-abcdefgh", quote=quote)
        fresh = _refused_with_a_fresh_quote(response, 409, "重新计算的金额")
        assert (
            post_pay(client, own, "expired-key-abcdefgh", quote=fresh).status_code
            == 302
        )
    assert Payment.objects.count() == 1


@pytest.mark.parametrize("how", ["missing", "altered", "another user's"])
def test_a_quote_not_signed_for_this_user_and_enrollment_is_refused(
    citizen_client, how
):
    _user, own, client = citizen_client
    quote = {
        "missing": lambda: "",
        "altered": lambda: signed_quote(client, own)[:-3] + "abc",
        "another user's": lambda: _quote_of_another(own),
    }[how]()
    response = post_pay(client, own, "invalid-key-abcdefgh", quote=quote)
    _refused_with_a_fresh_quote(response, 400, "缴费信息无效")


def _quote_of_another(own):
    """A genuine quote, signed for a stranger's session on the same enrollment
    (as if copied from their page)."""
    from payments.services import quote_for_enrollment

    stranger = UserFactory(person__region=region("340100"))
    return quotes.quote_sign(
        user=stranger,
        enrollment=own,
        quote=quote_for_enrollment(enrollment_id=own.pk),
        months_ahead=1,
        repair_years=0,
        account_offered=False,
    )


def test_a_price_changed_after_the_quote_is_not_charged(citizen_client):
    _user, own, client = citizen_client
    quote = signed_quote(client, own)
    PolicyCategory.objects.filter(
        policy__region_id=own.region_id, policy__year=own.year, category="ordinary"
    ).update(personal_amount=Decimal("450.00"))
    response = post_pay(client, own, "changed-key-abcdefgh", quote=quote)
    assert response.status_code == 409
    text = response.content.decode()
    assert "应缴金额已变化" in text and "¥450.00" in text
    assert not Payment.objects.exists()


# --- one live attempt per period -------------------------------------------------------


def test_a_double_click_makes_one_payment_and_a_second_tab_is_refused(
    citizen_client,
):
    _user, own, client = citizen_client
    first_tab = signed_quote(client, own)
    second_tab = signed_quote(client, own)
    one = post_pay(client, own, "tab-one-key-abcdefgh", quote=first_tab)
    again = post_pay(client, own, "tab-one-key-abcdefgh", quote=first_tab)
    other = post_pay(client, own, "tab-two-key-abcdefgh", quote=second_tab)
    assert one.status_code == again.status_code == 302
    assert one["Location"] == again["Location"]
    assert other.status_code == 409
    assert "该期间已有一笔缴费正在处理中" in other.content.decode()
    assert Order.objects.count() == Payment.objects.count() == 1


def test_the_database_holds_one_live_attempt_per_period(citizen_client):
    from django.db import IntegrityError, transaction

    _user, own, client = citizen_client
    post_pay(client, own, "live-key-abcdefghijk")
    payment = Payment.objects.get()
    twin = Payment.objects.get(pk=payment.pk)
    twin.pk, twin.reference, twin.idempotency_key = None, "PTWIN", "twin-key-abcdefgh"
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.FAILED)
    twin.save()  # a failed attempt is no longer live: a retry may start


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"
)
def test_concurrent_posts_from_two_tabs_make_exactly_one_order(citizen_client):
    user, own, client = citizen_client
    tokens = [signed_quote(client, own) for _i in range(6)]
    answers = []
    start = threading.Barrier(len(tokens))

    def tab(n):
        try:
            browser = Client()
            browser.force_login(user)
            start.wait()
            response = post_pay(
                browser, own, f"race-key-{n:02d}-abcdefgh", quote=tokens[n]
            )
            answers.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=tab, args=(n,)) for n in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [302] + [409] * (len(tokens) - 1)
    assert Order.objects.count() == Payment.objects.count() == 1
