"""The base of every staff-site (Django admin) page: scoped to the staff
member's region, read-only for auditors, fast on large tables."""

from django.contrib import admin

from .access import staff_region_filter
from .models import Role, StaffAccess


class RegionScopedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose lists, searches, forms and actions see only rows of the
    staff member's region. `region_field` is the lookup path from the model to
    its Region (for example "person__region" or "outgoing_region").

    An object of another region is not found (404-like redirect), even by typing
    its id in the address bar, because get_object goes through get_queryset.
    Auditors (and superusers) see all regions; auditors change nothing.
    """

    region_field = "region"
    # Extra lookup paths that also grant access (a transfer is seen by both regions).
    extra_region_fields: tuple[str, ...] = ()
    show_full_result_count = False  # no COUNT(*) over a million rows
    list_per_page = 50
    # Lookup path from the model to a Person, for the "who looked at my record" log.
    person_field: str | None = None

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        scope = staff_region_filter(request.user, self.region_field)
        if scope is None:
            return qs
        if not self.extra_region_fields:
            return qs.filter(**scope)
        from django.db.models import Q

        condition = Q(**scope)
        for field in self.extra_region_fields:
            condition |= Q(**{field: request.user.region_id})
        return qs.filter(condition).distinct()

    def _is_auditor(self, request) -> bool:
        return getattr(request.user, "role", None) == Role.AUDITOR and not request.user.is_superuser

    def has_add_permission(self, request):
        return not self._is_auditor(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        if self._is_auditor(request):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if self._is_auditor(request):
            return False
        return super().has_delete_permission(request, obj)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and self.person_field and request.method == "GET":
            person = obj
            for part in self.person_field.split("__"):
                person = getattr(person, part, None)
            if person is not None and getattr(person, "pk", None):
                StaffAccess.objects.create(
                    person_id=person.pk, staff=request.user, action=StaffAccess.Action.VIEW,
                    what=str(self.model._meta.verbose_name),
                )
        return obj
