"""The signed quote: what the check-your-answers page priced, handed to 确认缴费.

The quote page prices the order on the server and signs what it showed (the
user, the payer, the insured person and enrollment, the months asked for, the
periods, the amounts, whether the personal account was offered) into a token
that expires after QUOTE_MAX_AGE_MINUTES. The POST sends the token back with the
channel; it never sends an amount. payments.services.payment_checkout then
prices again from what is in the database under the insured person's lock
and starts the payment only when the price is the one the citizen saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core import signing
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.money import to_money

from .pricing import Quote

QUOTE_SALT = "payments.quote"
QUOTE_MAX_AGE_MINUTES = 15
# The fields that make a price: equal in the signed quote and the quote priced
# again at the POST, or the payment is refused (note and lines only explain).
PRICED_FIELDS = (
    "scheme",
    "kind",
    "period",
    "periods",
    "category",
    "months",
    "personal_amount",
    "subsidy",
    "late_fee",
    "total",
)
_AMOUNTS = ("personal_amount", "subsidy", "late_fee", "total")


class QuoteInvalid(DomainError):
    """No quote, a quote altered, or one signed for another user or enrollment."""

    code = "quote_invalid"
    status = 400


class QuoteExpired(DomainError):
    code = "quote_expired"
    status = 409


class QuoteChanged(DomainError):
    """The price is no longer the one signed (the policy, the enrollment or
    the paid periods changed, or a new day added a late fee)."""

    code = "quote_changed"
    status = 409


@dataclass(frozen=True)
class SignedQuote:
    user_id: int
    payer_id: int | None
    enrollment_id: int
    insured_id: int
    months_ahead: int
    repair_years: int
    account_offered: bool
    priced: dict  # PRICED_FIELDS of the quote shown, amounts as Decimal

    def matches(self, quote: Quote) -> bool:
        return self.priced == priced_fields(quote)


def priced_fields(quote: Quote) -> dict:
    return {
        name: to_money(getattr(quote, name))
        if name in _AMOUNTS
        else getattr(quote, name)
        for name in PRICED_FIELDS
    }


def quote_sign(
    *,
    user,
    enrollment,
    quote: Quote,
    months_ahead: int,
    repair_years: int,
    account_offered: bool,
) -> str:
    """The token the quote page puts in its form."""
    priced = priced_fields(quote)
    payload = {
        "u": user.pk,
        "p": user.person_id,
        "e": enrollment.pk,
        "i": enrollment.person_id,
        "m": months_ahead,
        "r": repair_years,
        "a": account_offered,
        "q": {
            name: str(value) if name in _AMOUNTS else value
            for name, value in priced.items()
        },
    }
    return signing.dumps(payload, salt=QUOTE_SALT, compress=True)


def quote_read(token: str, *, user, enrollment) -> SignedQuote:
    """The quote signed by this site for this user and enrollment within
    QUOTE_MAX_AGE_MINUTES; QuoteInvalid or QuoteExpired otherwise."""
    invalid = QuoteInvalid(
        _("缴费信息无效，请核对下面的应缴金额后再确认缴费。"), code="quote_invalid"
    )
    if not token or len(token) > 4000:
        raise invalid
    try:
        data = signing.loads(token, salt=QUOTE_SALT, max_age=QUOTE_MAX_AGE_MINUTES * 60)
    except signing.SignatureExpired:
        raise QuoteExpired(
            _(
                "应缴金额是%(minutes)d分钟以前计算的，请核对下面重新计算的金额后再确认缴费。"
            )
            % {"minutes": QUOTE_MAX_AGE_MINUTES},
            code="quote_expired",
        ) from None
    except signing.BadSignature:
        raise invalid from None
    try:
        signed = SignedQuote(
            user_id=data["u"],
            payer_id=data["p"],
            enrollment_id=data["e"],
            insured_id=data["i"],
            months_ahead=data["m"],
            repair_years=data["r"],
            account_offered=bool(data["a"]),
            priced={
                name: Decimal(data["q"][name]) if name in _AMOUNTS else data["q"][name]
                for name in PRICED_FIELDS
            },
        )
    except (KeyError, TypeError, ArithmeticError):
        raise invalid from None  # signed by this site, but in an older shape
    if (
        signed.user_id != user.pk
        or signed.payer_id != user.person_id
        or signed.enrollment_id != enrollment.pk
        or signed.insured_id != enrollment.person_id
    ):
        raise invalid
    return signed


def quote_changed() -> QuoteChanged:
    return QuoteChanged(
        _(
            "应缴金额已变化（缴费标准、参保信息或已缴期间有变更），"
            "请核对下面重新计算的金额后再确认缴费。"
        ),
        code="quote_changed",
    )
