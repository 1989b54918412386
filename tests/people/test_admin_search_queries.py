"""The staff site's search of persons by identity number (the clerks' most
frequent list, issue 13): a fixed, small number of statements whatever the
region holds, no COUNT when the rows fit on the page, the term never in a URL,
and the clerk's region only."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from people.admin_base import COUNT_CAP
from tests.factories import PersonFactory, StaffFactory, region

pytestmark = pytest.mark.django_db

URL = "admin:people_person_changelist"
# The login (user), its permissions (its own and its groups'), the rows.
SEARCH_STATEMENTS = 4


@pytest.fixture
def clerk(client):
    user = StaffFactory(username="clerk_search", region=region("340100"))
    client.force_login(user)
    return user


def _search(client, term: str) -> str:
    """Post the search as the form does; the answer is the list's address."""
    posted = client.post(reverse(URL), {"q": term})
    assert posted.status_code == 302
    assert term not in posted["Location"] and "qk=" in posted["Location"]
    return posted["Location"]


def _statements(client, location: str):
    client.get(location)  # warm: content types, translations
    with CaptureQueriesContext(connection) as queries:
        response = client.get(location)
    assert response.status_code == 200
    return response, [q["sql"] for q in queries.captured_queries]


def test_search_by_identity_number_runs_a_fixed_number_of_statements(client, clerk):
    hefei = region("340100")
    wanted = PersonFactory(region=hefei)
    response, sql = _statements(client, _search(client, wanted.id_number))
    assert list(response.context["cl"].result_list) == [wanted]
    assert response.context["cl"].result_count == 1
    assert len(sql) == SEARCH_STATEMENTS, "\n".join(sql)
    # The one row found is the count: no COUNT statement at all.
    assert not [q for q in sql if "COUNT(" in q.upper()], sql
    # The row shows the number masked; the full number stays in the search
    # box the clerk typed it into, and in no link (rows, add, filters).
    page = response.content.decode()
    assert wanted.id_masked in page
    assert page.count(wanted.id_number) == 1
    assert f'value="{wanted.id_number}" id="searchbar"' in page

    # The same with many more persons in the region (and elsewhere).
    for _ in range(30):
        PersonFactory(region=hefei)
        PersonFactory(region=region("110000"))
    again, sql_after = _statements(client, _search(client, wanted.id_number))
    assert list(again.context["cl"].result_list) == [wanted]
    assert len(sql_after) == SEARCH_STATEMENTS, "\n".join(sql_after)


def test_search_finds_nobody_of_another_region_nor_by_a_partial_number(client, clerk):
    elsewhere = PersonFactory(region=region("110000"))
    mine = PersonFactory(region=region("340100"))
    response, sql = _statements(client, _search(client, elsewhere.id_number))
    assert list(response.context["cl"].result_list) == []
    assert response.context["cl"].result_count == 0
    assert len(sql) == SEARCH_STATEMENTS
    partial, _sql = _statements(client, _search(client, mine.id_number[:14]))
    assert list(partial.context["cl"].result_list) == []


def test_a_list_fuller_than_a_page_is_still_counted_capped(client, clerk):
    hefei = region("340100")
    people = [PersonFactory(region=hefei, name="同名") for _ in range(3)]
    from people.admin import PersonAdmin

    page_size = PersonAdmin.list_per_page
    PersonAdmin.list_per_page = 2
    try:
        response, sql = _statements(client, _search(client, "同名"))
    finally:
        PersonAdmin.list_per_page = page_size
    cl = response.context["cl"]
    assert cl.result_count == 3 and cl.multi_page
    assert len(list(cl.result_list)) == 2
    assert {p.pk for p in cl.result_list} <= {p.pk for p in people}
    counts = [q for q in sql if "COUNT(" in q.upper()]
    assert len(counts) == 1 and f"LIMIT {COUNT_CAP + 1}" in counts[0]
