"""Staff pages: payments of the staff member's region, with the actions that
go through services, and counter payment entry (窗口缴费)."""

import datetime as dt

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError
from people.admin_base import RegionScopedAdmin

from . import services
from .forms import CounterForm, new_key
from .models import (
    ONLINE_CHANNELS,
    PAYMENT_MACHINE,
    CallbackLog,
    FamilyBinding,
    Order,
    Payment,
    PaymentEvent,
    PaymentStatus,
    PersonalAccount,
    Receipt,
    Refund,
    SimChannelScript,
)

PENDING_TOO_LONG = dt.timedelta(minutes=10)


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
            return queryset.filter(
                status__in=[PaymentStatus.FAILED, PaymentStatus.ERROR]
            )
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
    extra = 0
    can_delete = False
    readonly_fields = ["at", "from_status", "to_status", "source", "actor", "reason"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(RegionScopedAdmin):
    region_field = "order__region"
    person_field = "insured"
    list_display = [
        "reference",
        "insured_name",
        "period",
        "amount",
        "channel",
        "status",
        "created_at",
    ]
    list_filter = [AttentionFilter, "status", "channel"]
    exact_search_fields = ("reference", "provider_transaction_id", "insured__id_number")
    search_fields = list(exact_search_fields)
    search_help_text = gettext_lazy("输入完整的支付流水号、渠道交易号或18位身份证号")
    list_select_related = ["insured", "order"]
    readonly_fields = [f.name for f in Payment._meta.fields]
    inlines = [PaymentEventInline]
    actions = ["action_retry", "action_query", "action_refund"]
    ordering = ["-created_at"]
    change_list_template = "payments/admin_payment_change_list.html"

    @admin.display(description=gettext_lazy("参保人"))
    def insured_name(self, obj):
        return obj.insured.name

    def has_add_permission(self, request):
        return False  # counter payments go through the counter page, which calls the service

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        urls = [
            path(
                "counter/",
                self.admin_site.admin_view(self.counter_view),
                name="payments_counter",
            )
        ]
        return urls + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "counter_url": reverse("admin:payments_counter"),
        }
        return super().changelist_view(request, extra_context)

    def _guard(self, request):
        if self._is_auditor(request) or not request.user.has_perm(
            "payments.change_payment"
        ):
            raise PermissionDenied

    def counter_view(self, request):
        """窗口缴费: the clerk has taken the money; the service settles at once."""
        self._guard(request)
        form = CounterForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            from enrollment.models import Enrollment

            enrollment = Enrollment.objects.filter(
                pk=form.cleaned_data["enrollment_id"]
            ).first()
            if (
                enrollment is None
                or enrollment.person.id_number != form.cleaned_data["id_number"]
            ):
                form.add_error("id_number", _("参保登记编号与身份证号不一致，请核对。"))
            else:
                try:
                    payment = services.payment_counter(
                        staff=request.user,
                        enrollment_id=enrollment.pk,
                        idempotency_key=form.cleaned_data["idempotency_key"],
                        months_ahead=form.cleaned_data["months"],
                    )
                except DomainError as error:
                    form.add_error(None, error.message)
                else:
                    self.message_user(
                        request,
                        _("窗口缴费已入账：%(ref)s") % {"ref": payment.reference},
                        messages.SUCCESS,
                    )
                    return redirect("admin:payments_payment_change", payment.pk)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": _("窗口缴费"),
            "opts": self.model._meta,
        }
        return TemplateResponse(
            request,
            "payments/admin_counter.html",
            context,
            status=400 if form.errors else 200,
        )

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


@admin.register(Order)
class OrderAdmin(ReadOnlyScoped):
    region_field = "region"
    person_field = "insured"
    list_display = ["id", "insured", "scheme", "period", "kind", "total", "created_at"]
    list_select_related = ["insured"]
    exact_search_fields = ("insured__id_number",)
    search_fields = list(exact_search_fields)
    search_help_text = gettext_lazy("输入完整的18位身份证号")


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyScoped):
    region_field = "payment__order__region"
    list_display = ["number", "insured_name", "period", "amount", "channel", "paid_at"]
    exact_search_fields = ("number", "verification_code")
    search_fields = list(exact_search_fields)


@admin.register(Refund)
class RefundAdmin(ReadOnlyScoped):
    region_field = "payment__order__region"
    list_display = ["payment", "amount", "status", "reason", "created_at", "done_at"]
    list_select_related = ["payment"]


@admin.register(FamilyBinding)
class FamilyBindingAdmin(ReadOnlyScoped):
    region_field = "authoriser__region"
    person_field = "authoriser"
    list_display = ["authoriser", "relative", "relation", "status", "created_at"]
    list_select_related = ["authoriser", "relative"]


@admin.register(PersonalAccount)
class PersonalAccountAdmin(ReadOnlyScoped):
    region_field = "region"
    person_field = "person"
    list_display = ["person", "region", "balance"]
    list_select_related = ["person", "region"]


@admin.register(CallbackLog)
class CallbackLogAdmin(ReadOnlyScoped):
    region_field = "payment__order__region"
    list_display = ["received_at", "channel", "outcome", "payment"]
    list_filter = ["outcome", "channel"]


@admin.register(SimChannelScript)
class SimChannelScriptAdmin(admin.ModelAdmin):
    """Demo only: how the simulated channels answer their next requests."""

    list_display = ["channel", "behaviour", "delay_seconds", "used", "created_at"]
