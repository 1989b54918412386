"""Every citizen page runs the same number of queries for a family of 1 or of
10 (select_related / prefetch / one aggregate), and stays within a budget."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enrollment import services
from tests import factories

pytestmark = pytest.mark.django_db

# Measured counts (session, user, page) plus a margin of 2 for shared chrome.
PAGES = [
    ("portal:home", 8),
    ("people:family", 9),
    ("people:inbox", 10),
    ("enrollment:start", 12),
    ("enrollment:resident", 12),
    ("enrollment:newborn", 12),
    ("enrollment:flexible", 11),
    ("enrollment:coverage", 12),
    ("enrollment:suspend", 7),
]


@pytest.fixture(autouse=True)
def in_the_window():
    with time_machine.travel(
        dt.datetime(2026, 10, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
    ):
        yield


def family_of(size: int):
    for year in (2026, 2027):
        factories.policy("340100", year)
    user = factories.UserFactory()
    members = [user.person]
    for _ in range(size - 1):
        relative = factories.PersonFactory()
        factories.family_link(user.person, relative)
        members.append(relative)
    for n, person in enumerate(members):
        factories.EnrollmentFactory(
            person=person,
            year=2026,
            status="active",
            coverage_start=dt.date(2026, 1, 1),
        )
        services.enrollment_register_resident(
            actor=user, person=person, region="340100", year=2027, category="ordinary"
        )
        services.months_add(
            person_id=person.pk,
            region_code="340100",
            kind="actual",
            months=12,
            reference=f"q{n}",
        )
    return user


def count_queries(client, user, url_name) -> int:
    client.force_login(user)
    url = reverse(url_name)
    client.get(url)  # warm caches (content types, session) the same way for both sizes
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    client.logout()
    return len(queries)


@pytest.mark.parametrize(("url_name", "budget"), PAGES)
def test_page_queries_do_not_grow_with_the_family(client, url_name, budget):
    one = count_queries(client, family_of(1), url_name)
    ten = count_queries(client, family_of(10), url_name)
    assert one == ten
    assert ten <= budget


def test_done_page_queries_do_not_grow_with_the_family(client):
    counts = []
    for size in (1, 10):
        user = family_of(size)
        enrollment = user.person.enrollments.get(year=2027)
        client.force_login(user)
        url = reverse("enrollment:done", args=[enrollment.pk])
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
        client.logout()
    assert counts[0] == counts[1] <= 12
