from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.staff import StaffSite


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = _("备案与证明")
    # Filings and certificates are written by their services only; supervisors
    # edit their region's contribution-years requirement.
    staff_site = StaffSite(
        reference=frozenset({"lifetimerequirement"}),
        read_only=frozenset({"filing", "filingevent", "insurancecertificate"}),
    )

    def ready(self):
        from core.audit import audit_register

        # Register the tasks in every process: beat and the outbox send them by name.
        from . import reminders, tasks  # noqa: F401
        from .models import Filing, InsuranceCertificate, LifetimeRequirement

        audit_register(Filing, masked=("residence_permit_number",))
        audit_register(InsuranceCertificate, exclude=("facts",))
        audit_register(LifetimeRequirement)
        reminders.register()
