"""Thin Celery wrappers: take ids, call one service, return. Safe to run twice."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, ignore_result=True)
def filings_expire_scan():
    """Beat (every minute): expire temporary filings whose six months are over."""
    return services.filings_expire_due()


@shared_task(acks_late=True, ignore_result=True)
def filing_expire(filing_id: int):
    """Expire one filing if it is due; a no-op otherwise."""
    services.filing_expire(filing_id=filing_id)
