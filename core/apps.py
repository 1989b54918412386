from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.urls import register_converter
from django.utils.translation import gettext_lazy as _

from .staff import StaffSite


class CoreConfig(AppConfig):
    """Primitives that know no app and no person: regions, identity numbers,
    the working-day calendar, money, errors and transitions, the outbox and
    audit helpers."""

    name = "core"
    verbose_name = _("基础信息")
    staff_site = StaffSite(
        reference=frozenset({"region", "calendarday", "calendaryear"}),
        no_add=frozenset({"region"}),
        hidden=frozenset({"outboxmessage"}),
    )

    def ready(self):
        from celery.signals import task_prerun

        from . import tasks  # noqa: F401 - the outbox relay, sent by name
        from .outbox import acknowledge

        # A worker starting a task sent through the outbox marks its row.
        task_prerun.connect(acknowledge, dispatch_uid="core.outbox.acknowledge")
        from .converters import IdConverter

        register_converter(IdConverter, "id")
        from .audit import audit_register
        from .models import CalendarDay, CalendarYear, Region
        from .workdays import calendar_changed

        for model in (CalendarDay, CalendarYear):
            name = model.__name__
            post_save.connect(
                calendar_changed, sender=model, dispatch_uid=f"workdays.{name}.save"
            )
            post_delete.connect(
                calendar_changed, sender=model, dispatch_uid=f"workdays.{name}.delete"
            )
        for model in (Region, CalendarDay, CalendarYear):
            audit_register(model)
