"""Enrollment's reminders (issue 11): the residents' window closes in 14 days
and someone a citizen enrolls for (or the citizen) is not registered for
that year; a flexible worker's current month is still unpaid after the 20th.
Each source runs a fixed number of queries whatever the number of people,
and leaves out reminders already sent so the bound never starves the rest."""

import datetime as dt

from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from people.models import AuthorityStatus, FamilyLink, Person, Reminder, Role, Scope
from people.reminders import REMINDERS_PER_SOURCE

from .models import LIVE_STATUSES, Enrollment, FlexibleMonth, Policy, Scheme

WINDOW_NOTICE_DAYS = 14
FLEXIBLE_DUE_AFTER_DAY = 20


def _window_key(year: int, person_id) -> str:
    return f"enrollment.window.{year}.{person_id}"


def window_closing(now: dt.datetime):
    """Three queries: the windows closing within 14 days, the citizens not
    registered for that year, and the relatives not registered whom a citizen
    may enroll."""
    today = timezone.localdate(now)
    policies = list(
        Policy.objects.filter(
            window_start__lte=today,
            window_end__gte=today,
            window_end__lte=today + dt.timedelta(days=WINDOW_NOTICE_DAYS),
        ).values_list("region_id", "year", "window_end")
    )
    if not policies:
        return
    closes = {(region_id, year): end for region_id, year, end in policies}
    message = gettext_noop(
        "%(name)s尚未登记%(year)s年度城乡居民医保，集中参保期将于%(window_end)s结束"
    )
    url = reverse("enrollment:resident")

    def due(prefix: str, recipient: str) -> Q:
        # Not registered for the year of the window of their region, and not
        # yet reminded of it.
        pending = Q()
        for region_id, year, _end in policies:
            registered = Enrollment.objects.filter(
                person_id=OuterRef(f"{prefix}pk" if prefix else "pk"),
                year=year,
                status__in=LIVE_STATUSES,
            )
            reminded = Reminder.objects.filter(
                person_id=OuterRef(recipient),
                key=Concat(
                    Value(f"enrollment.window.{year}."),
                    Cast(OuterRef(f"{prefix}pk" if prefix else "pk"), CharField()),
                ),
            )
            pending |= (
                Q(**{f"{prefix}region_id": region_id})
                & ~Exists(registered)
                & ~Exists(reminded)
            )
        return pending

    selves = (
        Person.objects.filter(
            due("", "pk"), account__role=Role.CITIZEN, account__is_active=True
        )
        .order_by("pk")
        .values_list("pk", "name", "region_id")[:REMINDERS_PER_SOURCE]
    )
    for person_id, name, region_id in selves:
        year = next(y for (r, y) in closes if r == region_id)
        yield (
            person_id,
            _window_key(year, person_id),
            message,
            {"name": name, "year": year, "window_end": closes[(region_id, year)]},
            url,
        )
    links = (
        FamilyLink.objects.filter(
            due("relative__", "owner_id"),
            Q(ends_on__isnull=True) | Q(ends_on__gt=today),
            status=AuthorityStatus.GRANTED,
            owner__account__role=Role.CITIZEN,
            owner__account__is_active=True,
        )
        .order_by("pk")
        .values_list(
            "owner_id", "relative_id", "relative__name", "relative__region_id", "scopes"
        )[:REMINDERS_PER_SOURCE]
    )
    for owner_id, relative_id, name, region_id, scopes in links:
        if Scope.ENROLL not in (scopes or ()):
            continue
        year = next(y for (r, y) in closes if r == region_id)
        yield (
            owner_id,
            _window_key(year, relative_id),
            message,
            {"name": name, "year": year, "window_end": closes[(region_id, year)]},
            url,
        )


def flexible_month_due(now: dt.datetime):
    """One query: flexible workers with an account whose current month is
    unpaid after the 20th."""
    today = timezone.localdate(now)
    if today.day <= FLEXIBLE_DUE_AFTER_DAY:
        return
    month = today.replace(day=1)
    key = f"enrollment.flexible_month.{month:%Y-%m}"
    rows = (
        Enrollment.objects.filter(
            scheme=Scheme.FLEXIBLE,
            status__in=LIVE_STATUSES,
            year=today.year,
            person__account__role=Role.CITIZEN,
        )
        .exclude(
            Exists(FlexibleMonth.objects.filter(enrollment=OuterRef("pk"), month=month))
        )
        .exclude(
            Exists(Reminder.objects.filter(person_id=OuterRef("person_id"), key=key))
        )
        .order_by("person_id")
        .values_list("person_id", flat=True)
        .distinct()[:REMINDERS_PER_SOURCE]
    )
    for person_id in rows:
        yield (
            person_id,
            key,
            gettext_noop("灵活就业人员%(month)s月份医保费尚未缴纳，请在月底前缴费"),
            {"month": f"{month:%Y-%m}"},
            reverse("enrollment:coverage"),
        )


def register() -> None:
    from people.reminders import reminder_source_register

    reminder_source_register("enrollment.window_closing", window_closing)
    reminder_source_register("enrollment.flexible_month", flexible_month_due)
