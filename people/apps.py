from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from core.staff import StaffSite


class PeopleConfig(AppConfig):
    """Persons, citizen accounts, family relations and who may act for whom,
    notifications."""

    name = "people"
    verbose_name = _("参保人与账号")
    staff_site = StaffSite(
        read_only=frozenset({"notification", "staffaccess", "familylink"}),
        hidden=frozenset({"user"}),
    )

    def ready(self):
        from core.audit import audit_register

        # Register the tasks in every process: beat sends them by name.
        from . import signals, tasks  # noqa: F401 - connects its receivers
        from .models import FamilyLink, Person, User

        audit_register(Person, masked=("id_number", "mobile"))
        # A password hash is never written anywhere, not even masked.
        audit_register(User, masked=("mobile",), exclude=("password", "last_login"))
        audit_register(FamilyLink)
        # Cached pages (core.pagecache) go stale when what they show changes.
        from .pagecache import connect_people

        connect_people()
