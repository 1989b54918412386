"""enrollment.services: registration rules of SPEC §4–5, cancellation,
category verification and repair of gap years."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from core.errors import DomainError
from enrollment import services
from enrollment.models import (
    Category,
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    Policy,
    Scheme,
    Verification,
    WaitingRepair,
)
from enrollment.selectors import resident_premium
from people.models import Notification, Role
from tests import factories

from .conftest import IN_WINDOW_2026, IN_WINDOW_2027, active_enrollment

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def register(
    person,
    year=2027,
    today=IN_WINDOW_2027,
    category="ordinary",
    region="340100",
    **kwargs,
):
    return services.enrollment_register_resident(
        actor=None,
        person=person,
        region=region,
        year=year,
        category=category,
        today=today,
        **kwargs,
    )


# --- waiting periods (SPEC §4, 国办发〔2024〕38号) --------------------------------


def test_first_enrollment_inside_the_window_has_no_wait(hefei):
    enrollment = register(factories.PersonFactory())
    assert enrollment.status == EnrollmentStatus.REGISTERED
    assert (enrollment.waiting_months, enrollment.gap_years) == (0, 0)


def test_continuous_enrollment_inside_the_window_has_no_wait(hefei):
    person = factories.PersonFactory()
    active_enrollment(person, 2026)
    enrollment = register(person)
    assert (enrollment.waiting_months, enrollment.gap_years) == (0, 0)


def test_late_enrollment_for_the_current_year_has_the_fixed_three_months(hefei):
    enrollment = register(
        factories.PersonFactory(), year=2026, today=dt.date(2026, 3, 10)
    )
    assert enrollment.waiting_months == 3
    assert "3" in enrollment.waiting_reason


@pytest.mark.parametrize(
    ("last_covered", "gap", "months"), [(2025, 1, 4), (2024, 2, 5), (2023, 3, 6)]
)
def test_each_gap_year_adds_one_month_to_the_fixed_three(
    hefei, last_covered, gap, months
):
    person = factories.PersonFactory()
    active_enrollment(person, last_covered)
    enrollment = register(person)
    assert (enrollment.gap_years, enrollment.waiting_months) == (gap, months)


def test_a_gap_of_four_years_or_more_waits_at_least_six_months_even_after_repair(hefei):
    person = factories.PersonFactory()
    active_enrollment(person, 2021)  # 2022..2026 uncovered: gap of 5 years
    enrollment = register(person)
    assert (enrollment.gap_years, enrollment.waiting_months) == (5, 8)
    repaired = services.enrollment_repair_years(
        enrollment_id=enrollment.pk, years=5, reference="R-1"
    )
    assert repaired.repaired_years == 5
    assert (
        repaired.waiting_months == 6
    )  # 3 + 0 added, but never below 6 after a long gap


def test_each_repaired_year_removes_one_added_month(hefei):
    person = factories.PersonFactory()
    active_enrollment(person, 2024)  # gap 2 → 5 months
    enrollment = register(person)
    enrollment = services.enrollment_repair_years(
        enrollment_id=enrollment.pk, years=1, reference="R-A"
    )
    assert (enrollment.repaired_years, enrollment.waiting_months) == (1, 4)
    enrollment = services.enrollment_repair_years(
        enrollment_id=enrollment.pk, years=1, reference="R-B"
    )
    assert (enrollment.repaired_years, enrollment.waiting_months) == (2, 3)


def test_repair_is_idempotent_per_reference(hefei):
    person = factories.PersonFactory()
    active_enrollment(person, 2024)
    enrollment = register(person)
    services.enrollment_repair_years(
        enrollment_id=enrollment.pk, years=1, reference="R-same"
    )
    again = services.enrollment_repair_years(
        enrollment_id=enrollment.pk, years=1, reference="R-same"
    )
    assert again.repaired_years == 1 and again.waiting_months == 4
    assert WaitingRepair.objects.filter(reference="R-same").count() == 1


def test_repair_never_counts_more_years_than_the_gap(hefei):
    person = factories.PersonFactory()
    active_enrollment(person, 2025)  # gap 1
    enrollment = register(person)
    enrollment = services.enrollment_repair_years(
        enrollment_id=enrollment.pk, years=3, reference="R-big"
    )
    assert (enrollment.repaired_years, enrollment.waiting_months) == (1, 3)


def test_repair_without_a_gap_is_refused(hefei):
    enrollment = register(factories.PersonFactory())
    with pytest.raises(DomainError) as info:
        services.enrollment_repair_years(
            enrollment_id=enrollment.pk, years=1, reference="R-none"
        )
    assert info.value.code == "nothing_to_repair"


def test_repair_of_an_active_enrollment_moves_coverage_start_earlier(hefei):
    person = factories.PersonFactory()
    active_enrollment(person, 2024)  # 2025 uncovered: gap 1 → 4 months
    with time_machine.travel(dt.datetime(2026, 2, 10, 10, 0, tzinfo=SHANGHAI)):
        enrollment = register(person, year=2026, today=dt.date(2026, 2, 10))
        services.enrollment_activate(
            enrollment_id=enrollment.pk, paid_on=dt.date(2026, 2, 10), reference="P-1"
        )
    enrollment.refresh_from_db()
    before = enrollment.coverage_start
    enrollment = services.enrollment_repair_years(
        enrollment_id=enrollment.pk, years=1, reference="R-act"
    )
    assert enrollment.waiting_months == 3
    # Paid 2026-02-10: 4 months → from 2026-07-01; repaired, 3 months → from 2026-06-01.
    assert (before, enrollment.coverage_start) == (
        dt.date(2026, 7, 1),
        dt.date(2026, 6, 1),
    )


def test_newborn_within_ninety_days_is_covered_from_birth(hefei):
    birth = dt.date(2026, 1, 15)
    child = factories.PersonFactory(birth_date=birth)
    enrollment = register(child, year=2026, today=dt.date(2026, 3, 1), is_newborn=True)
    assert enrollment.waiting_months == 0 and enrollment.is_newborn
    services.enrollment_activate(
        enrollment_id=enrollment.pk, paid_on=dt.date(2026, 3, 2), reference="P-nb"
    )
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE
    assert enrollment.coverage_start == birth


def test_newborn_after_ninety_days_is_a_late_enrollment_with_a_wait(hefei):
    birth = dt.date(2025, 11, 1)
    child = factories.PersonFactory(birth_date=birth)
    enrollment = register(child, year=2026, today=dt.date(2026, 3, 1), is_newborn=True)
    assert enrollment.waiting_months == 3
    services.enrollment_activate(
        enrollment_id=enrollment.pk, paid_on=dt.date(2026, 3, 2), reference="P-nb2"
    )
    enrollment.refresh_from_db()
    assert enrollment.coverage_start == dt.date(2026, 7, 1)


def test_newborn_registered_in_time_but_paid_after_ninety_days_waits(hefei):
    birth = dt.date(2026, 1, 15)
    child = factories.PersonFactory(birth_date=birth)
    enrollment = register(child, year=2026, today=dt.date(2026, 2, 1), is_newborn=True)
    services.enrollment_activate(
        enrollment_id=enrollment.pk, paid_on=dt.date(2026, 5, 20), reference="P-nb3"
    )
    enrollment.refresh_from_db()
    assert enrollment.waiting_months == 3
    assert enrollment.coverage_start == dt.date(2026, 9, 1)


def test_exempt_category_has_no_wait_even_after_a_gap(hefei):
    person = factories.PersonFactory()
    active_enrollment(person, 2023)
    enrollment = register(person, category=Category.TEKUN)
    assert enrollment.waiting_months == 0


# --- window, eligibility, one enrollment per year -------------------------------


def test_registration_outside_the_window_for_next_year_is_refused(hefei):
    with pytest.raises(DomainError) as info:
        register(factories.PersonFactory(), year=2027, today=dt.date(2026, 8, 31))
    assert (info.value.code, info.value.field) == ("outside_window", "year")
    assert not Enrollment.objects.exists()


def test_registration_for_a_past_year_is_refused(hefei):
    with pytest.raises(DomainError) as info:
        register(factories.PersonFactory(), year=2025, today=dt.date(2026, 10, 1))
    assert info.value.code == "outside_window"


def test_registration_without_a_policy_is_refused(hefei):
    with pytest.raises(DomainError) as info:
        register(factories.PersonFactory(), year=2030)
    assert info.value.code == "no_policy"


def test_second_enrollment_in_the_same_year_in_another_region_is_refused(
    hefei, beijing
):
    person = factories.PersonFactory()
    register(person)
    with pytest.raises(DomainError) as info:
        register(person, region="110000")
    assert info.value.code == "already_enrolled"
    assert Enrollment.objects.filter(person=person).count() == 1


def test_database_constraint_refusal_becomes_a_domain_error(hefei):
    person = factories.PersonFactory()
    first = register(person)
    with pytest.raises(DomainError) as info:
        services._create_enrollment(
            person=person,
            region_id="340100",
            scheme=Scheme.RESIDENT,
            year=first.year,
            category="ordinary",
        )
    assert info.value.code == "already_enrolled"


def test_a_person_with_employee_insurance_that_year_cannot_enroll_as_resident(hefei):
    person = factories.PersonFactory()
    factories.EnrollmentFactory(
        person=person,
        year=2027,
        scheme=Scheme.EMPLOYEE,
        category="",
        status=EnrollmentStatus.ACTIVE,
    )
    with pytest.raises(DomainError) as info:
        register(person)
    assert info.value.code == "employee_insured"


def test_a_cancelled_registration_frees_the_year(hefei, citizen):
    enrollment = register(citizen.person)
    services.enrollment_cancel(actor=citizen, enrollment_id=enrollment.pk)
    again = register(citizen.person)
    assert again.pk != enrollment.pk


def test_registration_sets_the_person_region_and_writes_an_event(hefei, citizen):
    enrollment = services.enrollment_register_resident(
        actor=citizen,
        person=citizen.person,
        region=hefei,
        year=2027,
        category="ordinary",
        today=IN_WINDOW_2027,
    )
    citizen.person.refresh_from_db()
    assert citizen.person.region_id == "340100"
    event = EnrollmentEvent.objects.get(enrollment=enrollment)
    assert (event.from_status, event.to_status, event.actor_id) == (
        "",
        "registered",
        citizen.pk,
    )
    assert enrollment.registered_by_id == citizen.pk


def test_a_region_already_set_is_kept(hefei, beijing):
    person = factories.PersonFactory(region=beijing)
    register(person, region="340100")
    person.refresh_from_db()
    assert person.region_id == "110000"


# --- reduced categories ---------------------------------------------------------


def test_reduced_category_waits_for_verification_and_is_priced_ordinary_until_then(
    hefei,
):
    enrollment = register(factories.PersonFactory(), category=Category.DIBAO)
    assert enrollment.verification == Verification.PENDING
    premium = resident_premium(enrollment)
    ordinary = Policy.objects.get(region_id="340100", year=2027).categories.get(
        category="ordinary"
    )
    assert (
        premium.personal_amount == ordinary.personal_amount
        and premium.verification_pending
    )


def test_approved_category_gets_the_reduced_amount_and_the_citizen_is_told(hefei):
    user = factories.UserFactory()
    enrollment = register(user.person, category=Category.DIBAO)
    clerk = factories.StaffFactory(role=Role.CLERK)
    services.enrollment_verify_category(
        actor=clerk, enrollment_id=enrollment.pk, approve=True
    )
    enrollment.refresh_from_db()
    assert enrollment.verification == Verification.APPROVED
    assert resident_premium(enrollment).personal_amount == Decimal("40.00")
    assert Notification.objects.filter(
        person=user.person, subject__contains="审核通过"
    ).exists()


def test_rejected_category_falls_back_to_ordinary(hefei):
    person = factories.PersonFactory()
    active_enrollment(person, 2024)  # a gap: the exempt category had no wait
    enrollment = register(person, category=Category.DIBAO)
    assert enrollment.waiting_months == 0
    clerk = factories.StaffFactory(role=Role.SUPERVISOR)
    services.enrollment_verify_category(
        actor=clerk, enrollment_id=enrollment.pk, approve=False, note="材料不全"
    )
    enrollment.refresh_from_db()
    assert (enrollment.category, enrollment.verification) == (
        Category.ORDINARY,
        Verification.REJECTED,
    )
    assert enrollment.waiting_months == 5  # no longer exempt: 3 + 2 gap years
    assert resident_premium(enrollment).personal_amount == Decimal("440.00")
    assert Notification.objects.filter(
        person=person, subject__contains="未通过"
    ).exists()


@pytest.mark.parametrize("who", ["other_region_clerk", "auditor", "citizen"])
def test_only_staff_of_the_enrollment_region_may_verify(hefei, beijing, who):
    enrollment = register(factories.PersonFactory(), category=Category.DIBAO)
    actor = {
        "other_region_clerk": lambda: factories.StaffFactory(region=beijing),
        "auditor": lambda: factories.StaffFactory(role=Role.AUDITOR, region=None),
        "citizen": factories.UserFactory,
    }[who]()
    with pytest.raises(DomainError) as info:
        services.enrollment_verify_category(
            actor=actor, enrollment_id=enrollment.pk, approve=True
        )
    assert info.value.code == "forbidden"
    enrollment.refresh_from_db()
    assert enrollment.verification == Verification.PENDING


def test_verifying_twice_is_refused(hefei):
    enrollment = register(factories.PersonFactory(), category=Category.DIBAO)
    clerk = factories.StaffFactory()
    services.enrollment_verify_category(
        actor=clerk, enrollment_id=enrollment.pk, approve=True
    )
    with pytest.raises(DomainError):
        services.enrollment_verify_category(
            actor=clerk, enrollment_id=enrollment.pk, approve=False
        )


# --- cancellation ---------------------------------------------------------------


def test_citizen_cancels_an_unpaid_registration_with_an_event(hefei, citizen):
    enrollment = register(citizen.person)
    services.enrollment_cancel(actor=citizen, enrollment_id=enrollment.pk)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.CANCELLED
    assert enrollment.events.filter(to_status="cancelled", actor=citizen).exists()


def test_a_paid_registration_cannot_be_cancelled(hefei, citizen):
    enrollment = register(citizen.person)
    services.enrollment_activate(
        enrollment_id=enrollment.pk, paid_on=IN_WINDOW_2027, reference="P-c"
    )
    with pytest.raises(DomainError) as info:
        services.enrollment_cancel(actor=citizen, enrollment_id=enrollment.pk)
    assert info.value.code == "not_cancellable"


def test_someone_else_cannot_cancel(hefei, citizen):
    enrollment = register(citizen.person)
    with pytest.raises(DomainError) as info:
        services.enrollment_cancel(
            actor=factories.UserFactory(), enrollment_id=enrollment.pk
        )
    assert info.value.code == "forbidden"
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.REGISTERED


def test_a_family_member_registration_can_be_cancelled_by_the_owner(hefei, citizen):
    child = factories.PersonFactory()
    factories.family_link(citizen.person, child)
    enrollment = register(child)
    services.enrollment_cancel(actor=citizen, enrollment_id=enrollment.pk)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.CANCELLED


# --- newborn --------------------------------------------------------------------


def test_newborn_registration_adds_the_child_to_the_family(hefei, citizen):
    from core.identity import make_id_number

    number = make_id_number("340104", dt.date(2026, 9, 20), 12)
    factories.registry_person(
        name="小明",
        id_number=number,
        birth_certificate="Q340123456",
        mother_id_number=citizen.person.id_number,
    )
    enrollment = services.enrollment_register_newborn(
        actor=citizen,
        owner=citizen.person,
        name="小明",
        id_number=number,
        birth_certificate="q340123456",
        region="340100",
        year=2027,
        today=IN_WINDOW_2027,
    )
    assert (
        enrollment.person.birth_date == dt.date(2026, 9, 20) and enrollment.is_newborn
    )
    link = citizen.person.family_links.get(relative=enrollment.person, relation="child")
    # The guardian's authority, proven by the birth certificate, ends at 18.
    assert (link.status, link.basis) == ("granted", "birth_certificate")
    assert link.ends_on == dt.date(2044, 9, 20)


def test_newborn_of_someone_else_is_refused_and_writes_nothing(hefei, citizen):
    from core.identity import make_id_number
    from people.models import FamilyLink, Person

    number = make_id_number("340104", dt.date(2026, 9, 21), 16)
    factories.registry_person(
        name="小亮",
        id_number=number,
        birth_certificate="Q340999999",
        mother_id_number=make_id_number("340104", dt.date(1992, 1, 1), 22),
    )
    with pytest.raises(DomainError) as refused:
        services.enrollment_register_newborn(
            actor=citizen,
            owner=citizen.person,
            name="小亮",
            id_number=number,
            birth_certificate="Q340999999",
            region="340100",
            year=2027,
            today=IN_WINDOW_2027,
        )
    assert refused.value.field == "birth_certificate"
    assert not FamilyLink.objects.exists()
    assert not Person.objects.filter(id_number=number).exists()


def test_newborn_refusal_writes_nothing(hefei, citizen):
    from core.identity import make_id_number
    from people.models import Person

    number = make_id_number("340104", dt.date(2026, 5, 20), 14)
    with pytest.raises(DomainError):
        services.enrollment_register_newborn(
            actor=citizen,
            owner=citizen.person,
            name="小红",
            id_number=number,
            birth_certificate="Q340000001",
            region="340100",
            year=2030,
            today=IN_WINDOW_2027,
        )
    assert not Person.objects.filter(id_number=number).exists()


# --- flexible workers (SPEC §5) ---------------------------------------------------


def flexible(person, base, year=2026, today=dt.date(2026, 4, 1)):
    return services.enrollment_register_flexible(
        actor=None, person=person, region="340100", year=year, base=base, today=today
    )


def test_flexible_base_must_lie_within_sixty_to_three_hundred_percent(hefei):
    policy = Policy.objects.get(region_id="340100", year=2026)
    person = factories.PersonFactory()
    for base in (policy.base_min - Decimal("0.01"), policy.base_max + Decimal("0.01")):
        with pytest.raises(DomainError) as info:
            flexible(person, base)
        assert info.value.field == "base"
    assert not Enrollment.objects.filter(person=person).exists()
    assert flexible(person, policy.base_min).contribution_base == policy.base_min


def test_flexible_monthly_premium_is_base_times_rate_rounded_half_up():
    from enrollment.rules import flexible_monthly_premium

    assert flexible_monthly_premium(
        base=Decimal("5000.00"), rate=Decimal("0.0800")
    ) == Decimal("400.00")
    assert flexible_monthly_premium(
        base=Decimal("4995.63"), rate=Decimal("0.0750")
    ) == Decimal("374.67")


def test_flexible_after_a_gap_of_more_than_three_months_waits(hefei):
    person = factories.PersonFactory()
    active_enrollment(
        person, 2025, scheme="flexible", coverage_end=dt.date(2025, 11, 30)
    )
    enrollment = flexible(person, "8000")
    assert (
        enrollment.waiting_months
        == Policy.objects.get(region_id="340100", year=2026).flexible_waiting_months
    )


def test_flexible_after_a_short_gap_does_not_wait(hefei):
    person = factories.PersonFactory()
    active_enrollment(
        person, 2025, scheme="flexible", coverage_end=dt.date(2026, 1, 31)
    )
    enrollment = flexible(person, "8000")
    assert enrollment.waiting_months == 0


def test_flexible_worker_cannot_also_be_a_resident_that_year(hefei):
    person = factories.PersonFactory()
    flexible(person, "8000", year=2027, today=IN_WINDOW_2027)
    with pytest.raises(DomainError) as info:
        register(person)
    assert info.value.code == "employee_insured"


def test_flexible_registration_two_years_ahead_is_refused(hefei):
    with pytest.raises(DomainError) as info:
        flexible(factories.PersonFactory(), "8000", year=2027, today=IN_WINDOW_2026)
    assert info.value.field == "year"


# --- suspension for a transfer out ------------------------------------------------


@pytest.mark.parametrize(
    ("current", "after"),
    [
        (EnrollmentStatus.ACTIVE, EnrollmentStatus.SUSPENDED),
        (EnrollmentStatus.SUSPENDED, EnrollmentStatus.SUSPENDED),
        (EnrollmentStatus.TERMINATED, EnrollmentStatus.TERMINATED),
        (EnrollmentStatus.REGISTERED, EnrollmentStatus.REGISTERED),
    ],
)
def test_ensure_suspended_suspends_only_where_the_machine_allows(current, after):
    enrollment = factories.EnrollmentFactory(status=current)
    returned = services.enrollment_ensure_suspended(
        enrollment_id=enrollment.pk, reason="转移接续：转出"
    )
    enrollment.refresh_from_db()
    assert returned.status == enrollment.status == after
    events = EnrollmentEvent.objects.filter(enrollment=enrollment)
    if current == after:
        assert not events.exists()
    else:
        assert list(events.values_list("from_status", "to_status", "reason")) == [
            (current, after, "转移接续：转出")
        ]
