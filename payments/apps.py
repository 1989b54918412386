from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = _("缴费")

    def ready(self):
        # Register the tasks in every process (web, tests), not only in workers:
        # the outbox sends them by name.
        from . import tasks  # noqa: F401
