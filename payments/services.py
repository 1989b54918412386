"""Every write of the payments app, one transactional function each."""

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from portal.errors import DomainError
from portal.money import to_money

from .models import AccountEntry, PersonalAccount


class InsufficientBalance(DomainError):
    code = "insufficient_balance"


@transaction.atomic
def account_post(*, account_id: int, amount: Decimal, kind: str, reference: str) -> AccountEntry:
    """Post one movement to a personal account, exactly once per `reference`.

    Returns the entry; posting a reference again returns the first entry and
    changes nothing. Raises InsufficientBalance rather than go below zero.
    """
    amount = to_money(amount)
    if amount == 0:
        raise ValueError("an account entry moves money")
    # The row lock serialises every movement of this account, so two payments
    # at once cannot both spend the same balance.
    account = PersonalAccount.objects.select_for_update().get(pk=account_id)
    existing = AccountEntry.objects.filter(reference=reference).first()
    if existing is not None:
        if existing.account_id != account_id or existing.amount != amount:
            raise ValueError(f"reference {reference} already posted with other terms")
        return existing
    new_balance = account.balance + amount
    if new_balance < 0:
        raise InsufficientBalance(
            _("个人账户余额 ¥%(balance)s 不足以支付 ¥%(amount)s。") % {"balance": account.balance, "amount": -amount}
        )
    try:
        with transaction.atomic():
            entry = AccountEntry.objects.create(
                account=account, amount=amount, kind=kind, reference=reference, balance_after=new_balance
            )
    except IntegrityError:
        # Another transaction posted the same reference between our check and insert.
        return AccountEntry.objects.get(reference=reference)
    account.balance = new_balance
    account.save(update_fields=["balance"])
    return entry


@transaction.atomic
def account_get_or_create(*, person_id: int, region_code: str) -> PersonalAccount:
    account, _created = PersonalAccount.objects.get_or_create(person_id=person_id, region_id=region_code)
    return account
