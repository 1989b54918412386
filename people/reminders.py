"""Reminders: each app registers a source (in its AppConfig.ready()) that
names the reminders due now; `reminders_send_due` sends each one once, as an
inbox message (and an e-mail to a verified address), never at night.

A source is `func(now) -> iterable of (person_id, key, subject_template,
params, url)`: `key` names the reminder for that person (the same key is
never sent twice), the subject an untranslated template (gettext_noop)
filled with `params` when read. A source runs a fixed number of queries and
returns at most REMINDERS_PER_SOURCE rows per scan; the rest come next hour."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

log = logging.getLogger(__name__)

REMINDERS_PER_SOURCE = 200
# Nobody is written to between 21:00 and 08:00 in China.
QUIET_ZONE = ZoneInfo("Asia/Shanghai")
QUIET_FROM = dt.time(21, 0)
QUIET_UNTIL = dt.time(8, 0)

ReminderRow = tuple[int, str, str, dict, str]
_sources: dict[str, Callable[[dt.datetime], Iterable[ReminderRow]]] = {}


def reminder_source_register(
    key: str, func: Callable[[dt.datetime], Iterable[ReminderRow]]
) -> None:
    """Register (or replace) the source `key`."""
    _sources[key] = func


def reminder_sources() -> dict[str, Callable]:
    return dict(_sources)


def is_quiet_hour(now: dt.datetime) -> bool:
    local = now.astimezone(QUIET_ZONE).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL


def reminders_send_due(*, now: dt.datetime | None = None) -> int:
    """Send the reminders every source names as due; returns how many were sent."""
    from .models import Person, Reminder
    from .services import notify

    now = now or timezone.now()
    if is_quiet_hour(now):
        return 0
    sent = 0
    for source_key, source in reminder_sources().items():
        rows = list(source(now))[:REMINDERS_PER_SOURCE]
        if not rows:
            continue
        persons = Person.objects.select_related("account").in_bulk(
            {row[0] for row in rows}
        )
        for person_id, key, subject, params, url in rows:
            person = persons.get(person_id)
            if person is None:
                continue
            try:
                with transaction.atomic():
                    # The unique (person, key) makes the insert the "once":
                    # a second scan, or one running beside it, fails here.
                    Reminder.objects.create(person=person, key=key)
                    notify(person=person, subject=subject, params=params, url=url)
            except IntegrityError:
                continue
            sent += 1
        log.info("reminders: source %s sent up to %d", source_key, len(rows))
    return sent
