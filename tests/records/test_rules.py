"""The pure parts: destinations, contribution months per region (the same
figures as enrollment's own selector), the contribution-years requirement
and what remains, and months shown as years and months."""

import pytest

from enrollment.selectors import months_totals
from records import selectors
from records.destinations import destination_get, destinations
from records.documents import months_text
from records.models import LifetimeRequirement
from tests import factories

from .conftest import BEIJING, FUZHOU, HEFEI, QINGDAO, months

pytestmark = pytest.mark.django_db


def test_destinations_are_provinces_and_pooling_cities_each_once(regions):
    found = {d.code: d for d in destinations()}
    assert found[BEIJING].region == regions[BEIJING]  # a municipality, once
    assert found["370000"].name == "山东省" and found["370000"].region is None
    assert found[QINGDAO].name == "山东省青岛市"
    assert "810000" not in found and "710000" not in found
    assert len(found) == 31 + 3  # provinces, and 合肥, 青岛, 福州


@pytest.mark.parametrize(
    ("destination", "region", "inside"),
    [
        ("340000", HEFEI, True),
        (HEFEI, HEFEI, True),
        ("370000", QINGDAO, True),
        (QINGDAO, HEFEI, False),
        ("370000", HEFEI, False),
        (BEIJING, BEIJING, True),
    ],
)
def test_a_destination_contains_a_region(regions, destination, region, inside):
    assert destination_get(destination).contains(region) is inside


@pytest.mark.parametrize("code", ["", "12345", "1234567", "34010x", "340200", "810000"])
def test_unknown_destinations(regions, code):
    assert destination_get(code) is None


def test_months_by_region_match_enrollment_months_totals(regions):
    person = factories.PersonFactory()
    months(person, region=HEFEI, actual=30, deemed=6)
    months(person, region=BEIJING, actual=12)
    months(person, region=FUZHOU, deemed=4)
    lines = selectors.months_by_region(person_id=person.pk)
    assert [line.region_code for line in lines] == [BEIJING, HEFEI, FUZHOU]
    for line in lines:
        totals = months_totals(person_id=person.pk, region_code=line.region_code)
        assert (line.actual, line.deemed) == (totals["actual"], totals["deemed"])


def test_months_moved_away_by_a_transfer_leave_no_line(regions):
    person = factories.PersonFactory()
    months(person, region=HEFEI, actual=12)
    months(person, region=HEFEI, actual=-12, tag="out")
    months(person, region=BEIJING, actual=12, tag="in")
    assert [
        line.region_code for line in selectors.months_by_region(person_id=person.pk)
    ] == [BEIJING]


def test_women_need_twenty_years_and_the_region_may_set_its_own(regions):
    person = factories.PersonFactory(sex="F", region=regions[QINGDAO])
    months(person, region=QINGDAO, actual=200, deemed=40)
    view = selectors.contribution_years(person=person)
    assert (view.required_total, view.remaining_total) == (240, 0)
    assert view.met
    LifetimeRequirement.objects.create(
        region=regions[QINGDAO],
        men_months=360,
        women_months=300,
        local_actual_months=180,
    )
    view = selectors.contribution_years(person=person)
    assert (view.required_total, view.remaining_total) == (300, 60)
    assert view.remaining_local_actual == 0
    assert not view.met


def test_months_paid_elsewhere_count_in_total_but_not_as_local(regions):
    person = factories.PersonFactory(sex="M", region=regions[HEFEI])
    months(person, region=BEIJING, actual=290)
    months(person, region=HEFEI, actual=10)
    view = selectors.contribution_years(person=person)
    assert view.remaining_total == 0
    assert (view.local_actual, view.remaining_local_actual) == (10, 110)


def test_without_a_region_there_is_no_requirement(db):
    person = factories.PersonFactory(region=None)
    view = selectors.contribution_years(person=person)
    assert view.region is None and not view.met


def test_the_region_is_taken_from_the_newest_enrollment_when_none_is_on_record(
    regions,
):
    from .conftest import covered

    person = factories.PersonFactory(region=None)
    covered(person, region=FUZHOU)
    assert selectors.contribution_years(person=person).region == regions[FUZHOU]


@pytest.mark.parametrize(
    ("months_", "text"),
    [(0, "0个月"), (4, "4个月"), (12, "1年"), (40, "3年4个月"), (-3, "0个月")],
)
def test_months_as_years_and_months(months_, text):
    assert months_text(months_) == text
