"""The staff site as a whole: its titles and index, the pages of the core
records (regions, the working-day calendar), the audit log, and the login
and lockout pages of third-party apps kept to the superuser."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.models import CalendarDay, CalendarYear, Region
from core.signals import calendar_published
from people.admin_base import ReadOnlyMixin, RegionScopedAdmin, StaffAdminMixin
from people.models import Role

admin.site.site_header = _("医保经办后台")
admin.site.site_title = _("医保经办后台")
admin.site.index_title = _("经办业务")
admin.site.index_template = "admin/portal_index.html"
# No model sidebar on every change list: building and rendering it for ~30
# models was half of a search's Python (bench/NOTES.md, admin search); the
# staff index (queues, the counter, every model by app) and breadcrumbs remain.
admin.site.enable_nav_sidebar = False


@admin.register(Region)
class RegionAdmin(RegionScopedAdmin):
    """Supervisors set how their own region handles transfer steps."""

    region_field = "pk"
    list_display = ["code", "name", "name_en", "province", "transfer_processing"]
    fields = [
        "code",
        ("name", "name_en"),
        ("province", "province_en"),
        "transfer_processing",
    ]

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ["code"] if obj else []
        return ["code", "name", "province", "name_en", "province_en"]


class CalendarYearForm(forms.ModelForm):
    class Meta:
        model = CalendarYear
        fields = ["year", "published", "note"]

    def clean(self):
        cleaned = super().clean()
        year = cleaned.get("year")
        if (
            cleaned.get("published")
            and year
            and not CalendarDay.objects.filter(date__year=year).exists()
        ):
            # Publishing an empty year would make Monday–Friday "exact" and
            # hide every holiday: the schedule comes first.
            self.add_error(
                "published",
                gettext(
                    "请先在“工作日历”中录入 %(year)s 年的放假和调休安排，再标记该年已公布。"
                )
                % {"year": year},
            )
        return cleaned


@admin.register(CalendarYear)
class CalendarYearAdmin(StaffAdminMixin, admin.ModelAdmin):
    """A year whose State Council holiday schedule has been entered: marking it
    published makes every deadline computed through it exact."""

    form = CalendarYearForm
    list_display = ["year", "published", "note"]

    def save_model(self, request, obj, form, change):
        was_published = (
            change and CalendarYear.objects.filter(pk=obj.pk, published=True).exists()
        )
        super().save_model(request, obj, form, change)
        if obj.published and not was_published:
            # Deadlines computed as estimates through this year are now exact
            # (transfers receives this and recomputes them).
            calendar_published.send(sender=CalendarYear, year=obj.year)

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
        names = [
            gettext("周一"),
            gettext("周二"),
            gettext("周三"),
            gettext("周四"),
            gettext("周五"),
            gettext("周六"),
            gettext("周日"),
        ]
        return names[obj.date.weekday()]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not CalendarYear.objects.filter(year=obj.date.year, published=True).exists():
            messages.info(
                request,
                gettext(
                    "录入完 %(year)s 年全部放假和调休安排后，请在“工作日历年度”中标记该年已公布，期限才会显示为准确日期。"
                )
                % {"year": obj.date.year},
            )

    def has_delete_permission(self, request, obj=None):
        # A wrongly entered day is corrected by changing it; supervisors may
        # remove one they added by mistake.
        return super().has_delete_permission(request, obj) or (
            getattr(request.user, "role", None) == Role.SUPERVISOR
            and request.user.has_perm("core.change_calendarday")
        )


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
        if model._meta.app_label not in app_labels or isinstance(
            model_admin, SuperuserOnlyMixin
        ):
            continue
        cls = type(model_admin)
        admin.site.unregister(model)
        admin.site.register(
            model, type(f"SuperuserOnly{cls.__name__}", (SuperuserOnlyMixin, cls), {})
        )


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
