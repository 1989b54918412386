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
        _pages_follow()


def _pages_follow():
    """Cached pages (core.pagecache) go stale when what they show changes."""
    from core.models import Region
    from people.pagecache import pages_follow, pages_follow_site, related_id

    from .models import (
        ContributionMonths,
        Enrollment,
        FlexibleMonth,
        Policy,
        PolicyCategory,
        WaitingRepair,
    )

    for model in (Region, Policy, PolicyCategory):
        pages_follow_site(model)
    for model in (Enrollment, ContributionMonths):
        pages_follow(model, lambda row: [row.person_id])
    for model in (FlexibleMonth, WaitingRepair):
        pages_follow(model, lambda row: [related_id(row, "enrollment", "person_id")])
