from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The project package and composition root: it collects what each app
    registers (staff roles, audited models, dashboard panels, navigation)."""

    name = "portal"
    verbose_name = _("门户")

    def ready(self):
        from . import roles

        roles.connect()
