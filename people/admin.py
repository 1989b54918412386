"""Staff-site pages of persons, logins, the site inbox and the "who looked"
log."""

import datetime as dt

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from core.forms import clean_mobile_value
from core.identity import mask_mobile, normalise_id_number

from .admin_base import ReadOnlyMixin, RegionScopedAdmin, StaffAdminMixin
from .models import STAFF_ROLES, Notification, Person, Role, StaffAccess, User

# --- columns in the page language --------------------------------------------------
# A field without a translated verbose_name would show its English attribute
# name ("CREATED AT") as a column header or a detail label. Naming it here
# keeps the models' migrations as they are; the other apps' admins use these
# too.


def shown(value):
    """A value as a read-only detail row shows it: dates and times in the page
    language and the local time zone (the admin formats those only in
    lists), nothing as "—" (not "None")."""
    if value is None or value == "":
        return "—"
    if isinstance(value, (dt.datetime, dt.date)):
        return formats.localize(timezone.template_localtime(value))
    return value


def field_column(name: str, label, *, show=None, ordering: bool = True):
    """The model field `name` as a list column or read-only detail row under
    `label`; `show(value)` formats a value that is not None."""

    def column(obj):
        value = getattr(obj, name)
        return shown(show(value) if show is not None and value is not None else value)

    column.__name__ = column.__qualname__ = f"{name}_column"
    return admin.display(description=label, ordering=name if ordering else None)(column)


def titled_filter(filter_class, title):
    """A list filter of a field under a translated title."""

    class Titled(filter_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.title = title

    return Titled


created_column = field_column("created_at", _("创建时间"))


class PersonForm(forms.ModelForm):
    """The one field staff change on a person: the mobile. The stored number
    is never put in the page (shown masked); typing a new one replaces it,
    "-" removes it, and an empty field keeps it."""

    mobile = forms.CharField(label=_("新手机号"), max_length=20, required=False)

    class Meta:
        model = Person
        fields = ["mobile"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["mobile"] = ""
        current = self.instance.mobile_masked if self.instance.pk else ""
        self.fields["mobile"].help_text = (
            _("当前：%(mobile)s。留空则不修改，填“-”删除。") % {"mobile": current}
            if current
            else _("当前未登记手机号。")
        )

    def clean_mobile(self):
        value = (self.cleaned_data.get("mobile") or "").strip()
        if not value:
            return self.instance.mobile
        if value == "-":
            return ""
        return clean_mobile_value(value)


@admin.register(Person)
class PersonAdmin(RegionScopedAdmin):
    """参保人: searched by exact identity number, or by exact name within the
    region (both indexed); numbers masked; never deleted."""

    region_field = "region"
    list_display = [
        "name",
        "id_masked_display",
        "sex",
        "birth_date",
        "mobile_masked_display",
        "region",
    ]
    list_select_related = ["region"]
    list_filter = ["sex"]
    search_fields = [
        "name"
    ]  # the real search is get_search_results (indexed lookups only)
    search_help_text = _("输入完整的18位身份证号，或完整的姓名")
    form = PersonForm
    fields = [
        "name",
        "id_masked_display",
        "sex",
        "birth_date",
        "mobile",
        "region",
        created_column,
    ]
    readonly_fields = [
        "name",
        "id_masked_display",
        "sex",
        "birth_date",
        "region",
        created_column,
    ]
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
        number = normalise_id_number(term)
        if len(number) == 18 and number[:17].isdigit():
            # An identity number: the unique index, exact match only.
            return queryset.filter(id_number=number), False
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

    list_display = [
        "username",
        "role",
        "region",
        "mobile_masked",
        "is_staff",
        "is_active",
        "last_login",
    ]
    list_filter = ["role", "region", "is_staff", "is_active"]
    list_select_related = ["region"]
    search_fields = ["=username"]
    ordering = ["username"]
    raw_id_fields = ["person"]
    readonly_fields = ["last_login", "date_joined"]
    add_fieldsets = (
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["username", "role", "region", "password1", "password2"],
            },
        ),
    )

    @admin.display(description=_("手机号"))
    def mobile_masked(self, obj):
        return mask_mobile(obj.mobile)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.add_fieldsets
        account = [
            _("账号"),
            {
                "fields": ["username", "password"]
                if obj.role != Role.CITIZEN
                else ["username"]
            },
        ]
        return (
            tuple(account),
            (_("个人信息"), {"fields": ["first_name", "last_name", "email", "person"]}),
            (
                _("角色与统筹区"),
                {
                    "fields": [
                        "role",
                        "region",
                        "is_active",
                        "is_staff",
                        "is_superuser",
                        "groups",
                    ]
                },
            ),
            (_("时间"), {"fields": ["last_login", "date_joined"]}),
        )

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if (
            obj is not None
            and obj.role == Role.CITIZEN
            and "password" in form.base_fields
        ):
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


@admin.register(Notification)
class NotificationAdmin(ReadOnlyMixin, RegionScopedAdmin):
    region_field = "person__region"
    person_field = "person"
    list_display = [
        "subject_shown",
        field_column("person", _("参保人")),
        field_column("created_at", _("发送时间")),
        field_column("read_at", _("阅读时间")),
    ]
    list_select_related = ["person"]
    fields = [list_display[1], "subject_shown", "body_shown", "url", *list_display[2:]]

    # Stored untranslated with parameters: shown filled in, in the page language.
    @admin.display(description=_("标题"))
    def subject_shown(self, obj):
        return obj.subject_text

    @admin.display(description=_("内容"))
    def body_shown(self, obj):
        return obj.body_text

    readonly_fields = fields
    ordering = ["-created_at"]
    date_hierarchy = None


@admin.register(StaffAccess)
class StaffAccessAdmin(ReadOnlyMixin, RegionScopedAdmin):
    """查询记录: who among staff viewed or changed whose record."""

    region_field = "person__region"
    list_display = [
        field_column("at", _("时间")),
        field_column("staff", _("经办人员")),
        field_column("action", _("操作"), show=lambda v: StaffAccess.Action(v).label),
        field_column("what", _("内容")),
        field_column("person", _("参保人")),
    ]
    list_select_related = ["staff", "person"]
    list_filter = [("action", titled_filter(admin.ChoicesFieldListFilter, _("操作")))]
    fields = list_display
    readonly_fields = fields
    ordering = ["-at"]
