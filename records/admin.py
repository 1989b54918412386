"""Staff pages of the records app: the destination region's queue of
异地就医备案 (filings into the region, or into its whole province), the
certificates of insurance issued to the region's people, and the region's
contribution-years requirement (supervisors edit it)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from people.access import staff_region_filter
from people.admin_base import RegionScopedAdmin

from .destinations import province_code_of
from .documents import facts_view, filing_evidence
from .models import Filing, FilingEvent, InsuranceCertificate, LifetimeRequirement


class FilingEventInline(admin.TabularInline):
    model = FilingEvent
    extra = 0
    can_delete = False
    fields = ("at", "action", "from_status", "to_status", "actor", "note")
    readonly_fields = fields
    ordering = ("at", "id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Filing)
class FilingAdmin(RegionScopedAdmin):
    """异地就医备案 into the staff member's region: the filings whose destination
    is the region itself, or the whole province it lies in."""

    region_field = "destination_region"
    person_field = "person"
    list_display = (
        "number",
        "person",
        "reason",
        "insured_region",
        "destination_name",
        "start_on",
        "end_on",
        "status",
    )
    list_filter = ("status", "kind", "reason")
    exact_search_fields = ("number", "person__name", "person__id_number")
    search_fields = list(exact_search_fields)
    list_select_related = ("person", "insured_region")
    inlines = (FilingEventInline,)
    readonly_fields = (
        "number",
        "person",
        "kind",
        "reason",
        "insured_region",
        "destination_name",
        "destination_code",
        "destination_region",
        "evidence_display",
        "start_on",
        "end_on",
        "locked_until",
        "status",
        "channel",
        "applicant",
        "filed_at",
        "cancelled_at",
        "expired_at",
    )
    fields = readonly_fields
    ordering = ("-filed_at", "-id")

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if staff_region_filter(request.user, self.region_field) is None:
            return qs
        if request.user.region_id is None:
            return qs
        # A filing into a whole province is also treated by each of its cities.
        return qs | Filing.objects.filter(
            destination_region__isnull=True,
            destination_code=province_code_of(request.user.region_id),
        )

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        # Filings are made and cancelled by their services only.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("备案材料"))
    def evidence_display(self, obj):
        return filing_evidence(obj)


@admin.register(InsuranceCertificate)
class InsuranceCertificateAdmin(RegionScopedAdmin):
    region_field = "person__region"
    person_field = "person"
    list_display = ("number", "person", "issued_at")
    exact_search_fields = ("number", "person__name", "person__id_number")
    search_fields = list(exact_search_fields)
    list_select_related = ("person",)
    readonly_fields = ("number", "person", "issued_at", "issued_by", "facts_display")
    fields = readonly_fields
    ordering = ("-issued_at", "-id")

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("证明内容"))
    def facts_display(self, obj):
        facts = facts_view(obj.facts or {})
        periods = format_html_join(
            "",
            "<li>{} · {} · {} · {} {} – {}</li>",
            (
                (p.year, p.scheme, p.region, p.status, p.start, p.end)
                for p in facts.periods
            ),
        )
        months = format_html_join(
            "",
            "<li>{}：{} / {}</li>",
            ((m.region, m.actual, m.deemed) for m in facts.months),
        )
        return format_html("<ul>{}</ul><ul>{}</ul>", periods, months)


@admin.register(LifetimeRequirement)
class LifetimeRequirementAdmin(RegionScopedAdmin):
    region_field = "region"
    list_display = ("region", "men_months", "women_months", "local_actual_months")
    list_select_related = ("region",)
