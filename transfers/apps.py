from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.staff import StaffSite


class TransfersConfig(AppConfig):
    name = "transfers"
    verbose_name = _("转移接续")
    staff_site = StaffSite()

    def ready(self):
        from core.audit import audit_register
        from core.signals import calendar_published

        from . import (
            dashboard,
            tasks,  # noqa: F401
        )
        from .models import Transfer

        audit_register(Transfer)
        calendar_published.connect(
            _deadlines_recompute, dispatch_uid="transfers.deadlines_recompute"
        )
        dashboard.register()


def _deadlines_recompute(sender, *, year: int, **kwargs) -> None:
    from .services import transfer_deadlines_recompute

    transfer_deadlines_recompute(year=year)
