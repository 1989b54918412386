"""enrollment.selectors read by other apps (transfers): each answers from the
enrollment tables so that callers need not query them."""

import datetime as dt

import pytest
import time_machine

from enrollment import selectors, services
from enrollment.models import EnrollmentStatus, MonthsKind, Scheme
from tests import factories

pytestmark = pytest.mark.django_db
HEFEI, BEIJING = "340100", "110000"


def enrollment(person, year=2026, region_code=HEFEI, **fields):
    return factories.EnrollmentFactory(
        person=person, year=year, region=factories.region(region_code), **fields
    )


def test_enrollment_for_year_finds_the_person_region_and_year_only():
    person = factories.PersonFactory()
    wanted = enrollment(person, 2026)
    enrollment(person, 2025, status=EnrollmentStatus.ACTIVE)
    enrollment(factories.PersonFactory(), 2026)
    assert (
        selectors.enrollment_for_year(person_id=person.pk, region_code=HEFEI, year=2026)
        == wanted
    )
    assert (
        selectors.enrollment_for_year(
            person_id=person.pk, region_code=BEIJING, year=2026
        )
        is None
    )


def test_arrears_are_an_unpaid_registration_at_that_region():
    person = factories.PersonFactory()
    enrollment(person, 2025, status=EnrollmentStatus.ACTIVE)
    enrollment(person, 2027, region_code=BEIJING)  # unpaid, but elsewhere
    assert not selectors.enrollment_has_arrears(person_id=person.pk, region_code=HEFEI)
    enrollment(person, 2026)
    assert selectors.enrollment_has_arrears(person_id=person.pk, region_code=HEFEI)


def test_latest_skips_cancelled_other_schemes_and_years_not_after():
    person = factories.PersonFactory()
    older = enrollment(person, 2025, status=EnrollmentStatus.SUSPENDED)
    enrollment(person, 2026, status=EnrollmentStatus.CANCELLED)
    enrollment(
        person,
        2027,
        scheme=Scheme.FLEXIBLE,
        category="",
        contribution_base="5000.00",
        status=EnrollmentStatus.ACTIVE,
    )
    resident = (Scheme.RESIDENT,)
    latest = selectors.enrollment_latest(
        person_id=person.pk, region_code=HEFEI, schemes=resident
    )
    assert latest == older
    assert (
        selectors.enrollment_latest(
            person_id=person.pk, region_code=HEFEI, schemes=resident, after_year=2025
        )
        is None
    )
    newer = enrollment(person, 2027, status=EnrollmentStatus.SUSPENDED)
    assert (
        selectors.enrollment_latest(
            person_id=person.pk, region_code=HEFEI, schemes=resident, after_year=2025
        )
        == newer
    )


def test_history_is_every_enrollment_at_the_region_oldest_year_first():
    person = factories.PersonFactory()
    late = enrollment(person, 2026, status=EnrollmentStatus.ACTIVE)
    early = enrollment(person, 2024, status=EnrollmentStatus.ACTIVE)
    middle = enrollment(person, 2025, status=EnrollmentStatus.CANCELLED)
    enrollment(person, 2027, region_code=BEIJING)
    assert selectors.enrollment_history(person_id=person.pk, region_code=HEFEI) == [
        early,
        middle,
        late,
    ]


def test_suspended_on_is_the_local_date_of_the_latest_suspension():
    row = enrollment(factories.PersonFactory(), status=EnrollmentStatus.ACTIVE)
    assert selectors.enrollment_suspended_on(enrollment_id=row.pk) is None
    # 20:00 UTC is already the next day in China.
    with time_machine.travel(dt.datetime(2026, 3, 1, 20, 0, tzinfo=dt.UTC)):
        services.enrollment_suspend(enrollment_id=row.pk, reason="test")
    assert selectors.enrollment_suspended_on(enrollment_id=row.pk) == dt.date(
        2026, 3, 2
    )


def test_months_totals_sum_each_kind_at_the_region():
    person = factories.PersonFactory()
    factories.region(HEFEI)
    factories.region(BEIJING)
    assert selectors.months_totals(person_id=person.pk, region_code=HEFEI) == {
        MonthsKind.ACTUAL: 0,
        MonthsKind.DEEMED: 0,
    }
    for reference, region_code, kind, months in (
        ("a", HEFEI, MonthsKind.ACTUAL, 12),
        ("b", HEFEI, MonthsKind.ACTUAL, -2),
        ("c", HEFEI, MonthsKind.DEEMED, 5),
        ("d", BEIJING, MonthsKind.ACTUAL, 7),
    ):
        services.months_add(
            person_id=person.pk,
            region_code=region_code,
            kind=kind,
            months=months,
            reference=f"test:{reference}",
        )
    assert selectors.months_totals(person_id=person.pk, region_code=HEFEI) == {
        MonthsKind.ACTUAL: 10,
        MonthsKind.DEEMED: 5,
    }
