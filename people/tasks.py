"""Thin Celery wrappers: call one service, return. Safe to run twice."""

from celery import shared_task

from . import reminders


@shared_task(acks_late=True, ignore_result=True)
def reminders_scan():
    """Beat (hourly): send the reminders that are due, each once, never at night."""
    return reminders.reminders_send_due()
