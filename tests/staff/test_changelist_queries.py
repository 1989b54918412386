"""Every admin list runs a fixed number of queries: the same with 1 row as
with 30 (list_select_related, no per-row lookups), within a budget, and
without a COUNT(*) over the whole table."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from people.admin_base import RegionScopedAdmin

from .conftest import build, registered_admins
from .test_admin_matrix import _may_open

BUDGET = 14
ADMINS = registered_admins()


def _changelist_queries(client, model) -> tuple[int, list[str]]:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize(
    ("model", "model_admin"), ADMINS, ids=[m._meta.label for m, _ in ADMINS]
)
def test_changelist_query_count_does_not_grow_with_rows(
    client, staff, regions, model, model_admin
):
    hefei = regions[0]
    label = model._meta.label
    user = staff["clerk"] if _may_open("clerk", model) else staff["superuser"]
    client.force_login(user)
    first = build(model, hefei, variant=0)
    if first is None and label not in ("core.Region",):
        pytest.skip(f"{label}: no test row can be built here")
    client.get(reverse("admin:index"))  # session and permission caches warm
    one, _sql = _changelist_queries(client, model)
    for variant in range(1, 30):
        build(model, hefei, variant=variant)
    thirty, sql = _changelist_queries(client, model)
    assert thirty == one, (
        f"{label}: {one} queries with 1 row, {thirty} with 30:\n" + "\n".join(sql)
    )
    assert thirty <= BUDGET, f"{label}: {thirty} queries:\n" + "\n".join(sql)


@pytest.mark.parametrize(
    ("model", "model_admin"),
    [(m, a) for m, a in ADMINS if isinstance(a, RegionScopedAdmin)],
    ids=[m._meta.label for m, a in ADMINS if isinstance(a, RegionScopedAdmin)],
)
def test_region_lists_count_at_most_a_capped_number_of_rows(
    client, staff, regions, model, model_admin
):
    client.force_login(staff["clerk"])
    build(model, regions[0])
    _count, sql = _changelist_queries(client, model)
    counts = [q for q in sql if "COUNT(" in q.upper()]
    # Every COUNT runs over a LIMITed subquery (CappedCountPaginator), never the table.
    assert all("LIMIT" in q.upper() for q in counts), counts


@pytest.mark.parametrize(
    ("model", "model_admin"),
    [(m, a) for m, a in ADMINS if isinstance(a, RegionScopedAdmin)],
    ids=[m._meta.label for m, a in ADMINS if isinstance(a, RegionScopedAdmin)],
)
def test_filter_facets_cannot_be_switched_on(
    client, staff, regions, model, model_admin
):
    # ?_facets=True would COUNT every option of every filter over the table.
    client.force_login(staff["superuser"])
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    with CaptureQueriesContext(connection) as plain:
        client.get(url)
    with CaptureQueriesContext(connection) as asked:
        response = client.get(url, {"_facets": "True"})
    assert response.status_code in (200, 302)
    assert len(asked) <= len(plain)
