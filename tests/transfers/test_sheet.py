"""The information sheet (《参保人员基本医疗保险信息表》) as a signed PDF like the
receipt: every field SPEC §8 lists, the identity number masked, a verification
code and a signature; and the public page that verifies it by its code."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from tests import factories
from transfers import services
from transfers.models import InformationSheet

from .scenario import IN, OUT, apply_args, ready_person, set_processing

pytestmark = pytest.mark.django_db
VERIFY = "/transfers/sheet/verify/"


def pdf_text(content: bytes) -> str:
    """The text drawn in an uncompressed PDF whose CJK font encodes UTF-16-BE."""

    def unescape(raw: bytes) -> bytes:
        return re.sub(
            rb"\\([0-7]{1,3}|.)",
            lambda m: (
                bytes([int(m.group(1), 8)]) if m.group(1)[:1].isdigit() else m.group(1)
            ),
            raw,
        )

    strings = re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", content, re.S)
    return "".join(unescape(s).decode("utf-16-be", "replace") for s in strings)


@pytest.fixture
def issued():
    """A citizen's transfer whose sheet has been issued."""
    user = factories.UserFactory(person__name="王小明")
    person, _out, _in = ready_person(person=user.person)
    set_processing(OUT, "manual")
    transfer = services.transfer_apply(**apply_args(person), applicant=user)
    services.transfer_issue_sheet(transfer_id=transfer.pk)
    transfer.refresh_from_db()
    return user, transfer, transfer.sheet


def test_the_sheet_has_a_verification_code_and_a_signature_over_its_fields(issued):
    _user, _transfer, sheet = issued
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{12}", sheet.verification_code)
    assert len(sheet.signature) == 32
    stored = InformationSheet.objects.get(pk=sheet.pk)
    assert stored.signature == stored.compute_signature()
    stored.account_balance = Decimal("9999.99")
    assert stored.compute_signature() != sheet.signature


def test_the_pdf_lists_every_field_of_spec_8_with_the_identity_masked(
    client, issued, monkeypatch
):
    from reportlab import rl_config

    monkeypatch.setattr(rl_config, "pageCompression", 0)
    user, transfer, sheet = issued
    client.force_login(user)
    response = client.get(reverse("transfers:sheet_pdf", args=[transfer.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="sheet-{sheet.number}.pdf"'
    )
    text = pdf_text(response.content)
    person = transfer.person
    for expected in (
        "参保人员基本医疗保险信息表",
        sheet.number,
        person.name,
        person.id_masked,  # identity, masked
        sheet.scheme_label,  # scheme
        f"{OUT}（",  # both regions' codes
        f"{IN}（",
        "参保开始日期",
        "暂停参保日期",
        "实际缴费月数",
        "视同缴费月数",
        "36",
        "12",
        "参保缴费记录",
        "2026",  # the history by year
        "¥1,234.56",  # the account balance
        sheet.verification_code,
        sheet.signature,
        VERIFY,
    ):
        assert expected in text, expected
    assert person.id_number not in text
    assert person.id_number.encode() not in response.content
    assert sheet.suspended_on.strftime("%Y") in text


def test_the_pdf_is_not_served_before_the_sheet_exists(client):
    user = factories.UserFactory()
    person, _out, _in = ready_person(person=user.person)
    set_processing(OUT, "manual")
    transfer = services.transfer_apply(**apply_args(person), applicant=user)
    client.force_login(user)
    assert client.get(f"/transfers/{transfer.pk}/sheet.pdf").status_code == 404


def test_anyone_with_the_code_sees_a_masked_summary_and_nothing_more(client, issued):
    _user, transfer, sheet = issued
    response = client.get(VERIFY, {"code": sheet.verification_code.lower()})
    assert response.status_code == 200
    body = response.content.decode()
    person = transfer.person
    assert "信息表真实有效，电子签名一致" in body
    assert sheet.number in body and "王**" in body and person.id_masked in body
    assert person.name not in body and person.id_number not in body
    assert OUT in body and IN in body and "¥1,234.56" in body
    assert sheet.signature in body
    # No link into the person's records from the public page.
    assert reverse("transfers:detail", args=[transfer.pk]) not in body


def test_the_verification_page_is_public_and_asks_for_the_code(client):
    response = client.get(VERIFY)
    assert response.status_code == 200
    assert 'name="code"' in response.content.decode()


def test_an_unknown_code_says_so_with_404(client, issued):
    response = client.get(VERIFY, {"code": "ABCDEFGHJKLM"})
    assert response.status_code == 404
    assert "未找到与该验证码对应的信息表" in response.content.decode()


@pytest.mark.parametrize("code", ["", "<script>", "验证码", "A" * 40])
def test_a_malformed_code_is_an_error_beside_the_field(client, code):
    response = client.get(VERIFY, {"code": code})
    assert response.status_code == 400
    assert "error-summary" in response.content.decode()


def test_a_sheet_changed_after_issue_no_longer_verifies(client, issued):
    _user, _transfer, sheet = issued
    InformationSheet.objects.filter(pk=sheet.pk).update(
        account_balance=Decimal("99999.00")
    )
    body = client.get(VERIFY, {"code": sheet.verification_code}).content.decode()
    assert "电子签名与留存记录不一致" in body


def test_the_verification_page_is_rate_limited(client, settings, issued):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "number_lookup": ("3/h", "3/h")}
    _user, _transfer, sheet = issued
    statuses = [
        client.get(VERIFY, {"code": sheet.verification_code}).status_code
        for _ in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]
    assert (
        "操作过于频繁" in client.get(VERIFY, {"code": "ABCDEFGHJKLM"}).content.decode()
    )


def test_the_sheet_page_shows_the_code_and_links_the_pdf(client, issued):
    user, transfer, sheet = issued
    client.force_login(user)
    body = client.get(reverse("transfers:sheet", args=[transfer.pk])).content.decode()
    assert sheet.verification_code in body
    assert reverse("transfers:sheet_pdf", args=[transfer.pk]) in body


def test_a_sheet_still_verifies_after_the_secret_key_is_rotated(
    client, settings, issued
):
    _user, _transfer, sheet = issued
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    body = client.get(VERIFY, {"code": sheet.verification_code}).content.decode()
    assert "电子签名一致" in body
