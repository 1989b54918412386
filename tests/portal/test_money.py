from decimal import Decimal

import pytest

from core.money import format_yuan, to_money


def test_half_up_to_two_places():
    assert to_money("2.345") == Decimal("2.35")
    assert to_money(Decimal("2.344")) == Decimal("2.34")


def test_float_is_refused():
    with pytest.raises(TypeError):
        to_money(0.1)


def test_shown_as_yuan_with_thousands():
    assert format_yuan(Decimal("1234.5")) == "¥1,234.50"
    assert format_yuan(Decimal("-12")) == "-¥12.00"
    assert format_yuan(0) == "¥0.00"
