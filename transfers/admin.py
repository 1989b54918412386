"""Staff pages of 转移接续: the outgoing and incoming queues (working days
left, overdue first), accept / issue sheet / complete / reject with reason
through the services, counter applications, and each transfer's history."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Case, DateField, F, When
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from core.errors import DomainError
from core.identity import parse_id_number
from core.workdays import working_days_left
from people.admin_base import RegionScopedAdmin
from people.models import Person, StaffAccess

from . import services
from .forms import CounterApplyForm, RejectForm
from .models import (
    INCOMING_STATUSES,
    OUTGOING_STATUSES,
    Channel,
    HandoffMessage,
    IncomingQueue,
    OutgoingQueue,
    Transfer,
    TransferEvent,
)


class TransferEventInline(admin.TabularInline):
    model = TransferEvent
    extra = 0
    can_delete = False
    fields = (
        "at",
        "step",
        "side",
        "region",
        "actor",
        "from_status",
        "to_status",
        "deadline",
        "estimated",
        "note",
    )
    readonly_fields = fields
    ordering = ("at", "id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class HandoffMessageInline(admin.TabularInline):
    model = HandoffMessage
    extra = 0
    can_delete = False
    fields = (
        "kind",
        "from_region",
        "to_region",
        "sent_at",
        "received_at",
        "processed_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _current_deadline():
    return Case(
        When(status__in=OUTGOING_STATUSES, then=F("outgoing_deadline")),
        When(status__in=INCOMING_STATUSES, then=F("incoming_deadline")),
        default=None,
        output_field=DateField(),
    )


class TransferAdmin(RegionScopedAdmin):
    region_field = "outgoing_region"
    extra_region_fields = ("incoming_region",)
    person_field = "person"
    list_display = (
        "reference_display",
        "person",
        "kind",
        "outgoing_region",
        "incoming_region",
        "status",
        "acting_side_display",
        "deadline_display",
        "days_left_display",
    )
    list_filter = ("status", "kind", "channel")
    exact_search_fields = ("person__name", "person__id_number")
    search_fields = list(exact_search_fields)
    list_select_related = ("person", "outgoing_region", "incoming_region")
    inlines = (TransferEventInline, HandoffMessageInline)
    actions = (
        "action_accept",
        "action_issue_sheet",
        "action_complete",
        "action_reject",
    )
    readonly_fields = (
        "reference_display",
        "person",
        "kind",
        "outgoing_region",
        "incoming_region",
        "status",
        "channel",
        "applicant",
        "outgoing_enrollment",
        "incoming_enrollment",
        "outgoing_deadline",
        "outgoing_deadline_estimated",
        "incoming_deadline",
        "incoming_deadline_estimated",
        "submitted_at",
        "accepted_at",
        "sheet_issued_at",
        "received_at",
        "completed_at",
        "rejected_at",
        "cancelled_at",
        "reject_side",
        "reject_code",
        "reject_text",
        "transit_amount",
        "transit_actual_months",
        "transit_deemed_months",
        "next_step",
        "due_at",
        "sheet_link",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(current_deadline_value=_current_deadline())
        )

    def get_ordering(self, request):
        # Overdue first, then fewest working days left; finished ones last.
        return (F("current_deadline_value").asc(nulls_last=True), "-submitted_at")

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Nothing is edited by hand; staff act through the actions (services).
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if (
            not request.user.is_superuser
            and getattr(request.user, "role", None) == "auditor"
        ):
            return {}
        return actions

    def has_action_permission(self, request):
        return self._may_act(request)

    def _may_act(self, request) -> bool:
        user = request.user
        return user.is_superuser or getattr(user, "is_region_staff", False)

    # --- columns ------------------------------------------------------------------

    @admin.display(description=_lazy("申请编号"))
    def reference_display(self, obj):
        return obj.reference

    @admin.display(description=_lazy("办理方"))
    def acting_side_display(self, obj):
        return {"outgoing": _("转出地"), "incoming": _("转入地")}.get(
            obj.acting_side, "—"
        )

    @admin.display(description=_lazy("办理时限"), ordering="current_deadline_value")
    def deadline_display(self, obj):
        deadline = obj.current_deadline
        if deadline is None:
            return "—"
        if obj.current_deadline_estimated:
            return format_html(
                '{} <span class="badge-estimated">{}</span>', deadline, _("预估")
            )
        return deadline

    @admin.display(description=_lazy("剩余工作日"))
    def days_left_display(self, obj):
        deadline = obj.current_deadline
        if deadline is None:
            return "—"
        left = working_days_left(deadline, timezone.localdate())
        if left < 0:
            return format_html(
                "<strong>{}</strong>", _("已超期 %(days)d 个工作日") % {"days": -left}
            )
        return left

    @admin.display(description=_lazy("信息表"))
    def sheet_link(self, obj):
        if not hasattr(obj, "sheet"):
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("transfers:sheet", args=[obj.pk]),
            obj.sheet.number,
        )

    # --- actions ------------------------------------------------------------------

    def _run(self, request, queryset, service, done_message):
        done = 0
        for transfer in queryset:
            try:
                service(transfer_id=transfer.pk, actor=request.user)
            except DomainError as error:
                self.message_user(
                    request, f"{transfer.reference}：{error.message}", messages.ERROR
                )
                continue
            self._record_access(
                request, transfer, StaffAccess.Action.ACTION, done_message
            )
            done += 1
        if done:
            self.message_user(
                request,
                _("%(what)s：%(count)d 件") % {"what": done_message, "count": done},
                messages.SUCCESS,
            )

    @admin.action(description=_lazy("转出地受理"), permissions=["action"])
    def action_accept(self, request, queryset):
        self._run(request, queryset, services.transfer_accept, _("已受理"))

    @admin.action(
        description=_lazy("转出地出具信息表并转出个人账户"), permissions=["action"]
    )
    def action_issue_sheet(self, request, queryset):
        self._run(request, queryset, services.transfer_issue_sheet, _("已出具信息表"))

    @admin.action(description=_lazy("转入地审核办结"), permissions=["action"])
    def action_complete(self, request, queryset):
        self._run(request, queryset, services.transfer_complete, _("已办结"))

    @admin.action(description=_lazy("不予办理（填写原因）"), permissions=["action"])
    def action_reject(self, request, queryset):
        form = RejectForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            done = 0
            for transfer in queryset:
                try:
                    services.transfer_reject(
                        transfer_id=transfer.pk,
                        code=form.cleaned_data["code"],
                        text=form.cleaned_data["text"],
                        actor=request.user,
                    )
                except DomainError as error:
                    self.message_user(
                        request,
                        f"{transfer.reference}：{error.message}",
                        messages.ERROR,
                    )
                    continue
                self._record_access(
                    request, transfer, StaffAccess.Action.ACTION, _("不予办理")
                )
                done += 1
            if done:
                self.message_user(
                    request,
                    _("不予办理：%(count)d 件") % {"count": done},
                    messages.SUCCESS,
                )
            return None
        return TemplateResponse(
            request,
            "transfers/admin_reject.html",
            {
                **self.admin_site.each_context(request),
                "title": _("不予办理"),
                "form": form,
                "transfers": queryset,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    # --- counter application ------------------------------------------------------------

    def has_add_permission(self, request):
        return self._may_act(request) and super().has_add_permission(request)

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path(
                "counter-apply/",
                self.admin_site.admin_view(self.counter_apply_view),
                name="{}_{}_counter".format(*info),
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        return redirect(
            reverse("admin:transfers_transfer_counter")
        )  # the queues' add URLs too

    def counter_apply_view(self, request):
        """窗口申请: staff of either region apply on a person's behalf."""
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form = CounterApplyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            person = Person.objects.filter(
                id_number=parse_id_number(data["id_number"]).number
            ).first()
            if person is None:
                form.add_error("id_number", _("没有找到该身份证号的参保人，请核对。"))
            else:
                try:
                    transfer = services.transfer_apply(
                        person_id=person.pk,
                        name=data["name"],
                        id_number=data["id_number"],
                        kind=data["kind"],
                        outgoing_region_code=data["outgoing_region"].code,
                        incoming_region_code=data["incoming_region"].code,
                        applicant=request.user,
                        channel=Channel.COUNTER,
                    )
                except DomainError as error:
                    form.add_error(
                        error.field if error.field in form.fields else None,
                        error.message,
                    )
                else:
                    self._record_access(
                        request,
                        transfer,
                        StaffAccess.Action.ACTION,
                        _("窗口申请转移接续"),
                    )
                    self.message_user(
                        request,
                        _("已提交申请 %(reference)s")
                        % {"reference": transfer.reference},
                        messages.SUCCESS,
                    )
                    return redirect(
                        reverse("admin:transfers_transfer_change", args=[transfer.pk])
                    )
        return TemplateResponse(
            request,
            "transfers/admin_counter_apply.html",
            {
                **self.admin_site.each_context(request),
                "title": _("窗口申请转移接续"),
                "form": form,
                "opts": self.model._meta,
            },
            status=400 if form.errors else 200,
        )


class _QueueAdmin(TransferAdmin):
    statuses: tuple = ()
    inlines = ()

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status__in=self.statuses)

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        return admin.ModelAdmin.get_urls(self)

    def get_list_display_links(self, request, list_display):
        return None

    @admin.display(description=_lazy("申请编号"))
    def reference_display(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:transfers_transfer_change", args=[obj.pk]),
            obj.reference,
        )


@admin.register(OutgoingQueue)
class OutgoingQueueAdmin(_QueueAdmin):
    """转出待办: this region's transfers waiting for the outgoing office."""

    region_field = "outgoing_region"
    extra_region_fields = ()
    statuses = OUTGOING_STATUSES
    actions = ("action_accept", "action_issue_sheet", "action_reject")


@admin.register(IncomingQueue)
class IncomingQueueAdmin(_QueueAdmin):
    """转入待办: this region's transfers waiting for the incoming office."""

    region_field = "incoming_region"
    extra_region_fields = ()
    statuses = INCOMING_STATUSES
    actions = ("action_complete", "action_reject")


admin.site.register(Transfer, TransferAdmin)
