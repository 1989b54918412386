"""On PostgreSQL: simultaneous registrations of one person for one year, each
on its own connection, give exactly one enrollment (the service's row lock and,
beneath it, the database's unique constraint)."""

import datetime as dt
import threading

import pytest
from django.db import connection

from core.errors import DomainError
from enrollment import services
from enrollment.models import Enrollment, Scheme
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)
IN_WINDOW = dt.date(2026, 10, 15)


def run_together(*calls):
    """Start every call at the same moment on its own thread (own connection)."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = ("ok", call())
        except DomainError as error:
            results[index] = ("refused", error.code)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            results[index] = ("error", repr(error))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def _policies():
    for code in ("340100", "110000"):
        factories.policy(code, 2027)


def test_two_simultaneous_registrations_of_one_person_for_one_year_give_one():
    assert connection.vendor == "postgresql"
    _policies()
    person = factories.PersonFactory()

    def register(region):
        return lambda: (
            services.enrollment_register_resident(
                actor=None,
                person=person,
                region=region,
                year=2027,
                category="ordinary",
                today=IN_WINDOW,
            ).pk
        )

    results = run_together(register("340100"), register("110000"))
    outcomes = sorted(kind for kind, _value in results)
    assert outcomes == ["ok", "refused"], results
    assert [value for kind, value in results if kind == "refused"] == [
        "already_enrolled"
    ]
    assert Enrollment.objects.filter(person=person, year=2027).count() == 1


def test_the_database_constraint_alone_keeps_one_when_no_lock_is_taken():
    """Writers that skip the service's lock still cannot create two live
    enrollments: the partial unique index refuses the second insert."""
    _policies()
    person = factories.PersonFactory()

    def insert(region):
        return lambda: (
            services._create_enrollment(
                person=person,
                region_id=region,
                scheme=Scheme.RESIDENT,
                year=2027,
                category="ordinary",
            ).pk
        )

    results = run_together(
        *(insert(code) for code in ("340100", "110000", "340100", "110000"))
    )
    assert sorted(kind for kind, _value in results) == [
        "ok",
        "refused",
        "refused",
        "refused",
    ], results
    assert Enrollment.objects.filter(person=person, year=2027).count() == 1


def test_simultaneous_flexible_and_resident_registrations_give_one():
    _policies()
    person = factories.PersonFactory()
    results = run_together(
        lambda: (
            services.enrollment_register_resident(
                actor=None,
                person=person,
                region="340100",
                year=2027,
                category="ordinary",
                today=IN_WINDOW,
            ).pk
        ),
        lambda: (
            services.enrollment_register_flexible(
                actor=None,
                person=person,
                region="110000",
                year=2027,
                base="15000",
                today=IN_WINDOW,
            ).pk
        ),
    )
    assert sorted(kind for kind, _value in results) == ["ok", "refused"], results
    assert Enrollment.objects.filter(person=person, year=2027).count() == 1
