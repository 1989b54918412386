"""Thin Celery wrappers: take ids, call one service. Safe to run twice."""

from celery import shared_task

from . import (
    services,
    simulator,  # noqa: F401 - registers the simulated providers' tasks
)


@shared_task(acks_late=True, ignore_result=True)
def payment_submit(payment_id: int):
    return services.payment_submit(payment_id=payment_id)


@shared_task(acks_late=True, ignore_result=True)
def payments_reconcile():
    return services.payments_reconcile()


@shared_task(acks_late=True, ignore_result=True)
def refund_process(refund_id: int):
    return services.refund_process(refund_id=refund_id)
