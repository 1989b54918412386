from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The project package and composition root: it collects what each app
    registers (staff roles, audited models, dashboard panels, navigation)."""

    name = "portal"
    verbose_name = _("门户")

    def ready(self):
        from django.core.exceptions import ImproperlyConfigured

        from core.dashboard import panels
        from core.signals import calendar_published

        from . import roles
        from .staff.reports import EXPECTED_PANELS

        roles.connect()
        # No silent fallbacks: a hook an app stopped registering stops start-up.
        missing = set(EXPECTED_PANELS) - {spec.key for spec in panels()}
        if missing:
            raise ImproperlyConfigured(f"dashboard panels not registered: {missing}")
        if not calendar_published.receivers:
            raise ImproperlyConfigured(
                "nothing receives calendar_published: estimated deadlines would "
                "never be recomputed"
            )
