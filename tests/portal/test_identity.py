import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from core.identity import make_id_number, mask_id_number, mask_mobile, parse_id_number


@pytest.mark.parametrize(
    ("value", "region", "birth", "sex"),
    [
        ("11010519491231002X", "110105", dt.date(1949, 12, 31), "F"),
        ("440524188001010014", "440524", dt.date(1880, 1, 1), "M"),
    ],
)
def test_spec_valid_numbers_parse(value, region, birth, sex):
    parsed = parse_id_number(value)
    assert (parsed.number, parsed.region_code, parsed.birth_date, parsed.sex) == (
        value,
        region,
        birth,
        sex,
    )


def test_lower_case_x_is_accepted_and_stored_upper_case():
    assert parse_id_number("11010519491231002x").number == "11010519491231002X"


def test_spec_invalid_checksum_is_refused_with_a_message_about_the_check_character():
    with pytest.raises(ValidationError) as info:
        parse_id_number("340104199001011237")
    assert info.value.code == "checksum"
    assert "校验码" in info.value.messages[0]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "required"),
        ("3401041990010112", "length"),
        ("34010419900101123X", "checksum"),
        ("34010419900101123A", "characters"),
        ("3401041990A1011239", "characters"),
        ("991041199001011234", "province"),
        ("340104199002301234", "birth_date"),
    ],
)
def test_each_kind_of_bad_number_says_what_is_wrong(value, code):
    with pytest.raises(ValidationError) as info:
        parse_id_number(value)
    assert info.value.code == code


def test_a_birth_date_in_the_future_is_refused():
    number = make_id_number("340104", dt.date(2030, 1, 1), 11)
    with pytest.raises(ValidationError) as info:
        parse_id_number(number, today=dt.date(2026, 11, 23))
    assert info.value.code == "future_birth_date"


def test_abolished_county_codes_stay_valid():
    # 340111 (合肥市郊区) was abolished; its numbers remain valid.
    number = make_id_number("340111", dt.date(1970, 5, 5), 123)
    assert parse_id_number(number).region_code == "340111"


def test_sequence_parity_gives_the_sex():
    assert parse_id_number(make_id_number("340104", dt.date(1990, 1, 1), 1)).sex == "M"
    assert parse_id_number(make_id_number("340104", dt.date(1990, 1, 1), 2)).sex == "F"


def test_masking():
    assert mask_id_number("340104199001011234") == "3401**********1234"
    assert mask_mobile("13812345678") == "138****5678"
