from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("基础信息")

    def ready(self):
        from . import audit, roles, signals  # noqa: F401 - signals registers receivers

        roles.connect()
        audit.register()
