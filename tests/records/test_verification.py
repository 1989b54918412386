"""The public verification page: anyone holding a 备案凭证's or a 参保证明's
code sees what it certifies, masked, and nothing else; a wrong code finds
nothing; guessing is rate-limited."""

import datetime as dt

import pytest
from django.urls import reverse

from records import services
from tests import factories

from .conftest import BEIJING, TODAY, months

pytestmark = pytest.mark.django_db
VERIFY = "/records/verify/"


@pytest.fixture
def filing(citizen):
    return services.filing_create(
        actor=citizen,
        person_id=citizen.person.pk,
        reason="referral",
        destination_code=BEIJING,
        start_on=TODAY,
    )


@pytest.fixture
def certificate(citizen):
    months(citizen.person, actual=24, deemed=6)
    return services.certificate_issue(actor=citizen, person_id=citizen.person.pk)


def test_the_empty_page_asks_for_a_code(client, db):
    response = client.get(VERIFY)
    assert response.status_code == 200
    assert 'name="code"' in response.content.decode()


def test_a_filing_is_verified_masked_with_its_current_status(client, filing):
    person = filing.person
    response = client.get(VERIFY, {"code": filing.verification_code})
    assert response.status_code == 200
    text = response.content.decode()
    assert "这是真实的异地就医备案凭证" in text
    assert filing.number in text and "北京市" in text and "备案有效" in text
    assert "王*" in text and "王芳" not in text
    assert person.id_masked in text and person.id_number not in text


def test_a_cancelled_filing_verifies_as_cancelled(client, citizen, filing):
    services.filing_cancel(actor=citizen, filing_id=filing.pk)
    text = client.get(VERIFY, {"code": filing.verification_code}).content.decode()
    assert "已取消" in text and "备案有效" not in text


def test_a_filing_past_its_end_verifies_as_expired_before_the_scan_runs(client, filing):
    import time_machine

    with time_machine.travel(dt.datetime(2026, 12, 20, 10, 0), tick=False):
        text = client.get(VERIFY, {"code": filing.verification_code}).content.decode()
    assert "已到期" in text


def test_the_code_may_be_typed_in_lower_case_with_spaces(client, filing):
    code = filing.verification_code.lower()
    typed = f" {code[:4]} {code[4:8]}-{code[8:]} "
    assert client.get(VERIFY, {"code": typed}).status_code == 200


def test_a_certificate_shows_what_was_certified(client, citizen, certificate):
    months(citizen.person, actual=100, tag="later")  # after issue: not shown
    response = client.get(VERIFY, {"code": certificate.verification_code})
    assert response.status_code == 200
    text = response.content.decode()
    assert "这是真实的参保证明" in text
    assert certificate.number in text and certificate.signature in text
    assert "城乡居民医保" in text and "合肥市" in text
    assert "实际缴费 24 个月，视同缴费 6 个月" in text
    assert "王*" in text and "王芳" not in text
    assert citizen.person.id_number not in text
    assert "签名不符" not in text


@pytest.mark.parametrize("code", ["ZZZZZZZZZZZZ", "short", "0O1I0O1I0O1I", "x" * 40])
def test_an_unknown_code_finds_nothing(client, filing, certificate, code):
    response = client.get(VERIFY, {"code": code})
    assert response.status_code == 404
    text = response.content.decode()
    assert "未找到" in text
    assert filing.number not in text and certificate.number not in text


def test_guessing_codes_is_rate_limited(client, settings, filing):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "number_lookup": ("3/h", "3/h")}
    for _n in range(3):
        assert client.get(VERIFY, {"code": "ZZZZZZZZZZZZ"}).status_code == 404
    response = client.get(VERIFY, {"code": filing.verification_code})
    assert response.status_code == 429
    assert "操作过于频繁" in response.content.decode()
    assert filing.number not in response.content.decode()


def test_the_pdf_links_to_the_verification_page(client, citizen, filing):
    client.force_login(citizen)
    response = client.get(reverse("records:filing_certificate", args=[filing.pk]))
    assert response.content.startswith(b"%PDF")
    page = client.get(reverse("records:filing_done", args=[filing.pk]))
    assert filing.verification_code in page.content.decode()


def test_verification_needs_no_login(client, filing):
    other = factories.UserFactory()
    client.force_login(other)
    assert client.get(VERIFY, {"code": filing.verification_code}).status_code == 200
    client.logout()
    assert client.get(VERIFY, {"code": filing.verification_code}).status_code == 200
