"""Payment pages: scoping (404 for others), bad input never 500, fixed query counts."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from enrollment.models import Scheme
from payments import services
from payments.models import Payment, PaymentStatus, Receipt
from tests.factories import (
    EnrollmentFactory,
    PersonFactory,
    UserFactory,
    family_link,
    region,
)

from .conftest import bind, employee_with_account, relative_enrollment, signed_post

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC), tick=True):
        yield


def paid(user, enrollment, client=None, channel="wechat"):
    """A settled success (callback sent through the test client)."""
    from django.test import Client

    payment = services.payment_checkout(
        user=user,
        enrollment_id=enrollment.pk,
        channel=channel,
        idempotency_key=f"key-{enrollment.pk:06d}-abcdefgh",
    )
    if channel in ("wechat", "alipay", "app", "bank"):
        signed_post(
            Client(),
            channel,
            {
                "reference": payment.reference,
                "status": "success",
                "amount": str(payment.amount),
                "seq": 2,
                "transaction_id": f"T{payment.pk}",
            },
        )
    payment.refresh_from_db()
    return payment


def test_quote_page_shows_the_breakdown_and_the_confirm_button(
    client, citizen, resident_enrollment
):
    client.force_login(citizen)
    response = client.get(reverse("payments:pay", args=[resident_enrollment.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "¥420.00" in text and "¥700.00" in text and "确认缴费" in text
    assert 'name="idempotency_key"' in text


def test_posting_the_quote_starts_a_payment_and_a_repeat_returns_the_first(
    client, citizen, resident_enrollment
):
    client.force_login(citizen)
    url = reverse("payments:pay", args=[resident_enrollment.pk])
    data = {"channel": "alipay", "idempotency_key": "view-key-000000000", "months": "1"}
    first = client.post(url, data)
    second = client.post(url, data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Payment.objects.count() == 1
    pending = client.get(first["Location"])
    assert (
        "正在等待支付结果" in pending.content.decode()
        and "payments.js" in pending.content.decode()
    )


def test_the_client_cannot_send_an_amount(client, citizen, resident_enrollment):
    client.force_login(citizen)
    client.post(
        reverse("payments:pay", args=[resident_enrollment.pk]),
        {
            "channel": "alipay",
            "idempotency_key": "amount-key-0000000",
            "amount": "0.01",
            "total": "0.01",
        },
    )
    assert Payment.objects.get().amount == D("420.00")


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"channel": "counter", "idempotency_key": "x" * 20},
        {"channel": "wechat"},
        {"channel": "wechat", "idempotency_key": "short"},
        {"channel": "wechat", "idempotency_key": "y" * 20, "months": "99"},
        {"channel": "account", "idempotency_key": "z" * 20},
    ],
)
def test_bad_pay_forms_answer_400_and_write_nothing(
    client, citizen, resident_enrollment, data
):
    client.force_login(citizen)
    response = client.post(reverse("payments:pay", args=[resident_enrollment.pk]), data)
    assert response.status_code == 400
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/payments/pay/999999/",
        "/payments/p/999999/",
        "/payments/p/999999/status/",
        "/payments/p/999999/receipt/",
        "/payments/p/999999/receipt.pdf",
        "/payments/pay/abc/",
        "/payments/?person=abc&year=xyz",
        "/payments/verify/?code=%00%ff" + "A" * 300,
        "/payments/family/999/consent/",
    ],
)
def test_odd_addresses_never_answer_500(client, citizen, path):
    client.force_login(citizen)
    assert client.get(path).status_code < 500


def test_another_persons_enrollment_payment_and_receipt_are_not_found(
    client, citizen, resident_enrollment
):
    payment = paid(citizen, resident_enrollment)
    stranger = UserFactory()
    client.force_login(stranger)
    for name in ("detail", "status", "receipt", "receipt_pdf"):
        assert (
            client.get(reverse(f"payments:{name}", args=[payment.pk])).status_code
            == 404
        )
    assert (
        client.get(reverse("payments:pay", args=[resident_enrollment.pk])).status_code
        == 404
    )
    assert (
        client.post(reverse("payments:retry", args=[payment.pk]), {}).status_code == 404
    )


def test_receipt_page_pdf_and_public_verification(client, citizen, resident_enrollment):
    payment = paid(citizen, resident_enrollment)
    assert payment.status == PaymentStatus.SUCCESS
    receipt = Receipt.objects.get(payment=payment)
    client.force_login(citizen)
    page = client.get(reverse("payments:receipt", args=[payment.pk]))
    assert receipt.verification_code in page.content.decode()
    pdf = client.get(reverse("payments:receipt_pdf", args=[payment.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    client.logout()
    verified = client.get(
        reverse("payments:verify"), {"code": receipt.verification_code.lower()}
    )
    text = verified.content.decode()
    assert verified.status_code == 200 and receipt.number in text
    assert citizen.person.id_number not in text and citizen.person.name not in text
    assert citizen.person.id_masked in text


def test_unknown_verification_code_says_not_found(client):
    response = client.get(reverse("payments:verify"), {"code": "NOSUCHCODE12"})
    assert response.status_code == 404 and "未找到" in response.content.decode()


def test_status_endpoint_reports_words_and_whether_finished(
    client, citizen, resident_enrollment
):
    payment = services.payment_checkout(
        user=citizen,
        enrollment_id=resident_enrollment.pk,
        channel="bank",
        idempotency_key="status-key-0000000",
    )
    client.force_login(citizen)
    data = client.get(reverse("payments:status", args=[payment.pk])).json()
    assert data == {"status": "started", "label": "正在发起支付", "finished": False}


def test_failed_payment_page_offers_a_retry(client, citizen, resident_enrollment):
    payment = services.payment_checkout(
        user=citizen,
        enrollment_id=resident_enrollment.pk,
        channel="bank",
        idempotency_key="fail-key-00000000",
    )
    signed_post(
        client,
        "bank",
        {
            "reference": payment.reference,
            "status": "failed",
            "amount": "420.00",
            "seq": 2,
        },
    )
    client.force_login(citizen)
    page = client.get(reverse("payments:detail", args=[payment.pk]))
    assert "重新支付" in page.content.decode()
    response = client.post(
        reverse("payments:retry", args=[payment.pk]),
        {"channel": "alipay", "idempotency_key": "retry-view-key-000"},
    )
    assert response.status_code == 302
    assert Payment.objects.filter(order=payment.order).count() == 2


def test_proxy_payment_needs_a_matching_name(client, citizen):
    other = relative_enrollment()
    client.force_login(citizen)
    url = reverse("payments:proxy")
    wrong = client.post(
        url, {"id_number": other.person.id_number, "name": "别人", "year": 2026}
    )
    assert wrong.status_code == 400
    right = client.post(
        url,
        {"id_number": other.person.id_number, "name": other.person.name, "year": 2026},
    )
    assert right.status_code == 302 and right["Location"] == reverse(
        "payments:pay", args=[other.pk]
    )
    assert client.get(right["Location"]).status_code == 200


def test_bound_relative_can_be_paid_from_the_personal_account_page(client):
    user, account = employee_with_account("1000.00")
    enrollment = relative_enrollment()
    family_link(user.person, enrollment.person, "parent")
    bind(user.person, enrollment.person)
    client.force_login(user)
    url = reverse("payments:pay", args=[enrollment.pk])
    assert "个人账户（家庭共济）" in client.get(url).content.decode()
    response = client.post(
        url, {"channel": "account", "idempotency_key": "acct-view-key-0000"}
    )
    payment = Payment.objects.get()
    assert response.status_code == 302 and payment.status == PaymentStatus.SUCCESS
    account.refresh_from_db()
    assert account.balance == D("580.00")


def test_family_page_binds_and_the_relative_consents_in_their_own_account(client):
    user, _account = employee_with_account("10.00")
    relative = UserFactory(person__region=region("340100"))
    client.force_login(user)
    response = client.post(
        reverse("payments:family"),
        {
            "id_number": relative.person.id_number,
            "name": relative.person.name,
            "relation": "spouse",
        },
    )
    assert response.status_code == 302
    binding = user.person.bindings.get()
    assert (
        client.post(
            reverse("payments:binding_consent", args=[binding.pk]), {"accept": "1"}
        ).status_code
        == 404
    )
    client.force_login(relative)
    assert "同意绑定" in client.get(reverse("payments:family")).content.decode()
    client.post(reverse("payments:binding_consent", args=[binding.pk]), {"accept": "1"})
    binding.refresh_from_db()
    assert binding.status == "active"


def _history_with(*, years: int, family: int):
    """A citizen with `years` paid years and `family` family members with one paid year each."""
    user = UserFactory(person__region=region("340100"))
    for year in range(2026 - years + 1, 2027):
        paid(user, EnrollmentFactory(person=user.person, year=year))
    for _n in range(family):
        relative = PersonFactory(region=region("340100"))
        family_link(user.person, relative)
        paid(user, EnrollmentFactory(person=relative, year=2026))
    return user


def _count_queries(client, user, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(user)
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"][:120] for q in ctx.captured_queries]


@pytest.mark.parametrize("url_name", ["payments:history", "payments:family"])
def test_pages_keep_a_fixed_query_count_for_1_or_20_years_and_1_or_10_relatives(
    client, url_name
):
    small = _count_queries(client, _history_with(years=1, family=1), reverse(url_name))
    large = _count_queries(
        client, _history_with(years=20, family=10), reverse(url_name)
    )
    assert len(small) == len(large), (small, large)
    assert len(large) <= 15


def test_payment_detail_and_receipt_pages_keep_a_fixed_query_count(client):
    small_user = _history_with(years=1, family=1)
    large_user = _history_with(years=20, family=10)
    for name in ("detail", "receipt"):
        small = _count_queries(
            client,
            small_user,
            reverse(
                f"payments:{name}",
                args=[
                    Payment.objects.filter(order__payer=small_user.person).first().pk
                ],
            ),
        )
        large = _count_queries(
            client,
            large_user,
            reverse(
                f"payments:{name}",
                args=[
                    Payment.objects.filter(order__payer=large_user.person).first().pk
                ],
            ),
        )
        assert len(small) == len(large), (small, large)


def test_flexible_quote_page_recalculates_months(client, citizen):
    enrollment = EnrollmentFactory(
        person=citizen.person,
        scheme=Scheme.FLEXIBLE,
        category="",
        contribution_base=D("5000.00"),
    )
    client.force_login(citizen)
    response = client.get(
        reverse("payments:pay", args=[enrollment.pk]), {"months": "3"}
    )
    assert "¥1,200.00" in response.content.decode()
    bad = client.get(reverse("payments:pay", args=[enrollment.pk]), {"months": "abc"})
    assert bad.status_code == 200


def test_pay_page_keeps_a_fixed_query_count(client):
    counts = []
    for years, family in ((1, 1), (20, 10)):
        user = _history_with(years=years, family=family)
        unpaid = EnrollmentFactory(person=user.person, year=2027)
        counts.append(
            _count_queries(client, user, reverse("payments:pay", args=[unpaid.pk]))
        )
    assert len(counts[0]) == len(counts[1]), counts


def test_history_shows_the_latest_year_by_default_and_any_year_or_all_on_request(
    client,
):
    user = _history_with(years=3, family=0)  # 2024, 2025, 2026
    client.force_login(user)
    default = client.get(reverse("payments:history"))
    assert [p.period for p in default.context["payments"]] == ["2026"]
    assert default.context["years"] == [2026, 2025, 2024]
    older = client.get(reverse("payments:history"), {"year": "2024"})
    assert [p.period for p in older.context["payments"]] == ["2024"]
    every = client.get(reverse("payments:history"), {"year": "all"})
    assert sorted(p.period for p in every.context["payments"]) == [
        "2024",
        "2025",
        "2026",
    ]
    assert client.get(reverse("payments:history"), {"year": "abc"}).status_code == 200


def test_a_paid_residents_year_is_not_offered_for_payment_again(client):
    user = _history_with(years=1, family=0)  # 2026 paid
    unpaid = EnrollmentFactory(person=user.person, year=2027)
    client.force_login(user)
    payable = client.get(reverse("payments:history")).context["payable"]
    assert [e.pk for e in payable] == [unpaid.pk]
