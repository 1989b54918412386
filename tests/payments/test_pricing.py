"""The server prices every order from the policy tables (SPEC §4–5)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from core.errors import DomainError
from core.money import format_yuan
from enrollment import selectors, services
from enrollment.models import Category, Scheme, Verification
from enrollment.policy_data import REGION_FIGURES
from payments.pricing import quote_for
from tests.factories import (
    EnrollmentFactory,
    PersonFactory,
    UserFactory,
    policy,
    region,
)

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = dt.date(2026, 5, 10)


def resident(
    category="ordinary", verification=Verification.NOT_NEEDED, code="340100", year=2026
):
    return EnrollmentFactory(
        person=PersonFactory(),
        region=region(code),
        year=year,
        category=category,
        verification=verification,
    )


def flexible(code="340100", base="5000.00"):
    return EnrollmentFactory(
        person=PersonFactory(),
        region=region(code),
        year=2026,
        scheme=Scheme.FLEXIBLE,
        category="",
        contribution_base=D(base),
    )


def test_ordinary_resident_pays_the_yearly_personal_amount_and_sees_the_subsidy():
    quote = quote_for(enrollment=resident(), paid_periods=set(), today=TODAY)
    # 合肥 2025: 400 + 20 yearly rise for 2026; subsidy 670 + 30.
    assert (quote.personal_amount, quote.subsidy, quote.late_fee, quote.total) == (
        D("420.00"),
        D("700.00"),
        0,
        D("420.00"),
    )
    assert quote.period == "2026" and quote.months == 12


def test_student_pays_the_student_amount():
    assert quote_for(
        enrollment=resident("student"), paid_periods=set(), today=TODAY
    ).total == D("370.00")


def test_reduced_category_pays_ordinary_price_until_verification_is_approved():
    pending = quote_for(
        enrollment=resident("dibao", Verification.PENDING),
        paid_periods=set(),
        today=TODAY,
    )
    assert (
        pending.total == D("420.00") and pending.category == "ordinary" and pending.note
    )
    approved = quote_for(
        enrollment=resident("dibao", Verification.APPROVED),
        paid_periods=set(),
        today=TODAY,
    )
    assert approved.total == D("40.00") and approved.category == "dibao"


def test_tekun_approved_pays_nothing():
    assert (
        quote_for(
            enrollment=resident("tekun", Verification.APPROVED),
            paid_periods=set(),
            today=TODAY,
        ).total
        == 0
    )


def test_a_paid_year_is_refused():
    with pytest.raises(DomainError) as caught:
        quote_for(enrollment=resident(), paid_periods={"2026"}, today=TODAY)
    assert caught.value.code == "already_paid"


def test_flexible_months_ahead_are_base_times_rate_each():
    quote = quote_for(
        enrollment=flexible(), paid_periods=set(), months_ahead=3, today=TODAY
    )
    assert quote.periods == ["2026-05", "2026-06", "2026-07"]
    assert (
        quote.personal_amount == D("1200.00")
        and quote.late_fee == 0
        and quote.kind == "premium"
    )


def test_flexible_months_stop_at_the_end_of_the_enrollment_year():
    quote = quote_for(
        enrollment=flexible(),
        paid_periods=set(),
        months_ahead=12,
        today=dt.date(2026, 11, 3),
    )
    assert quote.periods == ["2026-11", "2026-12"]


def test_flexible_backpay_within_three_months_carries_the_late_fee_where_enabled():
    # 北京 charges the late fee; rate 9.8% of base 5000 = 490.00 a month.
    quote = quote_for(
        enrollment=flexible("110000"),
        paid_periods={"2026-01"},
        months_ahead=1,
        today=TODAY,
    )
    assert quote.kind == "backpay"
    assert quote.periods == ["2026-02", "2026-03", "2026-04", "2026-05"]
    fees = [line.late_fee for line in quote.lines]
    # 490 × 0.05% × overdue days (since 28 Feb: 71, 31 Mar: 40, 30 Apr: 10).
    assert fees == [D("17.40"), D("9.80"), D("2.45"), D("0")]
    assert quote.total == D("490.00") * 4 + D("29.65")


def test_flexible_backpay_has_no_late_fee_where_the_region_does_not_charge_it():
    quote = quote_for(
        enrollment=flexible("340100"),
        paid_periods={"2026-02"},
        months_ahead=1,
        today=TODAY,
    )
    assert quote.periods == ["2026-03", "2026-04", "2026-05"] and quote.late_fee == 0


def test_a_gap_longer_than_backpay_allows_starts_at_the_current_month():
    quote = quote_for(
        enrollment=flexible(),
        paid_periods={"2026-01"},
        months_ahead=1,
        today=dt.date(2026, 6, 2),
    )
    assert quote.periods == ["2026-06"] and quote.kind == "premium"


@pytest.mark.parametrize("months", [0, 13, -1])
def test_months_ahead_out_of_range_is_refused(months):
    with pytest.raises(DomainError):
        quote_for(
            enrollment=flexible(), paid_periods=set(), months_ahead=months, today=TODAY
        )


def test_employee_scheme_is_not_paid_here():
    enrollment = EnrollmentFactory(
        person=PersonFactory(), scheme=Scheme.EMPLOYEE, category=""
    )
    with pytest.raises(DomainError):
        quote_for(enrollment=enrollment, paid_periods=set(), today=TODAY)


def test_repair_prices_each_gap_year_at_the_current_personal_amount():
    enrollment = resident()
    enrollment.gap_years = 3
    enrollment.save()
    quote = quote_for(
        enrollment=enrollment, paid_periods=set(), today=TODAY, repair_years=2
    )
    assert (
        quote.kind == "repair"
        and quote.periods == ["2024", "2025"]
        and quote.total == D("840.00")
    )
    with pytest.raises(DomainError):
        quote_for(
            enrollment=enrollment, paid_periods=set(), today=TODAY, repair_years=4
        )


def test_an_active_resident_year_is_not_charged_again():
    enrollment = resident()
    enrollment.status = "active"
    enrollment.save()
    with pytest.raises(DomainError):
        quote_for(enrollment=enrollment, paid_periods=set(), today=TODAY)


def test_flexible_months_already_covered_are_not_charged_again():
    enrollment = flexible()
    enrollment.coverage_end = dt.date(2026, 6, 30)  # months up to May paid
    enrollment.save()
    quote = quote_for(
        enrollment=enrollment, paid_periods=set(), months_ahead=1, today=TODAY
    )
    assert quote.periods == ["2026-06"]


# --- one price: what the enrollment pages show is what the payment charges -----


@pytest.mark.parametrize("code", sorted(REGION_FIGURES))
def test_the_enrollment_price_is_the_amount_the_payment_charges(code):
    """Every category × verification state in every region: the selector the
    confirmation page shows and the payment quote agree on category, personal
    amount and subsidy."""
    seen = set()
    for category in Category.values:
        for verification in Verification.values:
            enrollment = resident(category, verification, code=code)
            shown = selectors.resident_premium(enrollment)
            quote = quote_for(enrollment=enrollment, paid_periods=set(), today=TODAY)
            assert (shown.category, shown.personal_amount, shown.subsidy) == (
                quote.category,
                quote.total,
                quote.subsidy,
            ), (category, verification)
            assert bool(quote.note) == shown.reduced_withheld
            seen.add((shown.category == category, shown.verification_pending))
    # Both a reduced price applied and one withheld pending staff were compared.
    assert {(True, False), (False, True)} <= seen


@pytest.mark.parametrize("code", sorted(REGION_FIGURES))
def test_reduced_categories_are_charged_their_own_amounts_once_approved(code):
    rows = policy(code, 2026).categories.filter(needs_verification=True)
    assert rows
    for row in rows:
        enrollment = resident(row.category, Verification.APPROVED, code=code)
        quote = quote_for(enrollment=enrollment, paid_periods=set(), today=TODAY)
        assert (quote.total, quote.subsidy) == (row.personal_amount, row.subsidy)
        assert selectors.resident_premium(enrollment).personal_amount == quote.total


@pytest.mark.parametrize("category", Category.values)
def test_the_check_page_price_is_what_the_registration_will_be_charged(category):
    """The plan (check-your-answers page) prices the registration as it will be
    stored, so paying it right after charges the amount shown."""
    today = dt.date(2026, 10, 15)  # inside the 2027 window
    person = PersonFactory()
    policy("340100", 2027)
    plan = services.resident_plan(
        person=person, region="340100", year=2027, category=category, today=today
    )
    enrollment = services.enrollment_register_resident(
        actor=None,
        person=person,
        region="340100",
        year=2027,
        category=category,
        today=today,
    )
    quote = quote_for(enrollment=enrollment, paid_periods=set(), today=today)
    assert (plan.personal_amount, plan.subsidy) == (quote.total, quote.subsidy)


@pytest.mark.parametrize(
    ("category", "verification"),
    [
        ("ordinary", Verification.NOT_NEEDED),
        ("dibao", Verification.PENDING),
        ("dibao", Verification.APPROVED),
    ],
)
def test_the_confirmation_page_shows_the_amount_the_payment_charges(
    client, category, verification
):
    user = UserFactory()
    enrollment = EnrollmentFactory(
        person=user.person, category=category, verification=verification
    )
    quote = quote_for(enrollment=enrollment, paid_periods=set(), today=TODAY)
    client.force_login(user)
    page = client.get(reverse("enrollment:done", args=[enrollment.pk]))
    assert page.status_code == 200
    assert format_yuan(quote.total) in page.content.decode()
