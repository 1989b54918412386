from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.staff import StaffSite


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("缴费")
    staff_site = StaffSite(
        hidden=frozenset({"simchannelscript", "simtransaction"}),
        # Written by the counter services only (the day close is audited).
        read_only=frozenset({"dayclose", "countertender"}),
    )

    def ready(self):
        from core.audit import audit_register

        # Register the tasks in every process (web, tests), not only in workers:
        # the outbox sends them by name.
        from . import (
            dashboard,
            tasks,  # noqa: F401
        )
        from .models import (
            DayClose,
            FamilyBinding,
            Order,
            Payment,
            PersonalAccount,
            Refund,
        )

        for model in (PersonalAccount, Payment, Order, Refund, FamilyBinding, DayClose):
            audit_register(model)
        dashboard.register()
        _pages_follow()


def _pages_follow():
    """Cached pages (core.pagecache) go stale when what they show changes: an
    attempt's insured person and whoever paid its order."""
    from people.pagecache import pages_follow, related_id

    from .models import Order, PaidPeriod, Payment, Receipt, Refund

    pages_follow(Order, lambda order: [order.insured_id, order.payer_id])
    pages_follow(
        Payment,
        lambda payment: [payment.insured_id, related_id(payment, "order", "payer_id")],
    )
    pages_follow(PaidPeriod, lambda period: [period.insured_id])
    for model in (Receipt, Refund):
        pages_follow(model, lambda row: [related_id(row, "payment", "insured_id")])
