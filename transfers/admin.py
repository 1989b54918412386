"""Staff pages of 转移接续: the outgoing and incoming queues (working days
left, overdue first), accept / issue sheet / complete / reject with reason
through the services, counter applications, and each transfer's history."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Case, DateField, F, When
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from core.errors import DomainError
from core.identity import parse_id_number
from core.money import format_yuan
from core.workdays import working_days_left
from people.admin import field_column
from people.admin_base import RegionScopedAdmin, is_auditor
from people.models import Person, StaffAccess

from . import services
from .forms import CounterApplyForm, RejectForm
from .models import (
    INCOMING_STATUSES,
    OUTGOING_STATUSES,
    TRANSFER_MACHINE,
    Channel,
    HandoffMessage,
    IncomingQueue,
    OutgoingQueue,
    Transfer,
    TransferEvent,
    TransferStatus,
)


def _status_label(value: str) -> str:
    try:
        return str(TransferStatus(value).label)
    except ValueError:
        return value or "—"


class TransferEventInline(admin.TabularInline):
    model = TransferEvent
    template = "admin/edit_inline/events_tabular.html"
    extra = 0
    can_delete = False
    fields = (
        "at",
        "step",
        "side",
        "region",
        "actor",
        field_column("from_status", _lazy("原状态"), show=_status_label),
        "to_status",
        "deadline",
        "estimated",
        "note",
    )
    readonly_fields = fields
    ordering = ("at", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "region")

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
        "age_display",
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
    change_form_template = "admin/transfers/transfer/change_form.html"
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
        field_column("transit_amount", _lazy("在途个人账户资金"), show=format_yuan),
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

    def _acts_for_side(self, request, transfer) -> bool:
        """Only the region whose turn it is acts on a transfer (the other
        region sees it, but its step is not theirs)."""
        user = request.user
        if user.is_superuser:
            return True
        side_region = {
            "outgoing": transfer.outgoing_region_id,
            "incoming": transfer.incoming_region_id,
        }.get(transfer.acting_side)
        return bool(side_region) and side_region == user.region_id

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

    @admin.display(description=_lazy("已等待"))
    def age_display(self, obj):
        """How long the current step has waited: since the application for
        the outgoing office, since the sheet was issued for the incoming one."""
        started = {
            "outgoing": obj.accepted_at or obj.submitted_at,
            "incoming": obj.received_at or obj.sheet_issued_at,
        }.get(obj.acting_side)
        return timesince(started) if started else "—"

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
            if not self._acts_for_side(request, transfer):
                self.message_user(
                    request,
                    _("%(reference)s：当前环节由对方统筹区办理。")
                    % {"reference": transfer.reference},
                    messages.ERROR,
                )
                continue
            try:
                after = service(transfer_id=transfer.pk, actor=request.user)
            except DomainError as error:
                self.message_user(
                    request, f"{transfer.reference}：{error.message}", messages.ERROR
                )
                continue
            if (
                after.status != transfer.status
                and after.status == TransferStatus.REJECTED
            ):
                # The step checked the preconditions again and one failed.
                self.message_user(
                    request,
                    _("%(reference)s：复核办理条件未通过，已不予办理：%(reason)s")
                    % {"reference": transfer.reference, "reason": after.reject_label},
                    messages.WARNING,
                )
                self._record_access(
                    request, transfer, StaffAccess.Action.ACTION, _("不予办理")
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
                if not self._acts_for_side(request, transfer):
                    self.message_user(
                        request,
                        _("%(reference)s：当前环节由对方统筹区办理。")
                        % {"reference": transfer.reference},
                        messages.ERROR,
                    )
                    continue
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
            path(
                "<path:object_id>/act/<slug:name>/",
                self.admin_site.admin_view(self.object_action_view),
                name="{}_{}_act".format(*info),
            ),
            *super().get_urls(),
        ]

    # --- actions on a transfer's own page ----------------------------------------------

    # name → (list action, machine actions that may take it)
    OBJECT_ACTIONS = {
        "accept": ("action_accept", ("outgoing_accept",)),
        "issue_sheet": (
            "action_issue_sheet",
            ("outgoing_accept", "outgoing_issue_sheet"),
        ),
        "complete": ("action_complete", ("incoming_receive", "incoming_complete")),
        "reject": ("action_reject", ("outgoing_reject", "incoming_reject")),
    }

    def object_actions(self, request, obj) -> list[dict]:
        """The steps this transfer can take now, for staff of the region whose
        turn it is."""
        if (
            obj is None
            or not self._may_act(request)
            or is_auditor(request.user)
            or not self._acts_for_side(request, obj)
        ):
            return []
        found = []
        for name, (method, machine_actions) in self.OBJECT_ACTIONS.items():
            if any(TRANSFER_MACHINE.can(obj.status, action=a) for a in machine_actions):
                found.append(
                    {
                        "name": name,
                        "label": getattr(self, method).short_description,
                        "url": reverse(
                            "admin:transfers_transfer_act", args=[obj.pk, name]
                        ),
                        "method": method,
                        "form": name == "reject",
                    }
                )
        return found

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_queryset(request).filter(pk=unquote(object_id)).first()
        extra_context = {
            **(extra_context or {}),
            "object_actions": self.object_actions(request, obj),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def object_action_view(self, request, object_id, name):
        """Run one step from the transfer's page (POST); 不予办理 first asks
        for the reason (GET shows the form)."""
        obj = self.get_queryset(request).filter(pk=unquote(object_id)).first()
        if obj is None:
            raise Http404
        if not self._may_act(request) or is_auditor(request.user):
            raise PermissionDenied
        action = {a["name"]: a for a in self.object_actions(request, obj)}.get(name)
        if action is None:
            self.message_user(
                request,
                _("该申请当前为“%(status)s”，您不能办理此步骤。")
                % {"status": obj.get_status_display()},
                messages.WARNING,
            )
            return redirect("admin:transfers_transfer_change", obj.pk)
        queryset = self.get_queryset(request).filter(pk=obj.pk)
        if action["form"]:
            response = self.action_reject(request, queryset)
            if response is not None:
                return response
        elif request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        else:
            getattr(self, action["method"])(request, queryset)
        return redirect("admin:transfers_transfer_change", obj.pk)

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
