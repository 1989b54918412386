"""The regional dashboard: premiums by day and channel, enrollments by
category, transfers on time per leg, failed payments; region-scoped, charts
drawn on the server, each list exported as CSV, a fixed number of queries."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from payments.models import Order, Payment
from tests.factories import EnrollmentFactory, PersonFactory
from transfers.models import Transfer

TODAY = dt.datetime(2026, 3, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _payment(
    region, *, amount, channel="wechat", status="success", day=dt.date(2026, 3, 18)
):
    person = PersonFactory(region=region)
    enrollment = EnrollmentFactory(person=person, region=region)
    order = Order.objects.create(
        insured=person,
        enrollment=enrollment,
        region=region,
        scheme="resident",
        period="2026",
        personal_amount=amount,
        total=amount,
        idempotency_key=uuid.uuid4().hex,
    )
    settled = timezone.make_aware(dt.datetime.combine(day, dt.time(11, 0)))
    payment = Payment.objects.create(
        order=order,
        insured=person,
        scheme="resident",
        period="2026",
        channel=channel,
        amount=amount,
        status=status,
        idempotency_key=uuid.uuid4().hex,
        reference=uuid.uuid4().hex[:20],
        settled_at=settled if status == "success" else None,
        failure_reason="余额不足" if status == "failed" else "",
    )
    Payment.objects.filter(pk=payment.pk).update(created_at=settled)
    return payment


def _transfer(
    out_region,
    in_region,
    *,
    issued,
    deadline,
    completed=None,
    in_deadline=None,
    status="completed",
):
    def aware(d):
        return timezone.make_aware(dt.datetime.combine(d, dt.time(9, 0))) if d else None

    return Transfer.objects.create(
        person=PersonFactory(region=out_region),
        kind=Transfer._meta.get_field("kind").choices[0][0],
        outgoing_region=out_region,
        incoming_region=in_region,
        status=status,
        sheet_issued_at=aware(issued),
        outgoing_deadline=deadline,
        completed_at=aware(completed),
        incoming_deadline=in_deadline,
    )


@pytest.fixture
def figures(regions):
    hefei, beijing, qingdao = regions
    _payment(hefei, amount=Decimal("400.00"), channel="wechat")
    _payment(hefei, amount=Decimal("40.00"), channel="wechat")
    _payment(
        hefei, amount=Decimal("350.00"), channel="alipay", day=dt.date(2026, 3, 19)
    )
    _payment(hefei, amount=Decimal("400.00"), channel="bank", status="failed")
    _payment(beijing, amount=Decimal("9999.00"), channel="wechat")
    # 合肥 out: one on time, one late; 合肥 in: completed on time.
    _transfer(
        hefei, qingdao, issued=dt.date(2026, 3, 10), deadline=dt.date(2026, 3, 12)
    )
    _transfer(
        hefei, qingdao, issued=dt.date(2026, 3, 16), deadline=dt.date(2026, 3, 13)
    )
    _transfer(
        beijing,
        hefei,
        issued=dt.date(2026, 3, 2),
        deadline=dt.date(2026, 3, 5),
        completed=dt.date(2026, 3, 9),
        in_deadline=dt.date(2026, 3, 9),
    )
    return regions


def _get(client, **params):
    return client.get(
        reverse("staff:dashboard"),
        {"start": "2026-03-01", "end": "2026-03-20", "year": 2026, **params},
    )


@time_machine.travel(TODAY)
def test_clerk_sees_only_their_region_figures(client, staff, figures):
    client.force_login(staff["clerk"])
    response = _get(client)
    assert response.status_code == 200
    panels = {panel.key: panel for panel, _chart in response.context["panels"]}
    premiums = panels["premiums"].rows
    assert [(r[0], r[1], r[2], r[3]) for r in premiums] == [
        (dt.date(2026, 3, 18), "微信", 2, Decimal("440.00")),
        (dt.date(2026, 3, 19), "支付宝", 1, Decimal("350.00")),
    ]
    assert [r[0] for r in panels["failed"].rows] and all(
        r[5] == "缴费失败" for r in panels["failed"].rows
    )
    assert len(panels["failed"].rows) == 1
    outgoing, incoming = panels["transfers"].rows
    assert outgoing[2:5] == [2, 1, "50.0%"]
    assert incoming[2:5] == [1, 1, "100.0%"]
    enrollment_total = sum(r[3] for r in panels["enrollments"].rows)
    assert enrollment_total == 4  # the 合肥 enrollments behind the 合肥 orders
    html = response.content.decode()
    assert "<svg" in html and "9,999" not in html and "9999" not in html


@time_machine.travel(TODAY)
def test_auditor_chooses_a_region_or_sees_all(client, staff, figures):
    client.force_login(staff["auditor"])
    all_rows = {p.key: p for p, _ in _get(client).context["panels"]}["premiums"].rows
    assert sum(r[3] for r in all_rows) == Decimal("10789.00")
    beijing = {p.key: p for p, _ in _get(client, region="110000").context["panels"]}[
        "premiums"
    ].rows
    assert sum(r[3] for r in beijing) == Decimal("9999.00")


@time_machine.travel(TODAY)
def test_each_list_exports_as_csv_for_the_same_scope(client, staff, figures):
    client.force_login(staff["clerk"])
    for key in ("premiums", "enrollments", "transfers", "failed"):
        response = client.get(
            reverse("staff:export_csv", args=[key]),
            {"start": "2026-03-01", "end": "2026-03-20"},
        )
        assert response.status_code == 200 and response["Content-Type"].startswith(
            "text/csv"
        )
        rows = list(
            csv.reader(
                io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))
            )
        )
        assert len(rows) >= 2, key
        assert "9999.00" not in "".join(map(str, rows))
    premiums = client.get(
        reverse("staff:export_csv", args=["premiums"]),
        {"start": "2026-03-01", "end": "2026-03-20"},
    )
    body = list(
        csv.reader(
            io.StringIO(b"".join(premiums.streaming_content).decode("utf-8-sig"))
        )
    )
    assert body[1] == ["2026-03-18", "微信", "2", "440.00"]
    assert client.get(reverse("staff:export_csv", args=["nope"])).status_code == 404


@time_machine.travel(TODAY)
def test_dashboard_query_count_is_fixed(client, staff, regions):
    client.force_login(staff["clerk"])
    _payment(regions[0], amount=Decimal("1.00"))
    _get(client)
    with CaptureQueriesContext(connection) as few:
        _get(client)
    for index in range(10):
        _payment(
            regions[0],
            amount=Decimal("2.00"),
            channel=["wechat", "alipay", "bank"][index % 3],
            day=dt.date(2026, 3, 1 + index),
            status="success" if index % 2 else "failed",
        )
    with CaptureQueriesContext(connection) as many:
        _get(client)
    assert len(few) == len(many) <= 14


def test_staff_without_a_region_and_citizens_get_no_dashboard(client, staff, regions):
    client.force_login(staff["no_region"])
    assert client.get(reverse("staff:dashboard")).status_code == 403
    assert client.get(reverse("staff:export_csv", args=["premiums"])).status_code == 403


def test_csv_cells_cannot_smuggle_spreadsheet_formulas():
    from core.export import csv_cell

    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_cell("-12.50") == "-12.50"
