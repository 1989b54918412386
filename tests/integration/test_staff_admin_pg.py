"""Staff lists on PostgreSQL: no COUNT(*) over a whole large table, and the
person searches use their indexes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.identity import make_id_number
from people import admin_base
from people.models import Person, Role
from tests.factories import StaffFactory, region

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_persons():
    hefei, beijing = region("340100"), region("110000")
    rows = []
    for index in range(3000):
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=index)
        rows.append(
            Person(
                id_number=make_id_number("340104", birth, index % 1000),
                name=f"居民{index % 400}",
                sex="M",
                birth_date=birth,
                region=hefei if index % 3 else beijing,
            )
        )
    Person.objects.bulk_create(rows, batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE people_person")
    return hefei, rows


def _changelist(client, **params):
    url = reverse("admin:people_person_changelist")
    if "q" in params:
        # Searches are posted (the term stays out of URLs), then the list shown.
        url = client.post(url, {"q": params.pop("q")})["Location"]
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return response, [q["sql"].upper() for q in ctx.captured_queries]


def test_person_lists_never_count_the_whole_table(client, many_persons, monkeypatch):
    hefei, _rows = many_persons
    monkeypatch.setattr(admin_base, "COUNT_CAP", 500)
    superuser = StaffFactory(role=Role.CITIZEN, region=None, is_superuser=True)
    client.force_login(superuser)
    response, sql = _changelist(client)
    counts = [q for q in sql if "COUNT(" in q]
    assert counts and all("LIMIT 501" in q for q in counts), counts
    # Past the cap, the unfiltered table gives the planner's estimate.
    assert 2500 <= response.context["cl"].result_count <= 3500

    clerk = StaffFactory(role=Role.CLERK, region=hefei)
    client.force_login(clerk)
    response, sql = _changelist(client)
    assert all("LIMIT 501" in q for q in sql if "COUNT(" in q)
    assert (
        response.context["cl"].result_count == 501
    )  # "more than 500", counted no further
    assert all(p.region_id == "340100" for p in response.context["cl"].result_list)


def test_person_searches_use_the_indexes(client, many_persons):
    hefei, rows = many_persons
    clerk = StaffFactory(role=Role.CLERK, region=hefei)
    client.force_login(clerk)
    target = next(p for p in rows if p.region_id == "340100")
    response, sql = _changelist(client, q=target.id_number)
    assert [p.pk for p in response.context["cl"].result_list] == [
        Person.objects.get(id_number=target.id_number).pk
    ]

    from django.contrib import admin
    from django.test import RequestFactory

    from people.admin import PersonAdmin

    request = RequestFactory().get("/")
    request.user = clerk
    model_admin = PersonAdmin(Person, admin.site)
    base = model_admin.get_queryset(request)
    by_id, _ = model_admin.get_search_results(request, base, target.id_number)
    by_name, _ = model_admin.get_search_results(request, base, "居民7")
    assert "people_person_id_number" in by_id.explain() or "Index" in by_id.explain()
    assert "person_region_name" in by_name.explain()
