"""Staff roles (SPEC §1) as Django Groups with model permissions.

- clerk (经办员): sees the region's records; handles queues and counter work
  (add/change on the operational models of enrollment, payments, transfers,
  and persons).
- supervisor (主管): a clerk who also edits the region's policy tables, the
  region's transfer-processing setting and the working-day calendar.
- auditor (审计员): sees every region and the audit log; changes nothing.
- superuser: everything, including staff logins.

Nobody but the superuser deletes anything. The admin base
(people.admin_base.RegionScopedAdmin) adds the region scope on top of these
permissions, and refuses every change to auditors whatever their groups say.

The groups are rebuilt from the tables below after every `migrate` and a staff
login is put in the group of its role whenever its role is saved.
"""

from __future__ import annotations

from django.apps import apps
from django.db.models.signals import post_migrate, post_save

from core.staff import StaffSite
from people.models import STAFF_ROLES, Role

# Extra view permissions, by role.
EXTRA_VIEW = {Role.AUDITOR: {"auditlog.logentry"}}


def _staff_sites() -> dict[str, StaffSite]:
    """Each app's StaffSite, declared on its AppConfig (core.staff)."""
    return {
        config.label: config.staff_site
        for config in apps.get_app_configs()
        if isinstance(getattr(config, "staff_site", None), StaffSite)
    }


def role_permissions(role: str) -> set[str]:
    """The permissions of a role as "app_label.codename" strings."""
    if role not in STAFF_ROLES:
        return set()
    perms = set()
    for app_label, site in _staff_sites().items():
        for model_class in apps.get_app_config(app_label).get_models():
            model = model_class._meta.model_name
            if model in site.hidden:
                continue
            perms.add(f"{app_label}.view_{model}")
            if role == Role.AUDITOR or model in site.read_only:
                continue
            if model in site.reference:
                if role == Role.SUPERVISOR:
                    perms.add(f"{app_label}.change_{model}")
                    if model not in site.no_add:
                        perms.add(f"{app_label}.add_{model}")
                continue
            perms.add(f"{app_label}.add_{model}")
            perms.add(f"{app_label}.change_{model}")
    for label in EXTRA_VIEW.get(role, ()):
        app_label, model = label.split(".")
        perms.add(f"{app_label}.view_{model}")
    return perms


def role_groups_sync(using: str = "default") -> None:
    """Create or update one Group per staff role with exactly its permissions."""
    from django.contrib.auth.models import Group, Permission

    for role in STAFF_ROLES:
        wanted = role_permissions(role)
        group, _created = Group.objects.using(using).get_or_create(name=role)
        q = Permission.objects.using(using).select_related("content_type")
        ids = [
            perm.pk
            for perm in q.filter(
                content_type__app_label__in=[*_staff_sites(), "auditlog"]
            )
            if f"{perm.content_type.app_label}.{perm.codename}" in wanted
        ]
        group.permissions.set(ids)


def user_role_group_sync(user) -> None:
    """Put a login in the group of its role (and out of the other roles' groups)."""
    from django.contrib.auth.models import Group

    role_groups = Group.objects.filter(name__in=STAFF_ROLES)
    current = {group.name: group for group in role_groups}
    user.groups.remove(*[group for name, group in current.items() if name != user.role])
    if user.role in STAFF_ROLES:
        group = current.get(user.role)
        if group is None:
            role_groups_sync()
            group = Group.objects.get(name=user.role)
        user.groups.add(group)


def _after_migrate(sender, using="default", **kwargs):
    # post_migrate is sent once per app; the permissions of every app exist
    # only after the last one.
    configs = list(apps.get_app_configs())
    if configs and sender.label == configs[-1].label:
        role_groups_sync(using=using)


def _after_user_save(
    sender, instance, created, raw=False, update_fields=None, **kwargs
):
    if raw:
        return
    if update_fields is not None and "role" not in update_fields:
        return  # e.g. last_login on every sign-in
    if created and instance.role not in STAFF_ROLES:
        return  # a citizen signing up: no group to join or leave
    user_role_group_sync(instance)


def connect() -> None:
    """Called from PortalConfig.ready()."""
    from django.contrib.auth import get_user_model

    post_migrate.connect(_after_migrate, dispatch_uid="portal.roles.after_migrate")
    post_save.connect(
        _after_user_save,
        sender=get_user_model(),
        dispatch_uid="portal.roles.after_user_save",
    )
