"""Citizen forms of the enrollment pages. Every choice is built on the server
from what the user may act for, so a tampered value is a form error."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.forms import IdNumberField, NameField
from core.identity import parse_id_number
from people.models import Person, Relation

from . import rules, services
from .models import (
    BASE_RATIO_MAX,
    BASE_RATIO_MIN,
    SUSPEND_REASONS_BY_SCHEME,
    Category,
    SuspendReason,
)


def _add_domain_error(form, error: DomainError, default_field: str) -> None:
    field = error.field if error.field in form.fields else default_field
    form.add_error(field, error.message)


def region_for(person, regions) -> str | None:
    """The 参保地 to offer a person: their own region, else the region their
    identity number was issued in (its first 4 digits: 3401xx → 340100; a
    municipality's 1101xx → 110000), else none, so the citizen chooses rather
    than finding a region they never picked already selected."""
    codes = {region.code for region in regions}
    if person.region_id in codes:
        return person.region_id
    number = person.id_number or ""
    for code in (number[:4] + "00", number[:2] + "0000"):
        if code in codes:
            return code
    return None


class PersonSelect(forms.Select):
    """为谁登记: each option carries the region to offer that person
    (`region_for`), so 参保地 follows a new choice (static/js/enrollment.js)."""

    def __init__(self, *args, regions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.regions = regions or {}

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        option["attrs"]["data-region"] = self.regions.get(str(value)) or ""
        return option


class _EnrollmentForm(forms.Form):
    """Shared fields: who, where and which benefit year."""

    def __init__(
        self, *args, persons, years, regions, today: dt.date | None = None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        self.persons = {str(person.pk): person for person, _relation in persons}
        if "person" in self.fields:
            self.fields["person"].widget = PersonSelect(
                regions={
                    pk: region_for(person, regions)
                    for pk, person in self.persons.items()
                }
            )
            self.fields["person"].choices = [
                (
                    str(person.pk),
                    f"{person.name}（{relation or _('本人')}）{person.id_masked}",
                )
                for person, relation in persons
            ]
        self.fields["year"].choices = [
            (year, _("%(year)d年度") % {"year": year}) for year in years
        ]
        # A blank first: with no region known for the person, the citizen
        # chooses, instead of the first region in the list being sent.
        self.fields["region"].choices = [
            ("", _("请选择参保地")),
            *((region.code, region.display_name) for region in regions),
        ]
        self.fields["region"].error_messages["required"] = _("请选择参保地（统筹区）。")

    def person_obj(self) -> Person:
        return self.persons[self.cleaned_data["person"]]


class ResidentEnrollmentForm(_EnrollmentForm):
    person = forms.ChoiceField(label=_("为谁登记"))
    year = forms.TypedChoiceField(label=_("待遇年度"), coerce=int)
    region = forms.ChoiceField(label=_("参保地（统筹区）"))
    category = forms.ChoiceField(
        label=_("人员类别"),
        choices=Category.choices,
        initial=Category.ORDINARY,
        help_text=_("特困、低保等类别需经办人员审核，审核通过后按减免标准缴费。"),
    )

    def clean(self):
        data = super().clean()
        self.plan = None
        if self.errors:
            return data
        try:
            self.plan = services.resident_plan(
                person=self.person_obj(),
                region=data["region"],
                year=data["year"],
                category=data["category"],
                today=self.today,
            )
        except DomainError as error:
            _add_domain_error(self, error, "year")
        return data


class NewbornEnrollmentForm(_EnrollmentForm):
    name = NameField(label=_("新生儿姓名"))
    id_number = IdNumberField(
        label=_("新生儿身份证号"),
        help_text=_("户口登记后取得的公民身份号码；出生日期从号码中读取"),
    )
    birth_certificate = forms.CharField(
        label=_("出生医学证明编号"),
        max_length=20,
        help_text=_(
            "出生医学证明右上角的编号（字母加数字）。与户籍登记的父母一致时，您即成为孩子的监护代办人。"
        ),
    )
    relation = forms.ChoiceField(
        label=_("与您的关系"),
        choices=[
            (Relation.CHILD, Relation.CHILD.label),
            (Relation.GRANDCHILD, Relation.GRANDCHILD.label),
            (Relation.MATERNAL_GRANDCHILD, Relation.MATERNAL_GRANDCHILD.label),
        ],
    )
    year = forms.TypedChoiceField(label=_("待遇年度"), coerce=int)
    region = forms.ChoiceField(label=_("参保地（统筹区）"))

    def __init__(self, *args, owner: Person, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner

    def clean_id_number(self):
        number = self.cleaned_data["id_number"]
        birth = parse_id_number(number).birth_date
        if (self.today - birth).days > 366:
            raise ValidationError(
                _(
                    "该身份证号的出生日期为%(date)s，已满一周岁，不属于新生儿；请到“为家人登记”办理。"
                )
                % {"date": birth.strftime("%Y-%m-%d")}
            )
        return number

    def clean(self):
        data = super().clean()
        self.plan = None
        if self.errors:
            return data
        parsed = parse_id_number(data["id_number"])
        child = Person.objects.filter(id_number=parsed.number).first()
        if child is not None and child.name != data["name"].strip():
            self.add_error("name", _("姓名与身份证号登记的信息不一致，请核对。"))
            return data
        if child is not None and child.pk == self.owner.pk:
            self.add_error("id_number", _("不能把本人登记为新生儿。"))
            return data
        if child is None:
            child = Person(
                id_number=parsed.number,
                name=data["name"],
                sex=parsed.sex,
                birth_date=parsed.birth_date,
            )
        self.child = child
        self.birth_date = parsed.birth_date
        try:
            self.plan = services.resident_plan(
                person=child,
                region=data["region"],
                year=data["year"],
                category=Category.ORDINARY,
                is_newborn=True,
                today=self.today,
            )
        except DomainError as error:
            _add_domain_error(self, error, "id_number")
        return data


class FlexibleEnrollmentForm(_EnrollmentForm):
    person = forms.ChoiceField(label=_("参保人"))
    year = forms.TypedChoiceField(label=_("参保年度"), coerce=int)
    region = forms.ChoiceField(label=_("参保地（统筹区）"))
    # No max_digits / min_value: Django's own "10 digits" or "≥0.01" would
    # pre-empt the policy's range, which the service states beside the field.
    base = forms.DecimalField(
        label=_("缴费基数（元/月）"),
        error_messages={
            "invalid": _("请填写缴费基数，例如 6000 或 6000.50。"),
            "required": _("请填写缴费基数（元/月）。"),
        },
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )

    def clean_base(self):
        base = self.cleaned_data["base"]
        if not base.is_finite():
            raise ValidationError(_("请填写缴费基数，例如 6000 或 6000.50。"))
        if base.adjusted() > 8:  # a billion yuan a month: no region's range
            raise ValidationError(_("缴费基数超出可选范围，请在下表所列范围内填写。"))
        if base.as_tuple().exponent < -2:
            raise ValidationError(_("缴费基数最多保留两位小数（分）。"))
        return base

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Formatted per request: the help text follows the request's language.
        self.fields["base"].help_text = _(
            "可在上年度月平均工资的%(min)s%%至%(max)s%%之间选择，见下表"
        ) % {"min": rules.percent(BASE_RATIO_MIN), "max": rules.percent(BASE_RATIO_MAX)}

    def clean(self):
        data = super().clean()
        self.plan = None
        if self.errors:
            return data
        try:
            self.plan = services.flexible_plan(
                person=self.person_obj(),
                region=data["region"],
                year=data["year"],
                base=data["base"],
                today=self.today,
            )
        except DomainError as error:
            _add_domain_error(self, error, "base")
        return data


class SuspendForm(forms.Form):
    """暂停参保: why (a residents' enrollment only for a move or on joining
    employee insurance; a flexible worker may also stop paying)."""

    reason = forms.ChoiceField(label=_("暂停原因"), widget=forms.RadioSelect)

    def __init__(self, *args, enrollment, **kwargs):
        super().__init__(*args, **kwargs)
        self.enrollment = enrollment
        allowed = SUSPEND_REASONS_BY_SCHEME.get(enrollment.scheme, ())
        self.fields["reason"].choices = [
            (reason.value, reason.label) for reason in allowed
        ]
        self.fields["reason"].error_messages["required"] = _("请选择暂停参保的原因。")
        self.fields["reason"].error_messages["invalid_choice"] = _(
            "请从列出的原因中选择一项。"
        )

    @property
    def reason_label(self) -> str:
        return str(SuspendReason(self.cleaned_data["reason"]).label)
