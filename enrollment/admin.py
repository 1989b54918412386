"""Staff site for enrollment: the policy tables (supervisors edit, clerks read)
and the enrollments of the staff member's region (read-only; status changes go
through the services, category verification through an action)."""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.money import format_yuan
from people.admin import created_column, field_column
from people.admin_base import RegionScopedAdmin
from people.models import Role

from . import rules, services
from .models import (
    BASE_RATIO_MAX,
    BASE_RATIO_MIN,
    FLEXIBLE_RATE_MAX,
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    Policy,
    PolicyCategory,
    Verification,
)


def _may_edit_policy(request) -> bool:
    """Supervisors edit their region's policy tables; clerks only read them."""
    user = request.user
    return user.is_superuser or getattr(user, "role", None) == Role.SUPERVISOR


class PolicyForm(forms.ModelForm):
    class Meta:
        model = Policy
        fields = [
            "region",
            "year",
            "window_start",
            "window_end",
            "benefit_start",
            "benefit_end",
            "newborn_days",
            "waiting_fixed_months",
            "waiting_per_gap_year",
            "long_gap_years",
            "long_gap_min_months",
            "average_wage",
            "base_min_ratio",
            "base_max_ratio",
            "flexible_rate",
            "flexible_waiting_months",
            "backpay_max_months",
            "late_fee_enabled",
            "late_fee_daily_rate",
        ]

    def clean(self):
        data = super().clean()
        start, end = data.get("window_start"), data.get("window_end")
        if start and end and start > end:
            self.add_error("window_end", _("集中参保期结束日期不能早于开始日期。"))
        b_start, b_end = data.get("benefit_start"), data.get("benefit_end")
        if b_start and b_end and b_start > b_end:
            self.add_error("benefit_end", _("待遇期结束日期不能早于开始日期。"))
        low, high = data.get("base_min_ratio"), data.get("base_max_ratio")
        if low is not None and low < BASE_RATIO_MIN:
            self.add_error(
                "base_min_ratio",
                _("缴费基数下限不能低于上年度月平均工资的%(percent)s%%（%(ratio)s）。")
                % {"percent": rules.percent(BASE_RATIO_MIN), "ratio": BASE_RATIO_MIN},
            )
        if high is not None and high > BASE_RATIO_MAX:
            self.add_error(
                "base_max_ratio",
                _("缴费基数上限不能高于上年度月平均工资的%(percent)s%%（%(ratio)s）。")
                % {"percent": rules.percent(BASE_RATIO_MAX), "ratio": BASE_RATIO_MAX},
            )
        if low is not None and high is not None and low > high:
            self.add_error("base_max_ratio", _("缴费基数上限比例不能低于下限比例。"))
        wage = data.get("average_wage")
        if wage is not None and wage <= 0:
            self.add_error("average_wage", _("上年度月平均工资应大于0。"))
        rate = data.get("flexible_rate")
        if rate is not None and not 0 < rate < FLEXIBLE_RATE_MAX:
            self.add_error(
                "flexible_rate",
                _("缴费费率应大于0且小于%(max)s（%(percent)s%%）。")
                % {
                    "max": FLEXIBLE_RATE_MAX,
                    "percent": rules.percent(FLEXIBLE_RATE_MAX),
                },
            )
        fee = data.get("late_fee_daily_rate")
        if fee is not None and fee < 0:
            self.add_error("late_fee_daily_rate", _("滞纳金日费率不能为负数。"))
        region = data.get("region")
        if region and start and end and start <= end:
            overlapping = Policy.objects.filter(
                region=region, window_start__lte=end, window_end__gte=start
            )
            if self.instance.pk:
                overlapping = overlapping.exclude(pk=self.instance.pk)
            other = overlapping.first()
            if other is not None:
                self.add_error(
                    "window_start",
                    _(
                        "与%(year)d年度的集中参保期（%(start)s至%(end)s）重叠，同一统筹区的参保期不能重叠。"
                    )
                    % {
                        "year": other.year,
                        "start": other.window_start,
                        "end": other.window_end,
                    },
                )
        return data


class PolicyCategoryForm(forms.ModelForm):
    class Meta:
        model = PolicyCategory
        fields = [
            "policy",
            "category",
            "personal_amount",
            "subsidy",
            "needs_verification",
            "exempt_from_waiting",
        ]

    def clean(self):
        data = super().clean()
        for field in ("personal_amount", "subsidy"):
            value = data.get(field)
            if value is not None and value < 0:
                self.add_error(field, _("金额不能为负数。"))
        return data


class PolicyCategoryInline(admin.TabularInline):
    model = PolicyCategory
    form = PolicyCategoryForm
    extra = 0

    def has_add_permission(self, request, obj=None):
        return _may_edit_policy(request) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return _may_edit_policy(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Policy)
class PolicyAdmin(RegionScopedAdmin):
    """参保政策: one region's figures for one benefit year."""

    form = PolicyForm
    inlines = [PolicyCategoryInline]
    list_display = (
        "region",
        "year",
        "window_start",
        "window_end",
        field_column("average_wage", _("上年度月平均工资"), show=format_yuan),
        "flexible_rate",
        "newborn_days",
    )
    list_filter = ("year", "region")
    list_select_related = ("region",)
    ordering = ("region", "-year")
    fieldsets = (
        (None, {"fields": ("region", "year")}),
        (
            _("城乡居民医保"),
            {
                "fields": (
                    ("window_start", "window_end"),
                    ("benefit_start", "benefit_end"),
                    "newborn_days",
                    ("waiting_fixed_months", "waiting_per_gap_year"),
                    ("long_gap_years", "long_gap_min_months"),
                )
            },
        ),
        (
            _("灵活就业人员职工医保"),
            {
                "fields": (
                    "average_wage",
                    ("base_min_ratio", "base_max_ratio"),
                    "flexible_rate",
                    "flexible_waiting_months",
                    "backpay_max_months",
                    ("late_fee_enabled", "late_fee_daily_rate"),
                )
            },
        ),
    )

    def has_add_permission(self, request):
        return _may_edit_policy(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return _may_edit_policy(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser  # enrollments refer to a policy's year


def _status_label(value: str) -> str:
    try:
        return str(EnrollmentStatus(value).label)
    except ValueError:
        return value or "—"


class EnrollmentEventInline(admin.TabularInline):
    model = EnrollmentEvent
    template = "admin/edit_inline/events_tabular.html"
    extra = 0
    can_delete = False
    fields = (
        field_column("at", _("时间")),
        field_column("from_status", _("原状态"), show=_status_label),
        field_column("to_status", _("新状态"), show=_status_label),
        field_column("actor", _("经办人"), show=lambda user: user.get_username()),
        field_column("reason", _("原因")),
        "evidence",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _verification_deadline_column():
    """审核期限 of one list page: a category waiting for verification should
    be decided before the year's collection window ends, so the citizen can
    still pay the price it carries. The windows are read once per page."""
    windows = None

    @admin.display(description=_("审核期限"))
    def deadline(obj):
        nonlocal windows
        if obj.verification != Verification.PENDING:
            return "—"
        if windows is None:
            windows = {
                (region, year): end
                for region, year, end in Policy.objects.order_by().values_list(
                    "region_id", "year", "window_end"
                )
            }
        end = windows.get((obj.region_id, obj.year))
        if end is None:
            return "—"
        if end < timezone.localdate():
            return format_html("{}（{}）", end, gettext("已过期"))
        return end

    return deadline


class PendingVerificationFilter(admin.SimpleListFilter):
    title = _("类别审核")
    parameter_name = "verification"

    def lookups(self, request, model_admin):
        return Verification.choices

    def queryset(self, request, queryset):
        if self.value() in Verification.values:
            return queryset.filter(verification=self.value())
        return queryset


@admin.register(Enrollment)
class EnrollmentAdmin(RegionScopedAdmin):
    """参保登记 of the region: read-only here; a reduced category is approved
    or rejected by the actions below."""

    region_field = "region"
    person_field = "person"
    list_display = (
        "reference",
        "person",
        "region",
        "scheme",
        "year",
        "status",
        "category",
        "verification",
        "waiting_months",
        "coverage_start",
        "age_display",
        "deadline_display",
    )
    list_filter = (PendingVerificationFilter, "status", "scheme", "year", "region")
    list_select_related = ("person", "region")
    exact_search_fields = ("person__id_number", "person__name")
    search_fields = list(exact_search_fields)
    ordering = ("-year", "-id")
    inlines = [EnrollmentEventInline]
    actions = ["approve_category", "reject_category"]
    readonly_fields = (
        "reference",
        "person",
        "region",
        "scheme",
        "year",
        "status",
        "category",
        "verification",
        "verification_note",
        "is_newborn",
        field_column("contribution_base", _("缴费基数"), show=format_yuan),
        "gap_years",
        "repaired_years",
        "waiting_months",
        "waiting_reason",
        "coverage_start",
        "coverage_end",
        "paid_on",
        "suspend_reason",
        field_column("registered_by", _("登记经办人")),
        created_column,
        field_column("updated_at", _("更新时间")),
    )
    fields = readonly_fields

    @admin.display(description=_("登记编号"))
    def reference(self, obj):
        return obj.reference

    def get_list_display(self, request):
        return [
            _verification_deadline_column() if name == "deadline_display" else name
            for name in super().get_list_display(request)
        ]

    @admin.display(description=_("已等待"), ordering="created_at")
    def age_display(self, obj):
        """How long a category has waited for verification (the queue's age)."""
        if obj.verification != Verification.PENDING:
            return "—"
        return timesince(obj.created_at)

    @admin.display(description=_("审核期限"))
    def deadline_display(self, obj):
        return _verification_deadline_column()(obj)

    def has_add_permission(self, request):
        return False  # registrations are made through the citizen pages or the counter service

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The record itself is read-only (status changes only through services);
        # the list keeps "change" so the verification actions are offered.
        if obj is not None:
            return False
        return super().has_change_permission(request, obj)

    def _verify(self, request, queryset, *, approve: bool):
        done = 0
        for enrollment_id in queryset.filter(
            verification=Verification.PENDING
        ).values_list("pk", flat=True):
            try:
                services.enrollment_verify_category(
                    actor=request.user,
                    enrollment_id=enrollment_id,
                    approve=approve,
                    note=""
                    if approve
                    else str(_("经办审核未通过，按普通居民标准缴费")),
                )
            except DomainError as error:
                self.message_user(
                    request, f"{enrollment_id}: {error.message}", messages.ERROR
                )
            else:
                done += 1
        self.message_user(
            request,
            ngettext(
                "已审核 %(count)d 条参保登记。", "已审核 %(count)d 条参保登记。", done
            )
            % {"count": done},
            messages.SUCCESS,
        )

    @admin.action(description=_("审核通过所选的人员类别"), permissions=["change"])
    def approve_category(self, request, queryset):
        self._verify(request, queryset, approve=True)

    @admin.action(
        description=_("审核不通过（改按普通居民标准）"), permissions=["change"]
    )
    def reject_category(self, request, queryset):
        self._verify(request, queryset, approve=False)
