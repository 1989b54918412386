"""Money: Decimal yuan with two places, ROUND_HALF_UP; shown as ¥1,234.56."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_money(value) -> Decimal:
    """Exact conversion to two places; floats are refused (they are not exact)."""
    if isinstance(value, float):
        raise TypeError("money is never a float; pass a Decimal, an int or a string")
    try:
        return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError(f"not an amount of money: {value!r}") from exc


def format_yuan(value) -> str:
    """`Decimal("1234.5")` → `¥1,234.50`; a negative amount as `-¥12.00`."""
    if value is None or value == "":
        return ""
    amount = to_money(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"
