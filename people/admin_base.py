"""The base of every staff-site (Django admin) page: scoped to the staff
member's region, read-only for auditors, fast on large tables, and leaving a
"who looked at my record" trail (StaffAccess) on views, changes and actions."""

from __future__ import annotations

import functools
import secrets
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from core.identity import normalise_id_number
from core.models import Region

from .access import staff_region_filter
from .models import Person, Role, StaffAccess

# Above this many rows a list shows "more than N" instead of counting them all.
COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """A paginator that never runs COUNT(*) over a whole large table.

    It counts at most COUNT_CAP + 1 rows (`SELECT COUNT(*) FROM (… LIMIT n)`),
    which stops early on an index scan. An unfiltered PostgreSQL table that is
    larger than that is given the planner's estimate (pg_class.reltuples), so
    the page links still reach its end approximately.
    """

    @cached_property
    def count(self):
        queryset = self.object_list
        capped = (
            queryset[: COUNT_CAP + 1].count()
            if hasattr(queryset, "query")
            else len(queryset)
        )
        if capped <= COUNT_CAP:
            return capped
        estimate = _estimated_rows(queryset)
        return max(estimate or 0, capped)


def _estimated_rows(queryset) -> int | None:
    """The planner's row estimate for an unfiltered table on PostgreSQL, else None."""
    if queryset.query.where or connections[queryset.db].vendor != "postgresql":
        return None
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] and row[0] > 0 else None


class StaffChangeList(ChangeList):
    """A searched list does not count what it can see: it fetches one row
    more than a page holds; when they fit (an exact search finds one person)
    the rows fetched are the count and no COUNT statement runs, else the
    first page is among them and only the (capped) count is asked. Lists
    without a search term are fetched and counted as Django does."""

    def get_results(self, request):
        if not self.query or self.show_all or self.page_num != 1 or self.list_editable:
            return super().get_results(request)
        rows = list(self.queryset[: self.list_per_page + 1])
        paginator = self.model_admin.get_paginator(
            request, self.queryset, self.list_per_page
        )
        if len(rows) <= self.list_per_page:
            paginator.count = len(rows)  # the cached_property, known without a query
        self.result_count = paginator.count
        self.show_full_result_count = self.model_admin.show_full_result_count
        self.full_result_count = (
            self.root_queryset.count() if self.show_full_result_count else None
        )
        self.show_admin_actions = not self.show_full_result_count or bool(
            self.full_result_count
        )
        self.result_list = rows[: self.list_per_page]
        self.can_show_all = self.result_count <= self.list_max_show_all
        self.multi_page = self.result_count > self.list_per_page
        self.paginator = paginator


def _user_role(user) -> str | None:
    return getattr(user, "role", None)


def is_auditor(user) -> bool:
    return _user_role(user) == Role.AUDITOR and not user.is_superuser


def has_no_scope(user) -> bool:
    """Region staff without a region see nothing (and so do citizens)."""
    if user.is_superuser or _user_role(user) == Role.AUDITOR:
        return False
    return (
        _user_role(user) not in (Role.CLERK, Role.SUPERVISOR) or user.region_id is None
    )


def _staff_flags(request) -> tuple[bool, bool]:
    """(sees nothing, changes nothing) for the request's user, worked out once
    per request: every admin page asks each registered model's permissions
    (the staff site's navigation), five questions a model."""
    flags = getattr(request, "_staff_flags", None)
    if flags is None:
        user = request.user
        flags = (has_no_scope(user) and not user.is_superuser, is_auditor(user))
        request._staff_flags = flags
    return flags


SEARCH_KEY_VAR = "qk"
SEARCH_SESSION_KEY = "admin_searches"


class StaffAdminMixin:
    """Permission rules every staff-site page shares, region-scoped or not:
    nothing for staff without a region, nothing but viewing for auditors."""

    show_full_result_count = False  # no COUNT(*) over a million rows
    # Filter facets count every option of every filter: never on these tables.
    show_facets = admin.ShowFacets.NEVER
    paginator = CappedCountPaginator
    list_per_page = 50

    def get_changelist(self, request, **kwargs):
        return StaffChangeList

    def has_module_permission(self, request):
        if _staff_flags(request)[0]:
            return False
        return super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        if _staff_flags(request)[0]:
            return False
        return super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        if any(_staff_flags(request)):
            return False
        return super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        if any(_staff_flags(request)):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if any(_staff_flags(request)):
            return False
        return super().has_delete_permission(request, obj)

    # --- search without the term in any URL -----------------------------------
    # A search term is often an identity number or a name: it travels in a
    # POST body and waits in the session under a random key (?qk=…), so it is
    # in no URL, access log, browser history or Referer header.

    def changelist_view(self, request, extra_context=None):
        if (
            request.method == "POST"
            and SEARCH_VAR in request.POST
            and "action" not in request.POST
        ):
            return self._search_redirect(request, request.POST.get(SEARCH_VAR, ""))
        if SEARCH_VAR in request.GET:
            return self._search_redirect(request, request.GET.get(SEARCH_VAR, ""))
        key = request.GET.get(SEARCH_KEY_VAR)
        if key is not None:
            term = request.session.get(SEARCH_SESSION_KEY, {}).get(key, "")
            query = request.GET.copy()
            del query[SEARCH_KEY_VAR]
            if term:
                query[SEARCH_VAR] = term
            request.GET = query
            request._admin_search_key = key
        return super().changelist_view(request, extra_context)

    def _search_redirect(self, request, term: str):
        source = request.POST if request.method == "POST" else request.GET
        params = {
            name: value
            for name, value in source.items()
            if name not in (SEARCH_VAR, SEARCH_KEY_VAR, "csrfmiddlewaretoken")
        }
        term = term.strip()[:100]
        if term:
            key = secrets.token_urlsafe(9)
            searches = request.session.get(SEARCH_SESSION_KEY, {})
            # Keep the last few: a clerk may go back to an earlier list.
            searches = dict(list(searches.items())[-9:])
            searches[key] = term
            request.session[SEARCH_SESSION_KEY] = searches
            params[SEARCH_KEY_VAR] = key
        query = urlencode(params)
        return HttpResponseRedirect(request.path + (f"?{query}" if query else ""))

    # Lists that name `exact_search_fields` search those fields by exact
    # value only (indexed; a partial identity number such as a birth date
    # finds nothing).
    exact_search_fields: tuple[str, ...] = ()

    def get_search_results(self, request, queryset, search_term):
        if not self.exact_search_fields:
            return super().get_search_results(request, queryset, search_term)
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        condition = Q()
        for field in self.exact_search_fields:
            value = normalise_id_number(term) if field.endswith("id_number") else term
            condition |= Q(**{field: value})
        return queryset.filter(condition), False

    def get_preserved_filters(self, request):
        """Links from a searched list (rows, the add button) keep the key,
        not the term: the term must not reach a URL through them either."""
        key = getattr(request, "_admin_search_key", None)
        if key is None:
            return super().get_preserved_filters(request)
        shown = request.GET
        query = shown.copy()
        query.pop(SEARCH_VAR, None)
        query[SEARCH_KEY_VAR] = key
        request.GET = query
        try:
            return super().get_preserved_filters(request)
        finally:
            request.GET = shown

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        key = getattr(request, "_admin_search_key", None)
        if key is not None:
            # Links of the list (pages, filters, sorting) keep the key, not the
            # term (Django builds them from filter_params, a dict of lists).
            changelist.params.pop(SEARCH_VAR, None)
            changelist.params[SEARCH_KEY_VAR] = key
            changelist.filter_params.pop(SEARCH_VAR, None)
            changelist.filter_params[SEARCH_KEY_VAR] = [key]
        return changelist

    def get_actions(self, request):
        actions = super().get_actions(request)
        if has_no_scope(request.user) and not request.user.is_superuser:
            return {}
        if is_auditor(request.user):
            # An action that does not declare itself view-only may change
            # something: auditors never get it.
            actions = {
                name: entry
                for name, entry in actions.items()
                if tuple(getattr(entry[0], "allowed_permissions", ())) == ("view",)
            }
        return actions


class RegionScopedAdmin(StaffAdminMixin, admin.ModelAdmin):
    """A ModelAdmin whose lists, searches, forms and actions see only rows of the
    staff member's region. `region_field` is the lookup path from the model to
    its Region (for example "person__region" or "outgoing_region").

    An object of another region is not found (the admin redirects to its index
    with "does not exist"), even by typing its id in the address bar, because
    get_object goes through get_queryset. Foreign keys to Region and Person in
    forms offer (and accept) only the staff member's region.
    Auditors (and superusers) see all regions; auditors change nothing.
    """

    region_field = "region"
    # Extra lookup paths that also grant access (a transfer is seen by both regions).
    extra_region_fields: tuple[str, ...] = ()
    # Lookup path from the model to a Person, for the "who looked at my record"
    # log; the Person admin itself is handled without it.
    person_field: str | None = None

    def _is_auditor(self, request) -> bool:
        return is_auditor(request.user)

    # --- scope ---------------------------------------------------------------

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        scope = staff_region_filter(request.user, self.region_field)
        if scope is None:
            return qs
        if request.user.region_id is None:
            return qs.none()
        if not self.extra_region_fields:
            return qs.filter(**scope)
        condition = Q(**scope)
        for field in self.extra_region_fields:
            condition |= Q(**{field: request.user.region_id})
        qs = qs.filter(condition)
        # DISTINCT only when a path crosses a to-many relation (it is costly on
        # large tables and unnecessary along foreign keys).
        if any(
            _crosses_many(self.model, path)
            for path in (self.region_field, *self.extra_region_fields)
        ):
            qs = qs.distinct()
        return qs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is None or request is None:
            return field
        scope_region = _scoped_region_id(request.user)
        if scope_region is _ALL:
            return field
        related = db_field.remote_field.model
        if related is Region:
            field.queryset = (
                field.queryset.filter(pk=scope_region)
                if scope_region
                else field.queryset.none()
            )
        elif related is Person:
            field.queryset = (
                field.queryset.filter(region_id=scope_region)
                if scope_region
                else field.queryset.none()
            )
        return field

    # --- "who looked at my record" -----------------------------------------------

    def _person_id_of(self, obj) -> int | None:
        if obj is None:
            return None
        if isinstance(obj, Person):
            return obj.pk
        if not self.person_field:
            return None
        current = obj
        parts = self.person_field.split("__")
        # Follow foreign keys by their id where possible (no extra query for the last hop).
        for index, part in enumerate(parts):
            if current is None:
                return None
            if index == len(parts) - 1:
                person_id = getattr(current, f"{part}_id", None)
                if person_id is None:
                    target = getattr(current, part, None)
                    person_id = getattr(target, "pk", None)
                return person_id
            current = getattr(current, part, None)
        return None

    def _record_access(self, request, obj, action, what=""):
        person_id = self._person_id_of(obj)
        if person_id is None or not request.user.is_authenticated:
            return
        StaffAccess.objects.create(
            person_id=person_id,
            staff=request.user,
            action=action,
            what=(what or str(self.model._meta.verbose_name))[:200],
        )

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and request.method == "GET":
            self._record_access(request, obj, StaffAccess.Action.VIEW)
        return obj

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._record_access(request, obj, StaffAccess.Action.CHANGE)

    def delete_model(self, request, obj):
        self._record_access(request, obj, StaffAccess.Action.CHANGE)
        super().delete_model(request, obj)

    # Every list offers "export the selected rows as CSV" (view-only, so
    # auditors have it too); set False on an admin that must not.
    csv_export = True

    def get_actions(self, request):
        actions = super().get_actions(request)
        if (
            self.csv_export
            and self.actions is not None
            and IS_POPUP_VAR not in request.GET
            and not (has_no_scope(request.user) and not request.user.is_superuser)
            and self.has_view_permission(request)
        ):
            actions.setdefault(
                "export_csv",
                (
                    export_selected_csv,
                    "export_csv",
                    export_selected_csv.short_description,
                ),
            )
        return {
            name: (self._recording_action(func, description), action_name, description)
            for name, (func, action_name, description) in actions.items()
        }

    def _recording_action(self, func, description):
        """Wrap an admin action so every person it touched sees it in their
        "who looked at my record" list (one INSERT for the whole selection)."""

        @functools.wraps(func)
        def run(modeladmin, request, queryset):
            person_ids = self._person_ids_of_queryset(queryset)
            started = timezone.now()
            result = func(modeladmin, request, queryset)
            kind = getattr(func, "access_action", StaffAccess.Action.ACTION)
            if person_ids and request.user.is_authenticated:
                # An action that recorded its own, more precise rows keeps them.
                recorded = set(
                    StaffAccess.objects.filter(
                        staff=request.user,
                        action=kind,
                        at__gte=started,
                        person_id__in=person_ids,
                    ).values_list("person_id", flat=True)
                )
                StaffAccess.objects.bulk_create(
                    StaffAccess(
                        person_id=pid,
                        staff=request.user,
                        action=kind,
                        what=str(description)[:200],
                    )
                    for pid in person_ids
                    if pid not in recorded
                )
            return result

        return run

    def _person_ids_of_queryset(self, queryset) -> list[int]:
        if self.model is Person:
            path = "pk"
        elif self.person_field:
            path = self.person_field
        else:
            return []
        return sorted(
            {pid for pid in queryset.values_list(path, flat=True) if pid is not None}
        )


@admin.action(description=_("导出所选记录（CSV）"), permissions=["view"])
def export_selected_csv(modeladmin, request, queryset):
    """The selected rows with the list's columns, numbers masked as shown."""
    from core.export import admin_rows_csv

    return admin_rows_csv(modeladmin, request, queryset)


# Exporting a person's row is looking at it, not acting on it.
export_selected_csv.access_action = StaffAccess.Action.VIEW

_ALL = object()


def _scoped_region_id(user):
    """The region a user's forms are limited to; _ALL for superusers and auditors."""
    if user.is_superuser or _user_role(user) == Role.AUDITOR:
        return _ALL
    return user.region_id


def _crosses_many(model, path: str) -> bool:
    opts = model._meta
    for part in path.split("__"):
        try:
            field = opts.get_field(part)
        except FieldDoesNotExist:  # a transform or lookup, not a field
            return False
        if field.many_to_many or field.one_to_many:
            return True
        if not field.is_relation:
            return False
        opts = field.related_model._meta
    return False


class ReadOnlyMixin:
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
