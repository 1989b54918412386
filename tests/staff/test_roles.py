"""Roles as Groups (SPEC §1): rebuilt from portal.roles after migrate, and a
login joins the group of its role when its role is saved."""

from django.contrib.auth.models import Group

from people.models import Role
from portal.roles import role_permissions
from tests.factories import StaffFactory


def test_each_staff_role_has_its_group_with_exactly_its_permissions(db):
    for role in (Role.CLERK, Role.SUPERVISOR, Role.AUDITOR):
        group = Group.objects.get(name=role)
        perms = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
        }
        assert perms == role_permissions(role)


def test_supervisors_edit_policy_tables_clerks_only_read_them_auditors_change_nothing():
    clerk, supervisor, auditor = (
        role_permissions(r) for r in (Role.CLERK, Role.SUPERVISOR, Role.AUDITOR)
    )
    assert "enrollment.view_policy" in clerk and "enrollment.change_policy" not in clerk
    assert {
        "enrollment.change_policy",
        "enrollment.add_policycategory",
        "core.change_region",
    } <= supervisor
    assert "people.add_person" in clerk
    assert not any(
        p.split(".")[1].startswith(("add_", "change_", "delete_")) for p in auditor
    )
    assert "auditlog.view_logentry" in auditor and "auditlog.view_logentry" not in clerk
    assert not any(".delete_" in p for p in clerk | supervisor)
    assert not any(p.endswith("_user") for p in clerk | supervisor | auditor)


def test_changing_a_login_role_moves_it_to_that_group(regions):
    user = StaffFactory(role=Role.CLERK, region=regions[0])
    assert list(user.groups.values_list("name", flat=True)) == ["clerk"]
    assert user.has_perm("people.add_person")
    user.role = Role.AUDITOR
    user.region = None
    user.save()
    user = type(user).objects.get(pk=user.pk)
    assert list(user.groups.values_list("name", flat=True)) == ["auditor"]
    assert not user.has_perm("people.add_person") and user.has_perm(
        "people.view_person"
    )
