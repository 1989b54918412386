"""Thin Celery wrappers: take ids, call one service, return. Safe to run twice."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, ignore_result=True)
def transfers_scan():
    """Beat (every 2 s): claim due transfer steps in batches; each step's claimed
    transfers run as one batch in one transaction (services.transfers_run_batch)."""
    return services.transfers_scan()


@shared_task(acks_late=True, ignore_result=True)
def transfer_step(transfer_id: int):
    """Run one transfer's next step if it is due; a no-op otherwise."""
    services.transfer_run_step(transfer_id=transfer_id)
