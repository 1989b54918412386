from celery import shared_task

from . import outbox


@shared_task(acks_late=True, ignore_result=True)
def outbox_relay():
    return outbox.relay()
