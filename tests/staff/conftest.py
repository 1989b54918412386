"""Staff-site fixtures: one login per role, and a builder that makes rows of
any model registered in the admin, in a given region, so the role × region
matrix covers every app's admin as it appears."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from decimal import Decimal

import pytest
from django.contrib import admin
from django.db import IntegrityError, models, transaction

from core.models import Region
from people.admin_base import RegionScopedAdmin
from people.models import Person, Role, User
from tests.factories import PersonFactory, StaffFactory, region

HEFEI, BEIJING, QINGDAO = "340100", "110000", "370200"

_counter = itertools.count(1)


@pytest.fixture
def regions(db):
    return region(HEFEI), region(BEIJING), region(QINGDAO)


@pytest.fixture
def staff(regions):
    """A login per role: clerk and supervisor of 合肥 and of 北京, an auditor,
    a superuser, and a staff login with no region."""
    hefei, beijing, _qingdao = regions
    return {
        "clerk": StaffFactory(username="clerk_hf", role=Role.CLERK, region=hefei),
        "supervisor": StaffFactory(
            username="super_hf", role=Role.SUPERVISOR, region=hefei
        ),
        "clerk_bj": StaffFactory(username="clerk_bj", role=Role.CLERK, region=beijing),
        "auditor": StaffFactory(username="auditor", role=Role.AUDITOR, region=None),
        "superuser": StaffFactory(
            username="root", role=Role.CITIZEN, region=None, is_superuser=True
        ),
        "no_region": StaffFactory(username="lost", role=Role.CITIZEN, region=None),
    }


def registered_admins():
    """(model, model_admin) for every model registered on the admin site, sorted."""
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


# --- building rows of any model ---------------------------------------------------


def build(model, region_obj: Region, *, variant: int = 0):
    """A saved row of `model` tied to `region_obj` along its admin's region path.

    Known models use the shared factories; any other model is filled in field
    by field (choices take the `variant`-th value, so several rows cover
    several statuses). Returns None when the model's own rules refuse the row.
    """
    concrete = model._meta.concrete_model
    maker = KNOWN.get(concrete._meta.label)
    try:
        with transaction.atomic():
            obj = (
                maker(region_obj, variant)
                if maker
                else _auto(concrete, region_obj, variant)
            )
    except (IntegrityError, ValueError, TypeError):
        return None
    if obj is None:
        return None
    return model.objects.get(pk=obj.pk) if model is not concrete else obj


def _person(region_obj, variant=0):
    return PersonFactory(region=region_obj)


def _enrollment(region_obj, variant=0):
    from tests.factories import EnrollmentFactory

    return EnrollmentFactory(
        person=PersonFactory(region=region_obj),
        region=region_obj,
        year=2026 + variant % 2,
    )


def _policy(region_obj, variant=0):
    from tests.factories import policy

    return policy(region_obj.code, 2026 + variant)


def _policy_category(region_obj, variant=0):
    return _policy(region_obj, variant).categories.order_by("id")[0]


def _calendar_day(region_obj, variant=0):
    from core.models import CalendarDay

    return CalendarDay.objects.create(
        date=dt.date(2027, 1, 1) + dt.timedelta(days=next(_counter)),
        is_working_day=False,
        note="test",
    )


def _calendar_year(region_obj, variant=0):
    from core.models import CalendarYear

    return CalendarYear.objects.create(year=2100 + next(_counter), published=False)


def _user(region_obj, variant=0):
    return StaffFactory(region=region_obj)


def _log_entry(region_obj, variant=0):
    from auditlog.models import LogEntry

    person = PersonFactory(region=region_obj)
    return LogEntry.objects.log_create(
        person,
        action=LogEntry.Action.UPDATE,
        changes={"mobile": ["1", "2"]},
        force_log=True,
    )


KNOWN = {
    "core.Region": lambda region_obj, variant=0: region_obj,
    "people.Person": _person,
    "people.User": _user,
    "core.CalendarDay": _calendar_day,
    "core.CalendarYear": _calendar_year,
    "enrollment.Enrollment": _enrollment,
    "enrollment.Policy": _policy,
    "enrollment.PolicyCategory": _policy_category,
    "auditlog.LogEntry": _log_entry,
}


def _auto(model, region_obj, variant):
    """Fill every required field; foreign keys to Region get the region, to
    Person a person of the region, to other models a row built the same way."""
    values = {}
    other_region = Region.objects.exclude(pk=region_obj.pk).order_by("code").first()
    region_fks = 0
    for field in model._meta.concrete_fields:
        if (
            field.primary_key
            and field.auto_created
            or isinstance(field, models.AutoField)
        ):
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            continue
        if field.is_relation:
            related = field.related_model
            if related is Region:
                values[field.name] = region_obj if region_fks == 0 else other_region
                region_fks += 1
            elif related is Person:
                values[field.name] = PersonFactory(region=region_obj)
            elif related is User:
                if not field.null:
                    values[field.name] = StaffFactory(region=region_obj)
            elif not field.null:
                values[field.name] = build(related, region_obj, variant=variant)
                if values[field.name] is None:
                    return None
            continue
        if field.has_default() or field.null:
            if field.choices and field.name == "status":
                values[field.name] = field.choices[variant % len(field.choices)][0]
            continue
        values[field.name] = _value_for(field, variant)
    return model.objects.create(**values)


# Values for fields whose shape a check constraint fixes.
FIELD_HINTS = {"period": "2026"}


def _value_for(field, variant):
    if field.name in FIELD_HINTS:
        return FIELD_HINTS[field.name]
    if field.choices:
        return field.choices[variant % len(field.choices)][0]
    if isinstance(field, models.JSONField):
        return {}
    if isinstance(field, models.DecimalField):
        return Decimal("1.00")
    if isinstance(field, (models.IntegerField, models.BigIntegerField)):
        return next(_counter)
    if isinstance(field, models.DateTimeField):
        from django.utils import timezone

        return timezone.now()
    if isinstance(field, models.DateField):
        return dt.date(2026, 1, 1)
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, (models.CharField, models.TextField)):
        size = field.max_length or 32
        return uuid.uuid4().hex[:size] if size < 32 else uuid.uuid4().hex
    raise TypeError(f"no test value for {field!r}")


def rows_for(model, model_admin, regions_, per_region: int = 3) -> list:
    """Rows of `model` in 合肥 and 北京 (several variants each); [] if the model
    cannot be built here."""
    rows = []
    for region_obj in regions_[:2]:
        for variant in range(per_region):
            obj = build(model, region_obj, variant=variant)
            if obj is not None and obj not in rows:
                rows.append(obj)
    return rows


def region_codes_of(model_admin, obj) -> set[str]:
    """The regions through which staff may reach `obj` in this admin."""
    if not isinstance(model_admin, RegionScopedAdmin):
        return set()
    paths = (model_admin.region_field, *model_admin.extra_region_fields)
    codes = set()
    for path in paths:
        codes.update(
            code
            for code in model_admin.model._default_manager.filter(
                pk=obj.pk
            ).values_list(path, flat=True)
            if code
        )
    return codes
