"""Working days (工作日) on China's calendar, with holidays and make-up days (调休).

A deadline of N working days from day D is the Nth working day strictly after D.
Sources, in order: the CalendarDay table (exceptions staff can edit); for a year
marked published in CalendarYear, Monday–Friday otherwise; the chinesecalendar
package for the years it covers; else Monday–Friday, and the result is marked
*estimated* until the State Council's schedule is entered.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import chinese_calendar

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Deadline:
    date: dt.date
    estimated: bool


_cache: dict = {"loaded": 0.0, "exceptions": {}, "published": frozenset()}


def _table() -> tuple[dict, frozenset]:
    """The whole exceptions table (a few hundred rows) and the published years,
    kept per process for WORKDAYS_CACHE_SECONDS so a deadline costs no query."""
    import time

    from django.conf import settings

    from .models import CalendarDay, CalendarYear

    ttl = getattr(settings, "WORKDAYS_CACHE_SECONDS", 0)
    now = time.monotonic()
    if ttl <= 0 or now - _cache["loaded"] > ttl:
        _cache["exceptions"] = dict(
            CalendarDay.objects.values_list("date", "is_working_day")
        )
        _cache["published"] = frozenset(
            CalendarYear.objects.filter(published=True).values_list("year", flat=True)
        )
        _cache["loaded"] = now
    return _cache["exceptions"], _cache["published"]


def calendar_changed(**kwargs) -> None:
    """Staff changed the calendar: this process reads it again at the next deadline."""
    _cache["loaded"] = 0.0


class _Calendar:
    """The calendar for a span of days; answers without further queries."""

    def __init__(self, start: dt.date, end: dt.date):
        self.exceptions, self.published = _table()
        self.start, self.end = start, end

    def day(self, day: dt.date) -> tuple[bool, bool]:
        """(is working day, estimated)."""
        if day in self.exceptions:
            return self.exceptions[day], False
        if day.year in self.published:
            return day.weekday() < 5, False
        try:
            return chinese_calendar.is_workday(day), False
        except NotImplementedError:
            return day.weekday() < 5, True


def _span_for(n: int) -> int:
    # N working days never need more than ~N*7/5 days plus the longest holiday
    # run (Spring Festival / National Day, 8–9 days) and its make-up days.
    return n * 2 + 21


def is_working_day(day: dt.date) -> bool:
    return _Calendar(day, day).day(day)[0]


def working_deadline(day: dt.date, n: int) -> Deadline:
    """The Nth working day strictly after `day`, and whether any day counted was estimated."""
    if n < 1:
        raise ValueError("n must be at least 1")
    estimated = False
    current = day
    remaining = n
    while True:
        span_end = current + dt.timedelta(days=_span_for(remaining))
        calendar = _Calendar(current + ONE_DAY, span_end)
        while current < span_end:
            current += ONE_DAY
            working, guessed = calendar.day(current)
            estimated = estimated or guessed
            if working:
                remaining -= 1
                if remaining == 0:
                    return Deadline(current, estimated)


def add_working_days(day: dt.date, n: int) -> dt.date:
    return working_deadline(day, n).date


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]; negative when end is before start."""
    if end == start:
        return 0
    if end < start:
        return -working_days_between(end, start)
    calendar = _Calendar(start + ONE_DAY, end)
    count = 0
    current = start
    while current < end:
        current += ONE_DAY
        if calendar.day(current)[0]:
            count += 1
    return count


def working_days_left(deadline: dt.date, today: dt.date) -> int:
    """Working days from today up to the deadline; negative when overdue."""
    return working_days_between(today, deadline)
