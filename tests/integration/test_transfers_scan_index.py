"""The engine's scan uses its partial index on due_at: the rows it examines do
not grow with the number of transfers that are not yet due (PostgreSQL EXPLAIN)."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.utils import timezone

from people.models import Person
from tests import factories
from transfers.models import Transfer

pytestmark = pytest.mark.django_db(transaction=True)

BATCH = 50


def add_transfers(count: int, *, due_in: dt.timedelta, start: int):
    factories.region("340100")
    factories.region("110000")
    persons = Person.objects.bulk_create(
        Person(
            id_number=f"1101051990{start + i:08d}",
            name=f"扫描{start + i}",
            sex="M",
            birth_date=dt.date(1990, 1, 1),
        )
        for i in range(count)
    )
    now = timezone.now()
    Transfer.objects.bulk_create(
        Transfer(
            person=p,
            kind="e2e",
            outgoing_region_id="340100",
            incoming_region_id="110000",
            next_step="accept",
            due_at=now + due_in,
        )
        for p in persons
    )


def claim_plan() -> dict:
    """EXPLAIN ANALYZE of the scan's claim query, as transfers.services.transfers_claim_due runs it."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE transfers_transfer")
    with transaction.atomic():
        query = (
            Transfer.objects.select_for_update(skip_locked=True)
            .filter(due_at__lte=timezone.now())
            .order_by("due_at")
            .values_list("pk", "next_step")[:BATCH]
        )
        sql, params = query.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
            return cursor.fetchone()[0][0]["Plan"]


def scans(plan: dict):
    """Every node that reads the table, with the rows it looked at."""
    if "Relation Name" in plan:
        yield plan
    for child in plan.get("Plans", ()):
        yield from scans(child)


def examined(plan: dict) -> int:
    return sum(
        node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
        for node in scans(plan)
    )


def test_claim_uses_the_due_index_and_reads_as_many_rows_with_ten_times_more_not_yet_due():
    add_transfers(200, due_in=-dt.timedelta(minutes=5), start=0)  # due
    add_transfers(300, due_in=dt.timedelta(days=3), start=1000)  # not yet due
    small = claim_plan()
    add_transfers(
        2700, due_in=dt.timedelta(days=3), start=10000
    )  # 10× more not yet due
    large = claim_plan()
    for plan in (small, large):
        nodes = list(scans(plan))
        assert [node["Node Type"] for node in nodes] == ["Index Scan"], plan
        assert nodes[0]["Index Name"] == "transfer_due"
    assert examined(small) == examined(large) == BATCH
