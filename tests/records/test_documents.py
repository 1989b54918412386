"""core.documents: codes a person can type, numbers drawn again on a
collision, signatures, and a PDF frame that breaks long tables over pages."""

import re

import pytest
from django.db import IntegrityError

from core import documents


def test_codes_avoid_look_alikes_and_normalise_as_typed():
    code = documents.verification_code_new()
    assert len(code) == 12 and set(code) <= set(documents.CODE_ALPHABET)
    assert not set(code) & set("01IO")
    typed = f" {code[:6].lower()} - {code[6:]} "
    assert documents.verification_code_normalise(typed) == code


@pytest.mark.parametrize("value", ["", None, "ABC", "0" * 12, "A" * 13, "ÅÅÅÅÅÅÅÅÅÅÅÅ"])
def test_what_cannot_be_a_code_normalises_to_nothing(value):
    assert documents.verification_code_normalise(value) == ""


def test_numbers_carry_a_prefix_and_the_date():
    number = documents.document_number_new("YD")
    assert number.startswith("YD") and len(number) == 20 and number[2:].isdigit()


@pytest.mark.django_db
def test_a_collision_draws_again_and_gives_up_in_the_end():
    calls = []

    def make():
        calls.append(1)
        if len(calls) < 3:
            raise IntegrityError("duplicate")
        return "saved"

    assert documents.create_unique(make) == "saved"
    assert len(calls) == 3

    def always():
        raise IntegrityError("duplicate")

    with pytest.raises(RuntimeError):
        documents.create_unique(always, attempts=2)


def test_signatures_depend_on_salt_and_content():
    a = documents.signature("x", "content")
    assert a == documents.signature("x", "content")
    assert a != documents.signature("y", "content")
    assert a != documents.signature("x", "content!")


def test_a_long_table_continues_on_new_pages():
    doc = documents.PdfDocument(
        title="t",
        heading="基本医疗保险参保证明",
        code="ABCDEFGHJKLM",
        verify_url="https://example.test/records/verify/?code=ABCDEFGHJKLM",
        code_label="验证码",
        qr_caption="扫码核验",
        footer="页脚",
    )
    doc.line("姓名", "张三" * 40)  # wraps
    doc.section("参保缴费期间")
    doc.table(
        ["年度", "险种"],
        [[year, "城乡居民医保"] for year in range(120)],
        widths=[30, 60],
    )
    doc.paragraph("特此证明。" * 30)
    pdf = doc.finish()
    assert pdf.startswith(b"%PDF")
    pages = int(re.search(rb"/Count (\d+)", pdf).group(1))
    assert pages >= 3
