"""Records' reminders (issue 11): a temporary filing expires within 7 days."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from people.reminders import REMINDERS_PER_SOURCE

from .models import Filing, FilingKind, FilingStatus

EXPIRY_NOTICE_DAYS = 7


def filings_expiring(now: dt.datetime):
    """One query: active temporary filings whose last day is within a week."""
    today = timezone.localdate(now)
    rows = (
        Filing.objects.filter(
            kind=FilingKind.TEMPORARY,
            status=FilingStatus.ACTIVE,
            end_on__gte=today,
            end_on__lte=today + dt.timedelta(days=EXPIRY_NOTICE_DAYS),
        )
        .order_by("end_on", "pk")
        .values_list("pk", "person_id", "end_on")[:REMINDERS_PER_SOURCE]
    )
    for filing_id, person_id, end_on in rows:
        yield (
            person_id,
            f"records.filing_expiring.{filing_id}",
            gettext_noop("您的临时外出就医备案将于%(end_on)s到期"),
            {"end_on": end_on},
            reverse("records:filing_detail", args=[filing_id]),
        )


def register() -> None:
    from people.reminders import reminder_source_register

    reminder_source_register("records.filing_expiring", filings_expiring)
