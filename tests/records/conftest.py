"""Persons covered today (2026-06-15), for filings, certificates, accounts and
contribution years."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from enrollment.models import Enrollment, EnrollmentStatus, MonthsKind, Scheme
from enrollment.services import months_add
from tests import factories

TODAY = dt.date(2026, 6, 15)
NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
HEFEI, BEIJING, QINGDAO, FUZHOU = "340100", "110000", "370200", "350100"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def regions(db):
    return {code: factories.region(code) for code in (HEFEI, BEIJING, QINGDAO, FUZHOU)}


def covered(person, *, region=HEFEI, year=2026, scheme=Scheme.RESIDENT, **extra):
    """A paid enrollment of `person` whose cover runs through `year`."""
    factories.region(region)
    return Enrollment.objects.create(
        person=person,
        region_id=region,
        scheme=scheme,
        year=year,
        status=extra.pop("status", EnrollmentStatus.ACTIVE),
        category="ordinary" if scheme == Scheme.RESIDENT else "",
        contribution_base="5000.00" if scheme == Scheme.FLEXIBLE else None,
        coverage_start=extra.pop("coverage_start", dt.date(year, 1, 1)),
        coverage_end=extra.pop("coverage_end", dt.date(year, 12, 31)),
        **extra,
    )


def months(person, *, region=HEFEI, actual=0, deemed=0, tag="m"):
    if actual:
        months_add(
            person_id=person.pk,
            region_code=region,
            kind=MonthsKind.ACTUAL,
            months=actual,
            reference=f"{tag}:{person.pk}:{region}:actual",
        )
    if deemed:
        months_add(
            person_id=person.pk,
            region_code=region,
            kind=MonthsKind.DEEMED,
            months=deemed,
            reference=f"{tag}:{person.pk}:{region}:deemed",
        )


@pytest.fixture
def citizen(regions):
    """A signed-up citizen of 合肥, covered as a resident through 2026."""
    user = factories.UserFactory(person__name="王芳", person__region=regions[HEFEI])
    covered(user.person)
    return user
