"""The Celery app, configured from Django settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@__import__("celery").signals.worker_process_init.connect
def _worker_without_auditlog(**kwargs):
    """Workers act for no staff member, so the audit trail (portal.audit) records
    nothing of theirs; switching auditlog off saves the row it re-reads before
    every save (each app keeps its own event rows)."""
    from auditlog.context import auditlog_disabled

    auditlog_disabled.set(True)
