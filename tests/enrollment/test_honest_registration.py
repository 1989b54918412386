"""Honest registration (SPEC §4): the portal never takes a premium that buys
no cover; the check-your-answers pages show the day cover starts beside the
amount; no page asks for payment by a date already past; a newborn within
their days is covered from the birth date even across a year end."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from core.errors import DomainError
from core.identity import make_id_number
from enrollment import selectors, services
from enrollment.models import Enrollment, EnrollmentStatus
from people.models import Person
from tests import factories

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year, month, day):
    return time_machine.travel(
        dt.datetime(year, month, day, 10, 0, tzinfo=SHANGHAI), tick=False
    )


def field_errors(response, field):
    return [str(error) for error in response.context["form"].errors.get(field, [])]


def resident_data(person, year, **extra):
    return {
        "person": str(person.pk),
        "year": str(year),
        "region": "340100",
        "category": "ordinary",
        **extra,
    }


# --- a registration whose cover would start after its year ends is refused -----------


def test_registering_in_december_for_the_current_year_is_refused_with_the_date(
    hefei, citizen
):
    """Late for 2026 on 5 December: the 3-month wait runs to 4 March 2027 and
    cover would start on 1 April 2027, after 2026 has ended, so the premium
    would buy nothing."""
    with pytest.raises(DomainError) as refused:
        services.enrollment_register_resident(
            actor=citizen,
            person=citizen.person,
            region="340100",
            year=2026,
            category="ordinary",
            today=dt.date(2026, 12, 5),
        )
    assert refused.value.code == "no_cover" and refused.value.field == "year"
    assert "2027年4月1日" in str(refused.value)
    assert "2026年12月31日" in str(refused.value)
    assert not Enrollment.objects.exists()


def test_the_december_refusal_is_beside_the_year_and_writes_nothing(
    client, hefei, citizen
):
    with at(2026, 12, 5):
        client.force_login(citizen)
        response = client.post(
            reverse("enrollment:resident"),
            resident_data(citizen.person, 2026, step="confirm"),
        )
    assert response.status_code == 400
    assert any("2027年4月1日" in error for error in field_errors(response, "year"))
    assert not Enrollment.objects.exists()


def test_next_year_in_the_december_window_is_still_open(client, hefei, citizen):
    with at(2026, 12, 5):
        client.force_login(citizen)
        response = client.post(
            reverse("enrollment:resident"), resident_data(citizen.person, 2027)
        )
    assert response.status_code == 200
    assert "今天缴费，自 2027年1月1日 起享受待遇" in response.content.decode()


def test_a_late_registration_that_still_buys_cover_says_from_when(
    client, hefei, citizen
):
    with at(2026, 8, 15):
        client.force_login(citizen)
        response = client.post(
            reverse("enrollment:resident"), resident_data(citizen.person, 2026)
        )
    page = response.content.decode()
    assert response.status_code == 200
    # Paid 15 August, 3 months' wait to 14 November: cover from 1 December.
    assert "¥420.00" in page and "今天缴费，自 2026年12月1日 起享受待遇" in page


# --- check-your-answers pages show the day cover starts beside the amount ------------


def test_the_resident_check_page_shows_cover_start_beside_the_amount(
    client, hefei, citizen
):
    with at(2026, 10, 15):
        client.force_login(citizen)
        page = client.post(
            reverse("enrollment:resident"), resident_data(citizen.person, 2027)
        ).content.decode()
    amount = page.index("¥440.00")
    assert page.index("今天缴费，自 2027年1月1日 起享受待遇") > amount
    assert page.index("今天缴费，自 2027年1月1日 起享受待遇") < page.index("待遇等待期")


def test_the_flexible_check_page_shows_when_the_first_month_covers(
    client, hefei, citizen
):
    with at(2026, 10, 15):
        client.force_login(citizen)
        page = client.post(
            reverse("enrollment:flexible"),
            {
                "person": str(citizen.person.pk),
                "year": "2026",
                "region": "340100",
                "base": "8000",
            },
        ).content.decode()
    assert "¥640.00" in page and "缴纳首月后，自 2026年11月1日 起享受待遇" in page


# --- no page asks for payment by a date already past --------------------------------


def test_the_done_page_names_the_window_end_while_it_is_to_come(client, hefei, citizen):
    with at(2026, 10, 15):
        client.force_login(citizen)
        enrollment = services.enrollment_register_resident(
            actor=citizen,
            person=citizen.person,
            region="340100",
            year=2027,
            category="ordinary",
        )
        page = client.get(
            reverse("enrollment:done", args=[enrollment.pk])
        ).content.decode()
    assert "请在 2026年12月31日 前缴纳个人缴费" in page


def test_the_done_page_of_a_late_registration_says_pay_now_not_a_past_date(
    client, hefei, citizen
):
    with at(2026, 2, 10):
        client.force_login(citizen)
        enrollment = services.enrollment_register_resident(
            actor=citizen,
            person=citizen.person,
            region="340100",
            year=2026,
            category="ordinary",
        )
        page = client.get(
            reverse("enrollment:done", args=[enrollment.pk])
        ).content.decode()
    assert "2025年12月31日" not in page
    assert "请尽快缴纳个人缴费" in page
    assert "今天缴费，自 2026年6月1日 起享受待遇" in page
    assert reverse("payments:pay", args=[enrollment.pk]) in page


def test_a_registration_that_would_now_buy_nothing_is_not_offered_for_payment(
    client, hefei, citizen
):
    enrollment = factories.EnrollmentFactory(
        person=citizen.person, year=2026, waiting_months=3
    )
    pay = reverse("payments:pay", args=[enrollment.pk])
    with at(2026, 12, 5):
        client.force_login(citizen)
        assert selectors.enrollment_cover_if_paid(enrollment=enrollment) is None
        coverage = client.get(reverse("enrollment:coverage")).content.decode()
        done = client.get(
            reverse("enrollment:done", args=[enrollment.pk])
        ).content.decode()
    assert pay not in coverage and "买不到任何保障" in coverage
    assert pay not in done and "买不到该年度的任何保障" in done
    assert "前缴纳个人缴费" not in done


# --- a newborn within their days, across a year end ----------------------------------

BIRTH = dt.date(2025, 12, 10)


@pytest.fixture
def parent_and_baby(hefei, citizen):
    number = make_id_number("340104", BIRTH, 21)
    factories.registry_person(
        name="小年",
        id_number=number,
        birth_certificate="Q341000021",
        mother_id_number=citizen.person.id_number,
    )
    return citizen, number


def newborn_data(number, year, **extra):
    return {
        "name": "小年",
        "id_number": number,
        "birth_certificate": "Q341000021",
        "relation": "child",
        "year": str(year),
        "region": "340100",
        **extra,
    }


def test_a_baby_born_in_december_registered_in_january_is_covered_from_birth(
    parent_and_baby,
):
    """Born 2025-12-10, registered 2026-01-20: the 2025 enrollment at the 2025
    amount, covered from 2025-12-10; the next year is a separate enrollment."""
    citizen, number = parent_and_baby
    with at(2026, 1, 20):
        enrollment = services.enrollment_register_newborn(
            actor=citizen,
            owner=citizen.person,
            name="小年",
            id_number=number,
            birth_certificate="Q341000021",
            region="340100",
            year=2025,
        )
        child = enrollment.person
        next_year = services.enrollment_register_resident(
            actor=citizen,
            person=child,
            region="340100",
            year=2026,
            category="ordinary",
            is_newborn=True,
        )
    assert enrollment.year == 2025 and enrollment.waiting_months == 0
    assert str(selectors.resident_premium(enrollment).personal_amount) == "400.00"
    assert str(selectors.resident_premium(next_year).personal_amount) == "420.00"
    services.enrollment_activate(
        enrollment_id=enrollment.pk, paid_on=dt.date(2026, 1, 25), reference="NB25"
    )
    services.enrollment_activate(
        enrollment_id=next_year.pk, paid_on=dt.date(2026, 1, 25), reference="NB26"
    )
    enrollment.refresh_from_db()
    next_year.refresh_from_db()
    assert (enrollment.coverage_start, enrollment.coverage_end) == (
        BIRTH,
        dt.date(2025, 12, 31),
    )
    assert (next_year.coverage_start, next_year.waiting_months) == (
        dt.date(2026, 1, 1),
        0,
    )
    assert enrollment.pk != next_year.pk
    assert next_year.status == enrollment.status == EnrollmentStatus.ACTIVE


def test_the_newborn_form_offers_the_birth_year_while_the_baby_is_in_time(
    client, parent_and_baby
):
    citizen, number = parent_and_baby
    with at(2026, 1, 20):
        client.force_login(citizen)
        form_page = client.get(reverse("enrollment:newborn"))
        check = client.post(reverse("enrollment:newborn"), newborn_data(number, 2025))
    assert 2025 in [
        year for year, _label in form_page.context["form"].fields["year"].choices
    ]
    page = check.content.decode()
    assert check.status_code == 200 and "¥400.00" in page
    assert "今天缴费，自 2025年12月10日 起享受待遇" in page
    assert "须在 2026年3月10日 前缴费" in page
    assert not Person.objects.filter(id_number=number).exists()


def test_the_newborn_done_page_names_the_newborn_deadline_not_a_past_window(
    client, parent_and_baby
):
    citizen, number = parent_and_baby
    with at(2026, 1, 20):
        client.force_login(citizen)
        response = client.post(
            reverse("enrollment:newborn"), newborn_data(number, 2025, step="confirm")
        )
        assert response.status_code == 302
        page = client.get(response.url).content.decode()
    assert "请在 2026年3月10日 前缴纳个人缴费" in page
    assert "2024年12月31日" not in page and "2025年12月31日" not in page


def test_the_birth_year_is_closed_once_the_baby_is_past_their_days(
    client, parent_and_baby
):
    citizen, number = parent_and_baby
    with at(2026, 3, 20):  # 100 days after birth
        client.force_login(citizen)
        response = client.post(
            reverse("enrollment:newborn"), newborn_data(number, 2025, step="confirm")
        )
    assert response.status_code == 400 and field_errors(response, "year")
    with at(2026, 4, 5):  # no baby born in 2025 is within 90 days any more
        client.force_login(citizen)
        form_page = client.get(reverse("enrollment:newborn"))
    assert 2025 not in [
        year for year, _label in form_page.context["form"].fields["year"].choices
    ]
    assert not Enrollment.objects.exists()


def test_a_newborn_in_time_has_no_wait_on_the_birth_year_even_after_it_ended(
    parent_and_baby,
):
    citizen, number = parent_and_baby
    child = Person.objects.create(
        id_number=number, name="小年", sex="F", birth_date=BIRTH
    )
    plan = services.resident_plan(
        person=child,
        region="340100",
        year=2025,
        category="ordinary",
        is_newborn=True,
        today=dt.date(2026, 3, 9),
    )
    assert plan.waiting.months == 0 and plan.cover_from == BIRTH
    assert plan.newborn_until == dt.date(2026, 3, 10)
