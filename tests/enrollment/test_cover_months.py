"""Cover as months (SPEC §4–5, 月缴月享): each case of the rules, one by one,
then the coverage selector and page that show them as a strip of 12 months."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enrollment import rules, selectors, services
from enrollment.rules import CoverState as S
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")


def m(year: int, month: int) -> int:
    return rules.month_index(dt.date(year, month, 1))


def months_of(year: int) -> range:
    return range(m(year, 1), m(year, 12) + 1)


def cover(paid, *, current, months=None, backpay_max=3, gap_wait=6, **extra):
    """`paid`: {(year, month): (year, month) paid in, or None for in time}."""
    return rules.flexible_cover(
        paid={
            m(*month): (m(*paid_in) if paid_in else None)
            for month, paid_in in paid.items()
        },
        months=months or months_of(2026),
        current=current,
        backpay_max=backpay_max,
        gap_wait=gap_wait,
        **extra,
    )


def states(result, year=2026):
    return [result.get(m(year, month)) for month in range(1, 13)]


# --- flexible workers: the rules, case by case -------------------------------------


def test_a_paid_month_covers_the_following_month_not_itself():
    result = cover({(2026, 1): None}, current=m(2026, 1))
    assert result[m(2026, 1)] == S.NONE
    assert result[m(2026, 2)] == S.COVERED
    # February's cover needs January's payment; January's needs December's.
    assert result[m(2026, 3)] == S.UNPAID


def test_jan_paid_feb_to_may_unpaid_june_paid_covers_february_only_then_waits():
    """The case that showed 2026-02-01..07-31 as covered: a gap of 4 months
    (> 3) is not covered and the months paid after it wait (policy: 6)."""
    result = cover({(2026, 1): None, (2026, 6): None}, current=m(2026, 6))
    assert states(result) == [
        S.NONE,  # January: nothing paid for it
        S.COVERED,  # February: January paid
        S.GAP,  # March–June: February–May not paid
        S.GAP,
        S.GAP,
        S.GAP,
        S.WAITING,  # July: June paid, but after a gap of 4 months
        S.UNPAID,  # August onwards: July may still be paid
        S.UNPAID,
        S.UNPAID,
        S.UNPAID,
        S.UNPAID,
    ]


def test_after_a_long_gap_cover_returns_only_when_the_wait_is_over():
    paid = {(2026, 1): None, **{(2026, month): None for month in range(6, 13)}}
    result = cover(paid, current=m(2026, 12), months=range(m(2026, 2), m(2027, 2)))
    assert [result[m(2026, month)] for month in range(7, 13)] == [S.WAITING] * 6
    assert result[m(2027, 1)] == S.COVERED  # December paid, the 6 months waited


def test_the_waiting_period_after_a_long_gap_is_the_policys():
    result = cover(
        {(2026, 1): None, (2026, 6): None, (2026, 7): None, (2026, 8): None},
        current=m(2026, 8),
        gap_wait=1,
    )
    assert [result[m(2026, month)] for month in (7, 8, 9)] == [
        S.WAITING,
        S.COVERED,
        S.COVERED,
    ]


def test_a_gap_of_up_to_three_months_not_yet_back_paid_is_a_gap():
    result = cover({(2026, 1): None}, current=m(2026, 4))
    assert [result[m(2026, month)] for month in (2, 3, 4, 5)] == [
        S.COVERED,
        S.GAP,  # February not paid, and February is over
        S.GAP,
        S.UNPAID,  # April can still be paid this month
    ]


def test_a_gap_of_three_months_back_paid_is_restored_retroactively():
    paid = {
        (2026, 1): None,
        (2026, 2): (2026, 5),  # 补缴 in May, three months after
        (2026, 3): (2026, 5),
        (2026, 4): (2026, 5),
        (2026, 5): (2026, 5),
    }
    result = cover(paid, current=m(2026, 5))
    assert [result[m(2026, month)] for month in range(2, 7)] == [S.COVERED] * 5


def test_a_month_paid_more_than_three_months_late_restores_no_cover():
    paid = {(2026, 1): None, (2026, 2): (2026, 7), (2026, 7): None}
    result = cover(paid, current=m(2026, 7))
    assert result[m(2026, 3)] == S.GAP  # February paid in July: too late to cover
    assert result[m(2026, 8)] == S.WAITING  # the gap Feb–Jun was longer than 3


def test_a_wait_decided_at_registration_runs_from_the_first_paid_month():
    paid = {(2026, month): None for month in range(3, 9)}
    result = cover(paid, current=m(2026, 8), first_own=m(2026, 3), registration_wait=3)
    assert [result[m(2026, month)] for month in range(3, 10)] == [
        S.NONE,
        S.WAITING,
        S.WAITING,
        S.WAITING,
        S.COVERED,
        S.COVERED,
        S.COVERED,
    ]


def test_a_suspended_enrollment_keeps_its_paid_months_and_is_suspended_after():
    paid = {(2026, month): None for month in range(1, 5)}
    result = cover(paid, current=m(2026, 8), stopped=S.SUSPENDED)
    assert [result[m(2026, month)] for month in range(2, 8)] == [
        S.COVERED,
        S.COVERED,
        S.COVERED,
        S.COVERED,
        S.SUSPENDED,
        S.SUSPENDED,
    ]


def test_months_before_the_first_payment_are_not_enrolled_or_still_payable():
    result = cover({}, current=m(2026, 10))
    assert result[m(2026, 10)] == S.NONE  # September is over, never paid
    assert result[m(2026, 11)] == S.UNPAID  # October can be paid now


def test_resuming_after_three_missed_months_can_back_pay_but_four_wait():
    assert rules.flexible_resume_outlook(
        last_paid=m(2026, 1), current=m(2026, 5), backpay_max=3, gap_wait=6
    ) == (3, 0)
    assert rules.flexible_resume_outlook(
        last_paid=m(2026, 1), current=m(2026, 6), backpay_max=3, gap_wait=6
    ) == (4, 6)


# --- residents' years as months ------------------------------------------------------

YEAR_2026 = {"benefit_start": dt.date(2026, 1, 1), "benefit_end": dt.date(2026, 12, 31)}


def test_a_resident_year_paid_in_the_window_is_covered_every_month():
    result = rules.resident_cover(
        **YEAR_2026,
        coverage_start=dt.date(2026, 1, 1),
        coverage_end=dt.date(2026, 12, 31),
        wait_from=None,
    )
    assert states(result) == [S.COVERED] * 12


def test_a_late_resident_payment_waits_three_months_then_covers():
    """Paid 10 April with a 3-month wait: cover from 1 August (SPEC §4)."""
    result = rules.resident_cover(
        **YEAR_2026,
        coverage_start=dt.date(2026, 8, 1),
        coverage_end=dt.date(2026, 12, 31),
        wait_from=dt.date(2026, 4, 10),
    )
    assert states(result) == [S.NONE] * 3 + [S.WAITING] * 4 + [S.COVERED] * 5


def test_a_newborn_is_covered_from_the_birth_month():
    result = rules.resident_cover(
        benefit_start=dt.date(2025, 1, 1),
        benefit_end=dt.date(2025, 12, 31),
        coverage_start=dt.date(2025, 12, 10),
        coverage_end=dt.date(2025, 12, 31),
        wait_from=None,
    )
    assert states(result, 2025) == [S.NONE] * 11 + [S.COVERED]


def test_an_unpaid_resident_year_is_unpaid_from_the_month_a_payment_would_cover():
    result = rules.resident_cover_unpaid(**YEAR_2026, unpaid_from=dt.date(2026, 5, 1))
    assert states(result) == [S.NONE] * 4 + [S.UNPAID] * 8
    nothing = rules.resident_cover_unpaid(**YEAR_2026, unpaid_from=None)
    assert states(nothing) == [S.NONE] * 12


def test_when_two_enrollments_name_a_month_the_better_state_wins():
    merged = rules.cover_merge(
        {m(2027, 1): S.UNPAID, m(2027, 2): S.GAP},
        {m(2027, 1): S.COVERED, m(2027, 2): S.NONE},
    )
    assert merged == {m(2027, 1): S.COVERED, m(2027, 2): S.GAP}


def test_strips_have_twelve_labelled_months_newest_year_first():
    strips = rules.cover_strips({m(2026, 2): S.COVERED}, [2025, 2026])
    assert [strip.year for strip in strips] == [2026, 2025]
    assert len(strips[0].cells) == 12 and strips[0].covered == 1
    assert strips[0].cells[1].label == "享受待遇"
    assert strips[0].cells[0].label == "未参保"


def test_months_contributed_count_a_prepaid_year_only_once_it_has_come():
    def counted(today):
        return rules.months_contributed(
            months=12, first_month=dt.date(2027, 1, 1), today=today
        )

    assert counted(dt.date(2026, 10, 15)) == 0
    assert counted(dt.date(2027, 3, 1)) == 3
    assert counted(dt.date(2028, 1, 1)) == 12
    assert rules.months_contributed(months=30, first_month=None, today=dt.date.today())


# --- the selector and the page --------------------------------------------------------


def _pay(enrollment, period, day):
    services.enrollment_flexible_month_paid(
        enrollment_id=enrollment.pk,
        period=period,
        paid_on=day,
        reference=f"T-{enrollment.pk}-{period}",
    )


@pytest.fixture
def flexible_worker(db, hefei, citizen):
    enrollment = services.enrollment_register_flexible(
        actor=citizen,
        person=citizen.person,
        region="340100",
        year=2026,
        base="8000",
        today=dt.date(2026, 1, 5),
    )
    _pay(enrollment, "2026-01", dt.date(2026, 1, 10))
    _pay(enrollment, "2026-06", dt.date(2026, 6, 10))
    return enrollment


def test_paid_months_are_recorded_once_per_month(flexible_worker):
    _pay(flexible_worker, "2026-06", dt.date(2026, 6, 11))
    assert [row.month for row in flexible_worker.paid_months.all()] == [
        dt.date(2026, 1, 1),
        dt.date(2026, 6, 1),
    ]


def test_the_coverage_selector_derives_months_from_the_paid_months(
    flexible_worker, citizen
):
    rows = selectors.coverage_for_user(citizen, today=dt.date(2026, 6, 15))
    strip = rows[0].strips[0]
    assert strip.year == 2026
    assert [cell.state for cell in strip.cells[:8]] == [
        S.NONE,
        S.COVERED,
        S.GAP,
        S.GAP,
        S.GAP,
        S.GAP,
        S.WAITING,
        S.UNPAID,
    ]


def test_the_coverage_page_shows_each_month_in_words(client, flexible_worker, citizen):
    client.force_login(citizen)
    with time_machine.travel(dt.datetime(2026, 6, 15, 10, tzinfo=SHANGHAI), tick=False):
        page = client.get(reverse("enrollment:coverage")).content.decode()
    assert page.count('data-state="') == 12
    for word in ("享受待遇", "断缴", "等待期", "未缴费"):
        assert f'<span class="d-block">{word}</span>' in page
    assert "2026年每月待遇：享受待遇 1 个月" in page


@pytest.mark.django_db
def test_the_coverage_page_hides_the_benefit_period_of_a_cancelled_registration(
    client, hefei, citizen
):
    enrollment = factories.EnrollmentFactory(person=citizen.person, year=2027)
    services.enrollment_cancel(actor=citizen, enrollment_id=enrollment.pk)
    client.force_login(citizen)
    with time_machine.travel(dt.datetime(2026, 10, 15, 10, tzinfo=SHANGHAI)):
        page = client.get(reverse("enrollment:coverage")).content.decode()
    assert "已撤销" in page
    assert "2027-01-01 – 2027-12-31" not in page and "待遇期" not in page
    assert "2027年每月待遇" not in page


@pytest.mark.django_db
def test_months_contributed_leave_out_a_prepaid_year_and_split_by_scheme(hefei):
    user = factories.UserFactory()
    person = user.person
    flexible = factories.EnrollmentFactory(
        person=person,
        year=2025,
        scheme="flexible",
        category="",
        contribution_base="8000",
    )
    for month in range(1, 7):
        _pay(flexible, f"2025-{month:02d}", dt.date(2025, month, 10))
    for year, paid_on in ((2026, dt.date(2025, 11, 1)), (2027, dt.date(2026, 10, 1))):
        registered = factories.EnrollmentFactory(person=person, year=year)
        services.enrollment_activate(
            enrollment_id=registered.pk, paid_on=paid_on, reference=f"R{year}"
        )
    rows = selectors.coverage_for_user(user, today=dt.date(2026, 10, 15))
    row = rows[0]
    # 2027 is paid but has not come; 2026 counts January to October.
    assert (row.months_resident, row.months_employee) == (10, 6)
    assert row.months_actual == 16 and row.months_mixed


def test_months_moved_by_a_transfer_count_and_are_named_apart(client, hefei, citizen):
    services.months_add(
        person_id=citizen.person.pk,
        region_code="340100",
        kind="actual",
        months=5,
        reference="resident-months",
        scheme="resident",
    )
    services.months_add(
        person_id=citizen.person.pk,
        region_code="340100",
        kind="actual",
        months=7,
        reference="flexible-months",
        scheme="flexible",
    )
    services.months_add(
        person_id=citizen.person.pk,
        region_code="340100",
        kind="actual",
        months=4,
        reference="transfer:1:in:actual",
    )
    client.force_login(citizen)
    page = client.get(reverse("enrollment:coverage")).content.decode()
    assert "实际缴费 16 个月" in page
    assert "其中居民医保 5 个月，职工医保（含灵活就业）7 个月，转移接续 4 个月" in page


def _flexible_family(size):
    factories.policy("340100", 2026)
    user = factories.UserFactory()
    members = [user.person]
    for _ in range(size - 1):
        relative = factories.PersonFactory()
        factories.family_link(user.person, relative)
        members.append(relative)
    for person in members:
        enrollment = factories.EnrollmentFactory(
            person=person,
            year=2026,
            scheme="flexible",
            category="",
            contribution_base="8000",
        )
        for month in (1, 2, 6):
            _pay(enrollment, f"2026-{month:02d}", dt.date(2026, month, 10))
    return user


@pytest.mark.django_db
def test_coverage_page_queries_do_not_grow_with_a_family_of_flexible_workers(client):
    counts = []
    for size in (1, 10):
        user = _flexible_family(size)
        client.force_login(user)
        url = reverse("enrollment:coverage")
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
        client.logout()
    assert counts[0] == counts[1] <= 12


def test_months_moved_out_and_not_yet_received_are_said_to_be_in_transit(
    client, hefei, citizen
):
    for reference, months, scheme in (
        ("resident-months", 24, "resident"),
        ("transfer:1:out:actual", -24, ""),
    ):
        services.months_add(
            person_id=citizen.person.pk,
            region_code="340100",
            kind="actual",
            months=months,
            reference=reference,
            scheme=scheme,
        )
    client.force_login(citizen)
    page = client.get(reverse("enrollment:coverage")).content.decode()
    assert "实际缴费 0 个月" in page
    assert "另有 24 个月正在转移接续中" in page
