"""Payments: personal accounts (个人账户) as ledgers.

The payment orders, attempts, events, receipts and family bindings live here too.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.models import Person, Region


class PersonalAccount(models.Model):
    """An employee-insured person's personal account (个人账户) at one region.

    A ledger: `balance` is the sum of its entries, kept in step under a row lock
    by payments.services.account_post, and can never go below zero."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="personal_accounts")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    balance = models.DecimalField(_("余额"), max_digits=12, decimal_places=2, default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("个人账户")
        verbose_name_plural = _("个人账户")
        constraints = [
            models.UniqueConstraint(fields=["person", "region"], name="account_one_per_person_region"),
            models.CheckConstraint(condition=Q(balance__gte=0), name="account_balance_not_negative"),
        ]

    def __str__(self):
        return f"{self.person} @ {self.region_id}"


class EntryKind(models.TextChoices):
    CONTRIBUTION = "contribution", _("划入")
    FAMILY_PAYMENT = "family_payment", _("家庭共济缴费")
    REFUND = "refund", _("退回")
    TRANSFER_OUT = "transfer_out", _("转出")
    TRANSFER_IN = "transfer_in", _("转入")
    ADJUSTMENT = "adjustment", _("调整")


class AccountEntry(models.Model):
    """One movement of a personal account. `reference` is unique: the same
    payment or transfer step can never post twice."""

    account = models.ForeignKey(PersonalAccount, on_delete=models.PROTECT, related_name="entries")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    reference = models.CharField(max_length=80, unique=True)
    balance_after = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("个人账户明细")
        verbose_name_plural = _("个人账户明细")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_not_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="entry_balance_after_not_negative"),
        ]
