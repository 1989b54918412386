from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.staff import StaffSite


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = _("参保登记")
    staff_site = StaffSite(
        reference=frozenset({"policy", "policycategory"}),
        # Paid months are written by payments through enrollment's services.
        read_only=frozenset({"flexiblemonth"}),
    )

    def ready(self):
        from core.audit import audit_register

        from . import dashboard, reminders
        from .models import Enrollment, Policy, PolicyCategory

        for model in (Policy, PolicyCategory, Enrollment):
            audit_register(model)
        dashboard.register()
        reminders.register()
