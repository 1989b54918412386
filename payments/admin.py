"""Staff pages: payments of the staff member's region, with the actions that
go through services (from the list or from a payment's own page), the
queues that need attention, and the counter's day closes (日结对账).

Counter payment entry is the counter workspace's (portal.staff), which
calls payments.services."""

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from core.money import format_yuan
from enrollment.models import Policy, Scheme
from people.admin import created_column, field_column, shown, titled_filter
from people.admin_base import RegionScopedAdmin
from people.models import StaffAccess

from . import services
from .forms import new_key
from .models import (
    ONLINE_CHANNELS,
    PAYMENT_MACHINE,
    CallbackLog,
    Channel,
    DayClose,
    FamilyBinding,
    Order,
    PaidPeriod,
    Payment,
    PaymentEvent,
    PaymentStatus,
    PersonalAccount,
    Receipt,
    Refund,
    SimChannelScript,
    Tender,
    status_label,
)

PENDING_TOO_LONG = dt.timedelta(minutes=10)
# Statuses of an attempt that ended without the money: the 缴费失败 queue.
FAILED_STATUSES = (PaymentStatus.FAILED, PaymentStatus.ERROR)
SOURCES = {
    "citizen": gettext_lazy("参保人"),
    "callback": gettext_lazy("渠道回调"),
    "reconcile": gettext_lazy("对账查询"),
    "staff": gettext_lazy("经办人员"),
    "system": gettext_lazy("系统"),
}


def _period_paid():
    """The attempt's period is paid (by this attempt or any other)."""
    return Exists(
        PaidPeriod.objects.filter(
            insured_id=OuterRef("insured_id"),
            scheme=OuterRef("scheme"),
            period=OuterRef("period"),
        )
    )


class AttentionFilter(admin.SimpleListFilter):
    title = gettext_lazy("需处理")
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [
            ("failed", gettext_lazy("失败")),
            ("pending", gettext_lazy("等待结果超过10分钟")),
            ("refund", gettext_lazy("重复缴费待退费")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "failed":
            # A failure whose period the person has paid since (a retry, the
            # counter, another channel) needs nobody: it leaves the queue.
            return queryset.filter(status__in=FAILED_STATUSES).filter(~_period_paid())
        if self.value() == "pending":
            return queryset.filter(
                status__in=[PaymentStatus.STARTED, PaymentStatus.SUBMITTED],
                created_at__lt=timezone.now() - PENDING_TOO_LONG,
            )
        if self.value() == "refund":
            return queryset.filter(status=PaymentStatus.REFUND_PENDING)
        return queryset


class PaymentEventInline(admin.TabularInline):
    model = PaymentEvent
    template = "admin/edit_inline/events_tabular.html"
    extra = 0
    can_delete = False
    fields = ["at_display", "from_display", "to_display", "source_display"]
    fields += ["actor_display", "reason_display"]
    readonly_fields = fields

    def get_queryset(self, request):
        # The row's description (__str__) names the person, amount and channel.
        return (
            super()
            .get_queryset(request)
            .select_related("payment", "payment__insured", "actor")
        )

    @admin.display(description=gettext_lazy("时间"))
    def at_display(self, obj):
        return shown(obj.at)

    @admin.display(description=gettext_lazy("原状态"))
    def from_display(self, obj):
        return status_label(obj.from_status) if obj.from_status else "—"

    @admin.display(description=gettext_lazy("新状态"))
    def to_display(self, obj):
        return status_label(obj.to_status)

    @admin.display(description=gettext_lazy("来源"))
    def source_display(self, obj):
        return SOURCES.get(obj.source, obj.source or "—")

    @admin.display(description=gettext_lazy("经办人"))
    def actor_display(self, obj):
        return obj.actor.get_username() if obj.actor else "—"

    @admin.display(description=gettext_lazy("原因"))
    def reason_display(self, obj):
        return obj.reason or "—"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _deadline_column():
    """The 处理期限 column of one list page: a failed resident premium is due
    by the end of its year's collection window (集中参保期); an attempt still
    waiting for its channel by its next query. The windows are read once per
    page (a few policies), not once per row."""
    windows = None

    @admin.display(description=gettext_lazy("处理期限"))
    def deadline(obj):
        nonlocal windows
        if obj.status in FAILED_STATUSES and obj.scheme == Scheme.RESIDENT:
            if windows is None:
                windows = {
                    (region, str(year)): end
                    for region, year, end in Policy.objects.order_by().values_list(
                        "region_id", "year", "window_end"
                    )
                }
            end = windows.get((obj.order.region_id, obj.period))
            if end is None:
                return "—"
            if end < timezone.localdate():
                return format_html("{}（{}）", end, _("已过期"))
            return end
        if obj.status in (PaymentStatus.STARTED, PaymentStatus.SUBMITTED):
            return shown(obj.due_at)
        return "—"

    return deadline


@admin.register(Payment)
class PaymentAdmin(RegionScopedAdmin):
    region_field = "order__region"
    person_field = "insured"
    list_display = [
        "reference",
        "insured_name",
        "period",
        "amount_display",
        "channel",
        "status",
        "age_display",
        "deadline_display",
        created_column,
    ]
    list_filter = [AttentionFilter, "status", "channel"]
    exact_search_fields = ("reference", "provider_transaction_id", "insured__id_number")
    search_fields = list(exact_search_fields)
    search_help_text = gettext_lazy("输入完整的支付流水号、渠道交易号或18位身份证号")
    list_select_related = ["insured", "order", "tender"]
    fields = [
        "reference",
        "insured_display",
        "scheme_display",
        "period",
        "channel",
        "tender_display",
        "amount_display",
        "status",
        "failure_reason",
        "provider_transaction_id",
        "created_by_display",
        created_column,
        "settled_display",
        "due_display",
        "receipt_display",
    ]
    readonly_fields = fields
    inlines = [PaymentEventInline]
    actions = ["action_retry", "action_query", "action_refund"]
    ordering = ["-created_at"]
    change_list_template = "payments/admin_payment_change_list.html"
    change_form_template = "admin/payments/payment/change_form.html"

    def get_list_display(self, request):
        return [
            _deadline_column() if name == "deadline_display" else name
            for name in super().get_list_display(request)
        ]

    # --- columns ------------------------------------------------------------------

    @admin.display(description=gettext_lazy("参保人"))
    def insured_name(self, obj):
        return obj.insured.name

    @admin.display(description=gettext_lazy("参保人"))
    def insured_display(self, obj):
        return format_html(
            '<a href="{}">{}（{}）</a>',
            reverse("admin:people_person_change", args=[obj.insured_id]),
            obj.insured.name,
            obj.insured.id_masked,
        )

    @admin.display(description=gettext_lazy("险种"))
    def scheme_display(self, obj):
        return Scheme(obj.scheme).label if obj.scheme in Scheme.values else obj.scheme

    @admin.display(description=gettext_lazy("金额"), ordering="amount")
    def amount_display(self, obj):
        return format_yuan(obj.amount)

    @admin.display(description=gettext_lazy("收款方式"))
    def tender_display(self, obj):
        tender = getattr(obj, "tender", None)
        return tender.get_method_display() if tender else "—"

    @admin.display(description=gettext_lazy("已等待"), ordering="created_at")
    def age_display(self, obj):
        if obj.status == PaymentStatus.SUCCESS:
            return "—"
        return timesince(obj.created_at)

    @admin.display(description=gettext_lazy("处理期限"))
    def deadline_display(self, obj):
        return _deadline_column()(obj)

    @admin.display(description=gettext_lazy("发起人"))
    def created_by_display(self, obj):
        return obj.created_by.get_username() if obj.created_by else _("参保人本人")

    @admin.display(description=gettext_lazy("完成时间"))
    def settled_display(self, obj):
        return shown(obj.settled_at)

    @admin.display(description=gettext_lazy("下次向渠道查询"))
    def due_display(self, obj):
        return shown(obj.due_at)

    @admin.display(description=gettext_lazy("电子缴费凭证"))
    def receipt_display(self, obj):
        receipt = getattr(obj, "receipt", None)
        if receipt is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:payments_receipt_change", args=[receipt.pk]),
            receipt.number,
        )

    def has_add_permission(self, request):
        return False  # counter payments go through the counter workspace

    def has_delete_permission(self, request, obj=None):
        return False

    # --- actions on a payment's own page -------------------------------------------

    def get_urls(self):
        return [
            path(
                "<path:object_id>/act/<slug:name>/",
                self.admin_site.admin_view(self.object_action_view),
                name="payments_payment_act",
            ),
            *super().get_urls(),
        ]

    def _may_act(self, request) -> bool:
        return not self._is_auditor(request) and request.user.has_perm(
            "payments.change_payment"
        )

    def _guard(self, request):
        if not self._may_act(request):
            raise PermissionDenied

    def object_actions(self, request, obj) -> list[dict]:
        """The actions the machine allows on this payment, for those who may act."""
        if obj is None or not self._may_act(request):
            return []
        found = []
        if (
            obj.status in PAYMENT_MACHINE.sources(action="retry")
            and obj.channel in ONLINE_CHANNELS
        ):
            found.append(("retry", self.action_retry))
        if obj.status in PAYMENT_MACHINE.sources(action="give_up"):
            found.append(("query", self.action_query))
        if obj.status in PAYMENT_MACHINE.sources(action="refund_request"):
            found.append(("refund", self.action_refund))
        return [
            {
                "name": name,
                "label": action.short_description,
                "url": reverse("admin:payments_payment_act", args=[obj.pk, name]),
                "run": action,
            }
            for name, action in found
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_queryset(request).filter(pk=unquote(object_id)).first()
        extra_context = {
            **(extra_context or {}),
            "object_actions": self.object_actions(request, obj),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def object_action_view(self, request, object_id, name):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_queryset(request).filter(pk=unquote(object_id)).first()
        if obj is None:
            raise Http404
        self._guard(request)
        actions = {
            action["name"]: action for action in self.object_actions(request, obj)
        }
        action = actions.get(name)
        if action is None:
            self.message_user(
                request,
                _("该笔支付当前状态为“%(status)s”，不能办理此操作。")
                % {"status": obj.get_status_display()},
                messages.WARNING,
            )
        else:
            action["run"](request, self.get_queryset(request).filter(pk=obj.pk))
            self._record_access(
                request, obj, StaffAccess.Action.ACTION, str(action["label"])
            )
        return redirect("admin:payments_payment_change", obj.pk)

    # --- list actions (also run from a payment's page) --------------------------------

    @admin.action(description=gettext_lazy("补扣：为失败的缴费重新发起支付"))
    def action_retry(self, request, queryset):
        self._guard(request)
        done = 0
        for payment in queryset.filter(
            status__in=PAYMENT_MACHINE.sources(action="retry"),
            channel__in=ONLINE_CHANNELS,
        ):
            try:
                services.payment_retry(
                    user=request.user,
                    payment_id=payment.pk,
                    channel=payment.channel,
                    idempotency_key=new_key(),
                    source="staff",
                )
                done += 1
            except DomainError as error:
                self.message_user(
                    request, f"{payment.reference}: {error.message}", messages.WARNING
                )
        self.message_user(request, _("已重新发起 %(n)d 笔支付。") % {"n": done})

    @admin.action(description=gettext_lazy("向渠道查询支付结果"))
    def action_query(self, request, queryset):
        self._guard(request)
        for payment in queryset.filter(
            status__in=PAYMENT_MACHINE.sources(action="give_up")
        ):
            services.payment_query(payment_id=payment.pk, source="staff")
        self.message_user(request, _("已向渠道查询。"))

    @admin.action(description=gettext_lazy("退费（原路退回）"))
    def action_refund(self, request, queryset):
        self._guard(request)
        done = 0
        for payment in queryset.filter(
            status__in=PAYMENT_MACHINE.sources(action="refund_request")
        ):
            services.refund_request(payment_id=payment.pk, staff=request.user)
            done += 1
        self.message_user(request, _("已提交 %(n)d 笔退费。") % {"n": done})


class ReadOnlyScoped(RegionScopedAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _scheme_label(value):
    return Scheme(value).label if value in Scheme.values else value


@admin.register(Order)
class OrderAdmin(ReadOnlyScoped):
    region_field = "region"
    person_field = "insured"
    list_display = [
        "insured",
        field_column("scheme", gettext_lazy("险种"), show=_scheme_label),
        "period",
        "kind",
        field_column("total", gettext_lazy("应缴合计"), show=format_yuan),
        created_column,
    ]
    list_select_related = ["insured"]
    exact_search_fields = ("insured__id_number",)
    search_fields = list(exact_search_fields)
    search_help_text = gettext_lazy("输入完整的18位身份证号")
    fields = [
        "insured",
        "payer",
        "enrollment",
        "region",
        field_column("scheme", gettext_lazy("险种"), show=_scheme_label),
        "period",
        field_column("periods", gettext_lazy("包含期间"), show=", ".join),
        "kind",
        "category",
        "months",
        field_column("personal_amount", gettext_lazy("个人缴费"), show=format_yuan),
        field_column("subsidy", gettext_lazy("财政补助（不需缴纳）"), show=format_yuan),
        field_column("late_fee", gettext_lazy("滞纳金"), show=format_yuan),
        field_column("total", gettext_lazy("应缴合计"), show=format_yuan),
        "note",
        field_column("created_by", gettext_lazy("经办人")),
        created_column,
    ]
    readonly_fields = fields


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyScoped):
    region_field = "payment__order__region"
    list_display = [
        "number",
        "insured_name",
        "period",
        field_column("amount", gettext_lazy("金额"), show=format_yuan),
        "channel",
        "paid_at",
    ]
    exact_search_fields = ("number", "verification_code")
    search_fields = list(exact_search_fields)
    fields = [
        "number",
        "verification_code",
        "payer_name",
        "insured_name",
        "insured_id_masked",
        "scheme",
        "region_name",
        "period",
        field_column("amount", gettext_lazy("金额"), show=format_yuan),
        "channel",
        "transaction_id",
        "paid_at",
    ]
    readonly_fields = fields


@admin.register(Refund)
class RefundAdmin(ReadOnlyScoped):
    region_field = "payment__order__region"
    list_display = [
        field_column("payment", gettext_lazy("支付记录")),
        field_column("amount", gettext_lazy("退费金额"), show=format_yuan),
        "status",
        "reason",
        created_column,
        field_column("done_at", gettext_lazy("退回时间")),
    ]
    list_select_related = ["payment"]
    fields = list_display
    readonly_fields = fields


@admin.register(FamilyBinding)
class FamilyBindingAdmin(ReadOnlyScoped):
    region_field = "authoriser__region"
    person_field = "authoriser"
    list_display = ["authoriser", "relative", "relation", "status", created_column]
    list_select_related = ["authoriser", "relative"]
    fields = [
        "authoriser",
        "relative",
        "relation",
        "status",
        created_column,
        field_column("consented_at", gettext_lazy("同意时间")),
        field_column("ended_at", gettext_lazy("解除时间")),
    ]
    readonly_fields = fields


@admin.register(PersonalAccount)
class PersonalAccountAdmin(ReadOnlyScoped):
    region_field = "region"
    person_field = "person"
    list_display = [
        field_column("person", gettext_lazy("参保人")),
        field_column("region", gettext_lazy("统筹区")),
        field_column("balance", gettext_lazy("余额"), show=format_yuan),
    ]
    list_select_related = ["person", "region"]
    fields = list_display
    readonly_fields = fields


@admin.register(CallbackLog)
class CallbackLogAdmin(ReadOnlyScoped):
    region_field = "payment__order__region"
    list_display = [
        field_column("received_at", gettext_lazy("收到时间")),
        field_column("channel", gettext_lazy("渠道"), show=lambda c: _channel(c)),
        field_column("outcome", gettext_lazy("处理结果")),
        field_column("payment", gettext_lazy("支付记录")),
    ]
    list_filter = [
        (
            "outcome",
            titled_filter(admin.AllValuesFieldListFilter, gettext_lazy("处理结果")),
        ),
        (
            "channel",
            titled_filter(admin.AllValuesFieldListFilter, gettext_lazy("渠道")),
        ),
    ]
    list_select_related = ["payment"]
    fields = [
        *list_display,
        field_column("nonce", gettext_lazy("随机数")),
        field_column("timestamp", gettext_lazy("时间戳")),
        field_column("body", gettext_lazy("内容")),
    ]
    readonly_fields = fields


def _channel(value):
    return Channel(value).label if value in Channel.values else value


def _day_close_lines(close) -> str:
    labels = dict(Tender.choices)
    return "；".join(
        _("%(tender)s %(count)s 笔 %(payments)s，凭证 %(receipts)s，实收 %(counted)s")
        % {
            "tender": labels.get(line.get("tender"), _("收款方式未登记")),
            "count": line.get("count", 0),
            "payments": format_yuan(line.get("payments") or 0),
            "receipts": format_yuan(line.get("receipts") or 0),
            "counted": format_yuan(line.get("counted") or 0),
        }
        for line in close.lines
    )


@admin.register(DayClose)
class DayCloseAdmin(ReadOnlyScoped):
    """日结对账 records: written by payments.services.day_close_record only."""

    region_field = "region"
    list_display = [
        "day",
        "clerk",
        "payments_count",
        field_column("receipts_total", gettext_lazy("凭证合计"), show=format_yuan),
        field_column("counted_total", gettext_lazy("实收合计"), show=format_yuan),
        field_column("difference", gettext_lazy("长短款"), show=format_yuan),
        "closed_by",
        "closed_at",
    ]
    list_select_related = ["clerk", "closed_by"]
    list_filter = ["day"]
    fields = [
        "region",
        "day",
        "clerk",
        admin.display(description=gettext_lazy("分收款方式明细"))(_day_close_lines),
        "payments_count",
        field_column("payments_total", gettext_lazy("窗口缴费合计"), show=format_yuan),
        field_column("receipts_total", gettext_lazy("凭证合计"), show=format_yuan),
        field_column("counted_total", gettext_lazy("实收合计"), show=format_yuan),
        field_column("difference", gettext_lazy("长短款"), show=format_yuan),
        "note",
        "closed_by",
        "closed_at",
    ]
    readonly_fields = fields
    ordering = ["-day", "clerk__username"]


class SimChannelScriptForm(forms.ModelForm):
    class Meta:
        model = SimChannelScript
        fields = ["channel", "behaviour", "delay_seconds", "used"]
        labels = {
            "channel": gettext_lazy("渠道"),
            "behaviour": gettext_lazy("行为"),
            "delay_seconds": gettext_lazy("延迟（秒）"),
            "used": gettext_lazy("已使用"),
        }


@admin.register(SimChannelScript)
class SimChannelScriptAdmin(admin.ModelAdmin):
    """Demo only: how the simulated channels answer their next requests."""

    form = SimChannelScriptForm

    list_display = [
        field_column("channel", gettext_lazy("渠道"), show=lambda c: _channel(c)),
        field_column("behaviour", gettext_lazy("行为")),
        field_column("delay_seconds", gettext_lazy("延迟（秒）")),
        field_column("used", gettext_lazy("已使用")),
        created_column,
    ]
