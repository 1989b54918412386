"""The clerk's day (我的今日收费) and the supervisor's day close (日结对账):
each clerk's counter payments per tender against the receipts issued."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from core.errors import DomainError
from payments import services
from payments.models import DayClose, Receipt
from tests.factories import EnrollmentFactory, PersonFactory, StaffFactory

CST = dt.timezone(dt.timedelta(hours=8))
DAY = dt.date(2026, 12, 1)


@pytest.fixture(autouse=True)
def _working_day():
    with time_machine.travel(dt.datetime(2026, 12, 1, 9, 0, tzinfo=CST), tick=True):
        yield


_keys = itertools.count(1)


def _take(clerk, region_obj, tender):
    enrollment = EnrollmentFactory(
        person=PersonFactory(region=region_obj), region=region_obj, year=2027
    )
    return services.counter_payment_take(
        staff=clerk,
        enrollment_id=enrollment.pk,
        idempotency_key=f"day-close-key-{next(_keys):06d}",
        tender=tender,
    )


@pytest.fixture
def takings(staff, regions):
    """The 合肥 clerk took two cash payments and one by card; a colleague
    took one more, and yesterday's payment is not today's."""
    hefei = regions[0]
    clerk = staff["clerk"]
    with time_machine.travel(dt.datetime(2026, 11, 30, 16, 0, tzinfo=CST)):
        yesterday = _take(clerk, hefei, "cash")
    taken = [_take(clerk, hefei, "cash"), _take(clerk, hefei, "cash")]
    taken.append(_take(clerk, hefei, "card"))
    colleague = StaffFactory(region=hefei, username="colleague")
    other = _take(colleague, hefei, "card")
    return {"mine": taken, "colleague": other, "yesterday": yesterday}


def _sum(payments):
    return sum((p.amount for p in payments), Decimal("0"))


def test_counter_takings_are_summed_per_tender_for_that_clerk_and_day(staff, takings):
    lines = {
        line["tender"]: line
        for line in services.counter_takings(clerk_id=staff["clerk"].pk, day=DAY)
    }
    cash, card = takings["mine"][:2], takings["mine"][2:]
    assert set(lines) == {"cash", "card"}
    assert lines["cash"]["count"] == 2 and lines["cash"]["payments"] == _sum(cash)
    assert lines["card"]["count"] == 1 and lines["card"]["payments"] == _sum(card)
    assert all(line["receipts"] == line["payments"] for line in lines.values())


def test_the_clerk_sees_their_day_per_tender(client, staff, takings):
    client.force_login(staff["clerk"])
    response = client.get(reverse("staff:counter_day"))
    page = response.content.decode()
    mine = takings["mine"]
    assert response.context["count"] == 3
    assert response.context["total"] == _sum(mine)
    assert f"¥{_sum(mine):,.2f}" in page and "现金" in page and "刷卡" in page
    for payment in mine:
        assert payment.receipt.number in page
    assert takings["colleague"].receipt.number not in page
    assert takings["yesterday"].receipt.number not in page
    earlier = client.get(reverse("staff:counter_day"), {"day": "2026-11-30"})
    assert takings["yesterday"].receipt.number in earlier.content.decode()


def test_supervisor_closes_the_clerks_day_against_the_receipts(client, staff, takings):
    cash, card = _sum(takings["mine"][:2]), _sum(takings["mine"][2:])
    client.force_login(staff["supervisor"])
    page = client.get(reverse("staff:day_close"))
    assert {row["clerk"].username for row in page.context["rows"]} == {
        "clerk_hf",
        "colleague",
    }
    response = client.post(
        reverse("staff:day_close"),
        {
            "day": DAY.isoformat(),
            "clerk": staff["clerk"].pk,
            "cash": str(cash),
            "card": str(card),
        },
    )
    assert response.status_code == 302
    close = DayClose.objects.get()
    assert close.clerk == staff["clerk"] and close.day == DAY
    assert close.region_id == "340100" and close.closed_by == staff["supervisor"]
    assert close.payments_count == 3
    assert close.payments_total == close.receipts_total == cash + card
    assert close.difference == 0 and close.closed_at is not None
    assert {line["tender"]: line["count"] for line in close.lines} == {
        "cash": 2,
        "card": 1,
    }
    shown = client.get(response["Location"]).content.decode()
    assert "已日结" in shown


def test_a_shortfall_is_recorded_only_with_its_explanation(client, staff, takings):
    cash, card = _sum(takings["mine"][:2]), _sum(takings["mine"][2:])
    client.force_login(staff["supervisor"])
    data = {
        "day": DAY.isoformat(),
        "clerk": staff["clerk"].pk,
        "cash": str(cash - 10),
        "card": str(card),
    }
    refused = client.post(reverse("staff:day_close"), data)
    assert refused.status_code == 400
    assert "-¥10.00" in refused.content.decode()
    assert not DayClose.objects.exists()
    done = client.post(reverse("staff:day_close"), {**data, "note": "短款10元，已报告"})
    assert done.status_code == 302
    close = DayClose.objects.get()
    assert close.difference == Decimal("-10.00") and close.note == "短款10元，已报告"


def test_a_day_is_closed_once(staff, takings):
    cash, card = _sum(takings["mine"][:2]), _sum(takings["mine"][2:])
    counted = {"cash": cash, "card": card}
    services.day_close_record(
        supervisor=staff["supervisor"],
        clerk_id=staff["clerk"].pk,
        day=DAY,
        counted=counted,
    )
    with pytest.raises(DomainError) as caught:
        services.day_close_record(
            supervisor=staff["supervisor"],
            clerk_id=staff["clerk"].pk,
            day=DAY,
            counted=counted,
        )
    assert caught.value.code == "already_closed"
    assert DayClose.objects.count() == 1


def test_a_payment_without_its_receipt_stops_the_close(staff, takings):
    Receipt.objects.filter(payment=takings["mine"][0]).delete()
    with pytest.raises(DomainError) as caught:
        services.day_close_record(
            supervisor=staff["supervisor"],
            clerk_id=staff["clerk"].pk,
            day=DAY,
            counted={"cash": _sum(takings["mine"][:2]), "card": 0},
        )
    assert caught.value.code == "receipts_mismatch"
    assert "现金" in caught.value.message
    assert not DayClose.objects.exists()


def test_only_a_supervisor_of_the_clerks_region_closes(client, staff, takings, regions):
    other = StaffFactory(region=regions[1], role="supervisor")
    for supervisor, code in (
        (other, "clerk_region"),
        (staff["clerk"], "not_supervisor"),
    ):
        with pytest.raises(DomainError) as caught:
            services.day_close_record(
                supervisor=supervisor,
                clerk_id=staff["clerk"].pk,
                day=DAY,
                counted={"cash": 1, "card": 1},
            )
        assert caught.value.code == code
    client.force_login(other)
    response = client.post(
        reverse("staff:day_close"),
        {"day": DAY.isoformat(), "clerk": staff["clerk"].pk, "cash": "1", "card": "1"},
    )
    assert response.status_code == 400
    assert not DayClose.objects.exists()


def test_a_day_without_takings_or_in_the_future_is_not_closed(staff, takings):
    for day, code in (
        (DAY + dt.timedelta(days=1), "future"),
        (DAY - dt.timedelta(days=3), "nothing"),
    ):
        with pytest.raises(DomainError) as caught:
            services.day_close_record(
                supervisor=staff["supervisor"],
                clerk_id=staff["clerk"].pk,
                day=day,
                counted={},
            )
        assert caught.value.code == code
    assert not DayClose.objects.exists()


def test_auditors_see_day_closes_of_any_region_and_close_nothing(
    client, staff, takings
):
    client.force_login(staff["auditor"])
    page = client.get(reverse("staff:day_close"), {"region": "340100"})
    assert page.status_code == 200 and len(page.context["rows"]) == 2
    assert "确认日结" not in page.content.decode()
    response = client.post(
        reverse("staff:day_close"),
        {"day": DAY.isoformat(), "region": "340100", "clerk": staff["clerk"].pk},
    )
    assert response.status_code == 403
    assert not DayClose.objects.exists()
