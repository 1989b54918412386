"""Staff-site pages of the shared records: regions, persons, logins, the
working-day calendar, the site inbox, the "who looked" log and the audit log."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .admin_base import RegionScopedAdmin, StaffAdminMixin
from .models import CalendarDay, CalendarYear, Notification, Person, Region, Role, StaffAccess, User
from .roles import STAFF_ROLES

admin.site.site_header = _("医保经办后台")
admin.site.site_title = _("医保经办后台")
admin.site.index_title = _("经办业务")
admin.site.index_template = "admin/portal_index.html"


@admin.register(Region)
class RegionAdmin(RegionScopedAdmin):
    """Supervisors set how their own region handles transfer steps."""

    region_field = "pk"
    list_display = ["code", "name", "province", "transfer_processing"]
    fields = ["code", "name", "province", "transfer_processing"]

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ["code"] if obj else []
        return ["code", "name", "province"]


class PersonForm(forms.ModelForm):
    class Meta:
        model = Person
        fields = ["mobile"]

    def clean_mobile(self):
        from .forms import clean_mobile_value

        value = (self.cleaned_data.get("mobile") or "").strip()
        return clean_mobile_value(value) if value else ""


@admin.register(Person)
class PersonAdmin(RegionScopedAdmin):
    """参保人: searched by exact identity number, or by exact name within the
    region (both indexed); numbers masked; never deleted."""

    region_field = "region"
    list_display = ["name", "id_masked_display", "sex", "birth_date", "mobile_masked_display", "region"]
    list_select_related = ["region"]
    list_filter = ["sex"]
    search_fields = ["name"]  # the real search is get_search_results (indexed lookups only)
    search_help_text = _("输入完整的18位身份证号，或完整的姓名")
    form = PersonForm
    fields = ["name", "id_masked_display", "sex", "birth_date", "mobile", "region", "created_at"]
    readonly_fields = ["name", "id_masked_display", "sex", "birth_date", "region", "created_at"]
    ordering = ["-id"]

    @admin.display(description=_("身份证号"))
    def id_masked_display(self, obj):
        return obj.id_masked

    @admin.display(description=_("手机号"))
    def mobile_masked_display(self, obj):
        return obj.mobile_masked

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        if len(term) == 18 and term[:17].isdigit():
            # An identity number: the unique index, exact match only.
            return queryset.filter(id_number=term.upper()), False
        return queryset.filter(name=term), False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        # Persons are registered through the counter form (identity checked,
        # name matched, placed in the staff member's region).
        return HttpResponseRedirect(reverse("staff:counter_person"))


@admin.register(User)
class UserAdmin(StaffAdminMixin, DjangoUserAdmin):
    """Logins, managed by the superuser only. A citizen's password (even its
    hash summary) is never shown; staff passwords can be reset."""

    list_display = ["username", "role", "region", "mobile_masked", "is_staff", "is_active", "last_login"]
    list_filter = ["role", "region", "is_staff", "is_active"]
    list_select_related = ["region"]
    search_fields = ["=username"]
    ordering = ["username"]
    raw_id_fields = ["person"]
    readonly_fields = ["last_login", "date_joined"]
    add_fieldsets = (
        (None, {"classes": ["wide"], "fields": ["username", "role", "region", "password1", "password2"]}),
    )

    @admin.display(description=_("手机号"))
    def mobile_masked(self, obj):
        from .identity import mask_mobile

        return mask_mobile(obj.mobile)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        account = [_("账号"), {"fields": ["username", "password"] if obj.role != Role.CITIZEN else ["username"]}]
        return (
            tuple(account),
            (_("个人信息"), {"fields": ["first_name", "last_name", "email", "person"]}),
            (_("角色与统筹区"), {"fields": ["role", "region", "is_active", "is_staff", "is_superuser", "groups"]}),
            (_("时间"), {"fields": ["last_login", "date_joined"]}),
        )

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None and obj.role == Role.CITIZEN and "password" in form.base_fields:
            del form.base_fields["password"]
        return form

    def save_model(self, request, obj, form, change):
        # A staff role needs the staff site; a citizen gets no staff flag.
        obj.is_staff = obj.role in STAFF_ROLES or obj.is_superuser
        super().save_model(request, obj, form, change)

    def _superuser_only(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request):
        return self._superuser_only(request)

    def has_view_permission(self, request, obj=None):
        return self._superuser_only(request)

    def has_add_permission(self, request):
        return self._superuser_only(request)

    def has_change_permission(self, request, obj=None):
        return self._superuser_only(request)

    def has_delete_permission(self, request, obj=None):
        return False


class CalendarYearForm(forms.ModelForm):
    class Meta:
        model = CalendarYear
        fields = ["year", "published", "note"]

    def clean(self):
        cleaned = super().clean()
        year = cleaned.get("year")
        if cleaned.get("published") and year and not CalendarDay.objects.filter(date__year=year).exists():
            # Publishing an empty year would make Monday–Friday "exact" and
            # hide every holiday: the schedule comes first.
            self.add_error("published", gettext(
                "请先在“工作日历”中录入 %(year)s 年的放假和调休安排，再标记该年已公布。"
            ) % {"year": year})
        return cleaned


# Called with the year when a year is marked published, so that stored
# deadlines computed as estimates can be computed again, now exactly.
# "module:function" strings; a module or function that does not exist yet is skipped.
CALENDAR_PUBLISHED_HOOKS = ["transfers.services:transfer_deadlines_recompute"]


def calendar_published(year: int) -> None:
    import importlib

    for target in CALENDAR_PUBLISHED_HOOKS:
        module_name, func_name = target.split(":")
        try:
            func = getattr(importlib.import_module(module_name), func_name)
        except (ImportError, AttributeError):
            continue
        func(year=year)


@admin.register(CalendarYear)
class CalendarYearAdmin(StaffAdminMixin, admin.ModelAdmin):
    """A year whose State Council holiday schedule has been entered: marking it
    published makes every deadline computed through it exact."""

    form = CalendarYearForm
    list_display = ["year", "published", "note"]

    def save_model(self, request, obj, form, change):
        was_published = change and CalendarYear.objects.filter(pk=obj.pk, published=True).exists()
        super().save_model(request, obj, form, change)
        if obj.published and not was_published:
            calendar_published(obj.year)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CalendarDay)
class CalendarDayAdmin(StaffAdminMixin, admin.ModelAdmin):
    """Holidays on weekdays and make-up working days (调休) on weekends."""

    list_display = ["date", "is_working_day", "note", "weekday"]
    list_filter = ["is_working_day"]
    date_hierarchy = "date"
    search_fields = ["note"]
    ordering = ["-date"]

    @admin.display(description=_("星期"))
    def weekday(self, obj):
        names = [gettext("周一"), gettext("周二"), gettext("周三"), gettext("周四"),
                 gettext("周五"), gettext("周六"), gettext("周日")]
        return names[obj.date.weekday()]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not CalendarYear.objects.filter(year=obj.date.year, published=True).exists():
            messages.info(
                request,
                gettext("录入完 %(year)s 年全部放假和调休安排后，请在“工作日历年度”中标记该年已公布，期限才会显示为准确日期。")
                % {"year": obj.date.year},
            )

    def has_delete_permission(self, request, obj=None):
        # A wrongly entered day is corrected by changing it; supervisors may
        # remove one they added by mistake.
        return super().has_delete_permission(request, obj) or (
            getattr(request.user, "role", None) == Role.SUPERVISOR
            and request.user.has_perm("portal.change_calendarday")
        )


class ReadOnlyMixin:
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyMixin, RegionScopedAdmin):
    region_field = "person__region"
    person_field = "person"
    list_display = ["subject", "person", "created_at", "read_at"]
    list_select_related = ["person"]
    fields = ["person", "subject", "body", "url", "created_at", "read_at"]
    readonly_fields = fields
    ordering = ["-created_at"]
    date_hierarchy = None


@admin.register(StaffAccess)
class StaffAccessAdmin(ReadOnlyMixin, RegionScopedAdmin):
    """查询记录: who among staff viewed or changed whose record."""

    region_field = "person__region"
    list_display = ["at", "staff", "action", "what", "person"]
    list_select_related = ["staff", "person"]
    list_filter = ["action"]
    fields = ["at", "staff", "action", "what", "person"]
    readonly_fields = fields
    ordering = ["-at"]


class SuperuserOnlyMixin:
    """Pages that manage logins and their permissions: the superuser's alone."""

    def _superuser_only(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request):
        return self._superuser_only(request)

    def has_view_permission(self, request, obj=None):
        return self._superuser_only(request)

    def has_add_permission(self, request, *args):
        return self._superuser_only(request)

    def has_change_permission(self, request, obj=None):
        return self._superuser_only(request)

    def has_delete_permission(self, request, obj=None):
        return self._superuser_only(request)

    def get_actions(self, request):
        return super().get_actions(request) if self._superuser_only(request) else {}


def _superuser_only_admins(app_labels=("auth", "axes")):
    """The admins of third-party apps that manage logins (role groups, login
    lockouts): re-registered so that only the superuser sees them. Role groups
    are rebuilt from portal.roles after every migrate anyway."""
    for model, model_admin in list(admin.site._registry.items()):
        if model._meta.app_label not in app_labels or isinstance(model_admin, SuperuserOnlyMixin):
            continue
        cls = type(model_admin)
        admin.site.unregister(model)
        admin.site.register(model, type(f"SuperuserOnly{cls.__name__}", (SuperuserOnlyMixin, cls), {}))


_superuser_only_admins()


def _register_audit_log_admin():
    """Replace auditlog's admin with one nobody can edit or delete from, seen by
    auditors and the superuser."""
    from auditlog.admin import LogEntryAdmin
    from auditlog.models import LogEntry

    class AuditLogEntryAdmin(ReadOnlyMixin, StaffAdminMixin, LogEntryAdmin):
        show_full_result_count = False

    if admin.site.is_registered(LogEntry):
        admin.site.unregister(LogEntry)
    admin.site.register(LogEntry, AuditLogEntryAdmin)


_register_audit_log_admin()

