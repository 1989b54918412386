"""Every model registered in the admin × every role × own / other region ×
list / change view / change POST / add / actions.

Generated over admin.site._registry, so another app's admin is covered as soon
as it is registered. Rules (SPEC §1): region staff see and act on their own
region only, even by typing an id; auditors see every region and change
nothing; staff with no region see nothing; logins are the superuser's alone.
"""

from __future__ import annotations

import pytest
from django.contrib.admin.utils import quote
from django.forms.models import model_to_dict
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from people.admin_base import RegionScopedAdmin
from portal.roles import role_permissions

from .conftest import region_codes_of, registered_admins, rows_for

# Pages only the superuser may open, whatever the role tables say.
SUPERUSER_ONLY = {
    "people.User",
    "auth.Group",
    "axes.AccessAttempt",
    "axes.AccessFailureLog",
    "axes.AccessLog",
}
ROLES = ["clerk", "supervisor", "clerk_bj", "auditor", "superuser", "no_region"]
ROLE_OF = {
    "clerk": "clerk",
    "supervisor": "supervisor",
    "clerk_bj": "clerk",
    "auditor": "auditor",
}

ADMINS = registered_admins()


def _url(model, view, *args):
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=args)


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def _may_open(role: str, model) -> bool:
    """Superuser: everything; no region: nothing; else what the role's
    permission table (portal.roles) lets it view."""
    if role == "no_region":
        return False
    if role == "superuser":
        return True
    opts = model._meta
    if opts.label in SUPERUSER_ONLY:
        return False
    return f"{opts.app_label}.view_{opts.model_name}" in role_permissions(ROLE_OF[role])


def _sees(user, role, model_admin, obj) -> bool:
    if role in ("superuser", "auditor"):
        return True
    if role == "no_region" or not isinstance(model_admin, RegionScopedAdmin):
        return role != "no_region"
    return user.region_id in region_codes_of(model_admin, obj)


def _index_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"] == reverse(
        "admin:index"
    )


@pytest.mark.parametrize(
    ("model", "model_admin"), ADMINS, ids=[m._meta.label for m, _ in ADMINS]
)
def test_every_admin_scopes_every_role(client, staff, regions, model, model_admin):
    label = model._meta.label
    rows = rows_for(model, model_admin, regions)
    superuser = staff["superuser"]
    # Rows this admin lists at all (a queue admin lists only some statuses).
    listed = [
        obj
        for obj in rows
        if model_admin.get_queryset(_request(superuser)).filter(pk=obj.pk).exists()
    ]
    if isinstance(model_admin, RegionScopedAdmin) and model._meta.label not in (
        "core.Region",
    ):
        in_hefei = [
            obj for obj in listed if "340100" in region_codes_of(model_admin, obj)
        ]
        in_beijing_only = [
            obj for obj in listed if region_codes_of(model_admin, obj) == {"110000"}
        ]
    else:
        in_hefei, in_beijing_only = listed, []

    sample = [*in_hefei[:1], *in_beijing_only[:1]] or listed[:1]

    for role in ROLES:
        user = staff[role]
        client.force_login(user)
        may_open = _may_open(role, model)

        changelist = client.get(_url(model, "changelist"))
        assert changelist.status_code == (200 if may_open else 403), (
            role,
            label,
            "changelist",
        )
        if may_open:
            shown = changelist.context["cl"].queryset
            for obj in listed:
                assert shown.filter(pk=obj.pk).exists() == _sees(
                    user, role, model_admin, obj
                ), (role, label, obj.pk)

        # One row of each region is enough to open (rendering a change form is the slow part).
        for obj in sample:
            response = client.get(_url(model, "change", quote(obj.pk)))
            if not may_open:
                # Refused without the record's form (the error page itself
                # carries the site's own forms: language, care mode, log out).
                record_form = f'id="{model._meta.model_name}_form"'.encode()
                assert response.status_code in (302, 403), (role, label)
                assert record_form not in response.content, (role, label)
                if response.status_code == 302:
                    assert _index_redirect(response), (role, label)
            elif _sees(user, role, model_admin, obj):
                assert response.status_code in (200, 302), (role, label, obj.pk)
                if response.status_code == 302:
                    assert not _index_redirect(response), (
                        role,
                        label,
                        obj.pk,
                        "own object not found",
                    )
            else:
                assert _index_redirect(response), (
                    role,
                    label,
                    obj.pk,
                    "other region's object was opened",
                )
                # Nor its history page.
                history = client.get(_url(model, "history", quote(obj.pk)))
                assert _index_redirect(history), (
                    role,
                    label,
                    obj.pk,
                    "other region's history was opened",
                )

        # Typing another region's id into a change form's POST changes nothing.
        for obj in (
            in_beijing_only[:1]
            if role in ("clerk", "supervisor", "auditor", "no_region")
            else []
        ):
            before = model_to_dict(model._default_manager.get(pk=obj.pk))
            response = client.post(_url(model, "change", quote(obj.pk)), {})
            assert response.status_code in (302, 403), (role, label)
            if response.status_code == 302:
                assert _index_redirect(response)
            assert model_to_dict(model._default_manager.get(pk=obj.pk)) == before

        # Add: never for auditors or staff without a region; region staff only
        # where their role's permissions allow it.
        try:
            add_url = _url(model, "add")
        except NoReverseMatch:
            add_url = None
        if add_url:
            response = client.get(add_url, follow=True)
            codename = f"{model._meta.app_label}.add_{model._meta.model_name}"
            if role in ("auditor", "no_region") or (
                role in ("clerk", "supervisor", "clerk_bj")
                and codename not in role_permissions(user.role)
            ):
                # Refused: 403, or sent back to the admin index without a form.
                refused = response.status_code == 403 or (
                    response.redirect_chain
                    and response.redirect_chain[-1][0] == reverse("admin:index")
                )
                assert refused, (
                    role,
                    label,
                    "add",
                    response.status_code,
                    response.redirect_chain,
                )

        # Actions: auditors get none that can change anything.
        actions = model_admin.get_actions(_request(user))
        if role in ("auditor", "no_region"):
            assert all(
                tuple(getattr(func, "allowed_permissions", ())) == ("view",)
                for func, _name, _desc in actions.values()
            ), (role, label, sorted(actions))
        # A 北京 clerk running any action on a 合肥 row changes nothing.
        if role == "clerk_bj":
            for name in actions:
                for obj in in_hefei[:2]:
                    if "110000" in region_codes_of(model_admin, obj) or not isinstance(
                        model_admin, RegionScopedAdmin
                    ):
                        continue
                    before = model_to_dict(model._default_manager.get(pk=obj.pk))
                    client.post(
                        _url(model, "changelist"),
                        {"action": name, "_selected_action": [obj.pk]},
                    )
                    assert (
                        model_to_dict(model._default_manager.get(pk=obj.pk)) == before
                    ), (label, name)
        client.logout()


def test_matrix_covers_the_region_scoped_admins_with_rows(staff, regions):
    """Each region-scoped admin whose model can be built gets rows in both
    regions, so the matrix above checks more than empty lists."""
    covered = []
    for model, model_admin in ADMINS:
        if not isinstance(model_admin, RegionScopedAdmin):
            continue
        rows = rows_for(model, model_admin, regions, per_region=1)
        if rows:
            covered.append(model._meta.label)
    assert {"people.Person", "core.Region"} <= set(covered)
