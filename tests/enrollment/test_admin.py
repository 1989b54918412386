"""Staff site for enrollment: policy validation and who may edit it; the
enrollment list with the pending-verification filter and the verification actions."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.test import RequestFactory
from django.urls import reverse

from enrollment.admin import (
    EnrollmentAdmin,
    PolicyAdmin,
    PolicyCategoryForm,
    PolicyForm,
)
from enrollment.models import (
    BASE_RATIO_MAX,
    BASE_RATIO_MIN,
    FLEXIBLE_RATE_MAX,
    Enrollment,
    Policy,
    Verification,
)
from people.models import Role
from tests import factories

pytestmark = pytest.mark.django_db


def policy_data(policy, **changes):
    data = {key: value for key, value in model_to_dict(policy).items() if key != "id"}
    data.update(changes)
    return data


def test_policy_form_accepts_the_seeded_figures(hefei):
    policy = Policy.objects.get(region=hefei, year=2027)
    form = PolicyForm(policy_data(policy), instance=policy)
    assert form.is_valid(), form.errors


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"base_min_ratio": "0.50"}, "base_min_ratio"),
        ({"base_max_ratio": "3.10"}, "base_max_ratio"),
        ({"base_min_ratio": "2.00", "base_max_ratio": "1.00"}, "base_max_ratio"),
        ({"average_wage": "-1"}, "average_wage"),
        ({"flexible_rate": "0.5"}, "flexible_rate"),
        ({"window_start": "2026-12-31", "window_end": "2026-09-01"}, "window_end"),
    ],
)
def test_policy_form_refuses_bad_figures(hefei, changes, field):
    policy = Policy.objects.get(region=hefei, year=2027)
    form = PolicyForm(policy_data(policy, **changes), instance=policy)
    assert not form.is_valid() and field in form.errors


STEP = Decimal("0.01")


@pytest.mark.parametrize(
    ("field", "limit", "beyond", "shown"),
    [
        ("base_min_ratio", BASE_RATIO_MIN, BASE_RATIO_MIN - STEP, "60%"),
        ("base_max_ratio", BASE_RATIO_MAX, BASE_RATIO_MAX + STEP, "300%"),
        ("flexible_rate", FLEXIBLE_RATE_MAX - STEP, FLEXIBLE_RATE_MAX, "20%"),
    ],
)
def test_the_form_and_the_database_share_the_policy_limits(
    hefei, field, limit, beyond, shown
):
    """The staff form refuses exactly what the check constraint would, with a
    message that states the limit."""
    policy = Policy.objects.get(region=hefei, year=2027)
    assert PolicyForm(policy_data(policy, **{field: limit}), instance=policy).is_valid()
    form = PolicyForm(policy_data(policy, **{field: beyond}), instance=policy)
    assert not form.is_valid() and shown in " ".join(form.errors[field])
    with pytest.raises(IntegrityError), transaction.atomic():
        Policy.objects.filter(pk=policy.pk).update(**{field: beyond})


def test_overlapping_windows_in_one_region_are_refused(hefei):
    policy_2027 = Policy.objects.get(region=hefei, year=2027)
    data = policy_data(
        policy_2027,
        year=2028,
        window_start=dt.date(2026, 12, 1),
        window_end=dt.date(2027, 12, 31),
    )
    form = PolicyForm(data)
    assert not form.is_valid() and "window_start" in form.errors


def test_the_same_window_in_another_region_is_fine(hefei, beijing):
    hefei_2027 = Policy.objects.get(region=hefei, year=2027)
    Policy.objects.filter(region=beijing, year=2027).delete()
    form = PolicyForm(policy_data(hefei_2027, region="110000"))
    assert form.is_valid(), form.errors


def test_negative_category_amounts_are_refused(hefei):
    policy = Policy.objects.get(region=hefei, year=2027)
    form = PolicyCategoryForm(
        {
            "policy": policy.pk,
            "category": "ordinary",
            "personal_amount": "-1",
            "subsidy": "-2",
        }
    )
    assert not form.is_valid()
    assert {"personal_amount", "subsidy"} <= set(form.errors)


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_supervisors_edit_policies_and_clerks_only_read_them(hefei):
    from django.contrib import admin

    model_admin = PolicyAdmin(Policy, admin.site)
    supervisor = factories.StaffFactory(role=Role.SUPERVISOR)
    clerk = factories.StaffFactory(role=Role.CLERK)
    policy = Policy.objects.get(region=hefei, year=2027)
    assert model_admin.has_change_permission(_request(supervisor), policy)
    assert not model_admin.has_change_permission(_request(clerk), policy)
    assert model_admin.has_view_permission(_request(clerk), policy)


def test_a_clerk_posting_a_policy_change_changes_nothing(client, hefei):
    clerk = factories.StaffFactory(role=Role.CLERK)
    client.force_login(clerk)
    policy = Policy.objects.get(region=hefei, year=2027)
    response = client.post(
        reverse("admin:enrollment_policy_change", args=[policy.pk]),
        policy_data(policy, average_wage="1.00"),
    )
    assert response.status_code == 403
    policy.refresh_from_db()
    assert policy.average_wage != Decimal("1.00")


def test_a_supervisor_saves_a_policy_change_in_the_admin(client, hefei):
    supervisor = factories.StaffFactory(role=Role.SUPERVISOR)
    client.force_login(supervisor)
    policy = Policy.objects.get(region=hefei, year=2027)
    data = policy_data(policy, newborn_days=120)
    categories = list(policy.categories.all())
    data.update(
        {
            "categories-TOTAL_FORMS": str(len(categories)),
            "categories-INITIAL_FORMS": str(len(categories)),
            "categories-MIN_NUM_FORMS": "0",
            "categories-MAX_NUM_FORMS": "1000",
        }
    )
    for i, pc in enumerate(categories):
        data.update(
            {
                f"categories-{i}-{key}": value
                for key, value in model_to_dict(pc).items()
                if value is not None
            }
        )
        data[f"categories-{i}-policy"] = policy.pk
        for flag in ("needs_verification", "exempt_from_waiting"):
            if not getattr(pc, flag):
                data.pop(f"categories-{i}-{flag}")
    for flag in ("late_fee_enabled",):
        if not data[flag]:
            data.pop(flag)
    response = client.post(
        reverse("admin:enrollment_policy_change", args=[policy.pk]), data
    )
    assert response.status_code == 302, (
        response.context["adminform"].form.errors if response.context else ""
    )
    policy.refresh_from_db()
    assert policy.newborn_days == 120


def pending(person=None, region_code="340100"):
    from enrollment import services

    return services.enrollment_register_resident(
        actor=None,
        person=person or factories.PersonFactory(),
        region=region_code,
        year=2027,
        category="dibao",
        today=dt.date(2026, 10, 15),
    )


def test_pending_filter_lists_only_pending_verifications(client, hefei):
    waiting = pending()
    ordinary = factories.EnrollmentFactory(year=2027)
    client.force_login(factories.StaffFactory())
    response = client.get(
        reverse("admin:enrollment_enrollment_changelist") + "?verification=pending"
    )
    shown = set(response.context["cl"].queryset.values_list("pk", flat=True))
    assert shown == {waiting.pk} and ordinary.pk not in shown


def test_approve_action_verifies_through_the_service(client, hefei):
    enrollment = pending()
    client.force_login(factories.StaffFactory())
    client.post(
        reverse("admin:enrollment_enrollment_changelist"),
        {"action": "approve_category", "_selected_action": [enrollment.pk]},
    )
    enrollment.refresh_from_db()
    assert enrollment.verification == Verification.APPROVED
    assert enrollment.events.filter(actor__isnull=False).exists()


def test_reject_action_falls_back_to_ordinary(client, hefei):
    enrollment = pending()
    client.force_login(factories.StaffFactory(role=Role.SUPERVISOR))
    client.post(
        reverse("admin:enrollment_enrollment_changelist"),
        {"action": "reject_category", "_selected_action": [enrollment.pk]},
    )
    enrollment.refresh_from_db()
    assert (enrollment.verification, enrollment.category) == (
        Verification.REJECTED,
        "ordinary",
    )


def test_another_regions_clerk_cannot_verify(client, hefei, beijing):
    enrollment = pending()
    client.force_login(factories.StaffFactory(region=beijing))
    client.post(
        reverse("admin:enrollment_enrollment_changelist"),
        {"action": "approve_category", "_selected_action": [enrollment.pk]},
    )
    enrollment.refresh_from_db()
    assert enrollment.verification == Verification.PENDING


def test_enrollment_records_are_read_only_in_the_admin(client, hefei):
    from django.contrib import admin

    enrollment = factories.EnrollmentFactory(year=2027)
    clerk = factories.StaffFactory()
    model_admin = EnrollmentAdmin(Enrollment, admin.site)
    assert not model_admin.has_change_permission(_request(clerk), enrollment)
    assert not model_admin.has_add_permission(_request(clerk))
    client.force_login(clerk)
    client.post(
        reverse("admin:enrollment_enrollment_change", args=[enrollment.pk]),
        {"status": "active"},
    )
    enrollment.refresh_from_db()
    assert enrollment.status == "registered"
