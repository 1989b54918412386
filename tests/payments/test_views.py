"""Payment pages: scoping (404 for others), bad input never 500, fixed query counts."""

import datetime as dt
import re
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

from .conftest import (
    bind,
    employee_with_account,
    relative_enrollment,
    signed_post,
    signed_quote,
)

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
    data = {
        "channel": "alipay",
        "idempotency_key": "view-key-000000000",
        "months": "1",
        "quote": signed_quote(client, resident_enrollment),
    }
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
            "quote": signed_quote(client, resident_enrollment),
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
    text = page.content.decode()
    # Said as paying this one again, never as an extra charge (补扣).
    assert "再次支付这一笔" in text and "不会重复扣款" in text
    assert "重新支付" not in text and "补扣" not in text
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
        url,
        {
            "channel": "account",
            "idempotency_key": "acct-view-key-0000",
            "quote": signed_quote(client, enrollment),
        },
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


# --- Pages a citizen can trust at first sight (issue 14) ---------------------------


def _clerk():
    from tests.factories import StaffFactory

    return StaffFactory()


def _flexible(person, *, year=2026, status="registered"):
    return EnrollmentFactory(
        person=person,
        year=year,
        scheme=Scheme.FLEXIBLE,
        category="",
        contribution_base=D("5000.00"),
        status=status,
    )


def test_history_cells_carry_their_column_name_for_the_phone_layout(
    client, citizen, resident_enrollment
):
    paid(citizen, resident_enrollment)
    client.force_login(citizen)
    text = client.get(reverse("payments:history")).content.decode()
    body = text[text.index("<tbody>") : text.index("</tbody>")]
    cells = re.findall(r"<td[^>]*>", body)
    assert len(cells) == 6
    labels = [re.search(r'data-label="([^"]+)"', cell).group(1) for cell in cells]
    assert labels == ["参保人", "缴费期间", "金额", "渠道", "状态", "凭证"]


def test_the_receipts_verification_address_may_wrap(
    client, citizen, resident_enrollment
):
    payment = paid(citizen, resident_enrollment)
    client.force_login(citizen)
    text = client.get(reverse("payments:receipt", args=[payment.pk])).content.decode()
    assert re.search(r'<a class="wrap-anywhere" href="[^"]*/payments/verify/', text)


def test_a_flexible_year_paid_through_december_is_not_offered_for_payment(
    client, citizen
):
    with time_machine.travel(
        dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.UTC), tick=False
    ):
        enrollment = _flexible(citizen.person)
        services.payment_counter(
            staff=_clerk(),
            enrollment_id=enrollment.pk,
            idempotency_key="december-counter-0001",
        )
        client.force_login(citizen)
        page = client.get(reverse("payments:history"))
        text = page.content.decode()
        payable = page.context["payable"]
        assert [e.nothing_due for e in payable if e.pk == enrollment.pk] == [True]
        assert reverse("payments:pay", args=[enrollment.pk]) not in text
        assert "2026年度各月已缴清" in text
        assert reverse("enrollment:start") in text
        # The page the button used to lead to says why there is nothing to pay.
        assert (
            client.get(reverse("payments:pay", args=[enrollment.pk])).status_code == 409
        )


def test_a_flexible_year_with_months_to_pay_keeps_its_pay_button(client, citizen):
    enrollment = _flexible(citizen.person)
    client.force_login(citizen)
    page = client.get(reverse("payments:history"))
    assert [e.nothing_due for e in page.context["payable"]] == [False]
    assert reverse("payments:pay", args=[enrollment.pk]) in page.content.decode()


def test_months_ahead_past_december_are_said_and_only_the_allowed_offered(
    client, citizen
):
    with time_machine.travel(
        dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.UTC), tick=False
    ):
        enrollment = _flexible(citizen.person)
        client.force_login(citizen)
        url = reverse("payments:pay", args=[enrollment.pk])
        page = client.get(url, {"months": "3"})
        text = page.content.decode()
        assert page.status_code == 200
        assert "您选择了预缴3个月，但本年度只剩1个月可以预缴，已按1个月计算" in text
        assert 'max="1"' in text and 'id="id_months"' in text
        assert re.search(r'name="months" value="1"', text)
        assert page.context["quote"].months == 1
        # Asking for what the year has says nothing more.
        one = client.get(url, {"months": "1"})
        assert one.context["months_note"] == ""
        assert "months-note" not in one.content.decode()


def test_months_ahead_within_the_year_need_no_note(client, citizen):
    enrollment = _flexible(citizen.person)  # 10 March: ten months left
    client.force_login(citizen)
    page = client.get(reverse("payments:pay", args=[enrollment.pk]), {"months": "3"})
    assert page.context["months_note"] == "" and page.context["months_max"] == 10
    assert page.context["quote"].months == 3


def test_history_opens_on_the_year_of_the_payment_made_last(client):
    user = UserFactory(person__region=region("340100"))
    relative = PersonFactory(region=region("340100"))
    family_link(user.person, relative)
    paid(user, EnrollmentFactory(person=user.person, year=2027))
    # Then the relative's earlier year: the payment just made.
    just_made = paid(user, EnrollmentFactory(person=relative, year=2026))
    client.force_login(user)
    page = client.get(reverse("payments:history"))
    assert page.context["year"] == 2026
    assert [p.pk for p in page.context["payments"]] == [just_made.pk]
    assert page.context["years"] == [2027, 2026]
    detail = client.get(reverse("payments:detail", args=[just_made.pk]))
    assert f'href="{reverse("payments:history")}?year=2026"' in (
        detail.content.decode()
    )


def test_percent_filter_is_the_one_way_a_rate_is_shown():
    from core.templatetags.portal_tags import percent

    assert percent(D("0.0800")) == "8.00%"
    assert percent(D("0.075")) == "7.50%"
    assert percent(D("0.075"), 1) == "7.5%"
    assert percent(None) == percent("") == percent("abc") == ""


def _bind_post(client, person, relation="spouse"):
    return client.post(
        reverse("payments:family"),
        {"id_number": person.id_number, "name": person.name, "relation": relation},
    )


def test_the_bind_form_is_offered_only_to_employee_insured_people_with_an_account(
    client, citizen
):
    relative = PersonFactory(region=region("340100"))
    client.force_login(citizen)  # a resident: no employee insurance, no account
    page = client.get(reverse("payments:family"))
    text = page.content.decode()
    assert page.context["may_bind"] is False
    assert 'name="id_number"' not in text and "发送绑定申请" not in text
    assert 'id="cannot-bind"' in text
    refused = _bind_post(client, relative)
    assert refused.status_code == 403
    assert not citizen.person.bindings.exists()
    user, _account = employee_with_account("10.00")
    client.force_login(user)
    page = client.get(reverse("payments:family"))
    assert page.context["may_bind"] is True
    assert 'name="id_number"' in page.content.decode()


def test_a_refusal_without_a_field_is_shown_once(client):
    user, _account = employee_with_account("10.00")
    relative = PersonFactory(region=region("340100"))
    EnrollmentFactory(person=relative, status="suspended")
    client.force_login(user)
    response = _bind_post(client, relative)
    assert response.status_code == 400
    assert response.content.decode().count("双方都应处于正常参保状态") == 1


def test_after_consenting_the_binding_no_longer_waits_and_a_message_confirms(client):
    user, _account = employee_with_account("10.00")
    relative = UserFactory(person__region=region("340100"))
    client.force_login(user)
    _bind_post(client, relative.person)
    binding = user.person.bindings.get()
    client.force_login(relative)
    before = client.get(reverse("payments:family")).content.decode()
    assert "等待您同意的绑定" in before and "同意绑定" in before
    response = client.post(
        reverse("payments:binding_consent", args=[binding.pk]),
        {"accept": "1"},
        follow=True,
    )
    text = response.content.decode()
    assert "等待您同意的绑定" not in text
    assert f"已同意绑定：{user.person.name} 现在可以用其职工医保个人账户为您" in text
    assert 'id="bindings-received"' in text and "已绑定" in text
