"""Citizen forms of the records pages. Choices (persons, destinations) are
built on the server from what the user may act for, so a tampered value is a
form error, never a lookup."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .destinations import destinations
from .models import LONG_TERM_REASONS, TEMPORARY_REASONS, FilingReason


def _reason_choices():
    return [
        (
            _("长期异地就医（长期有效，6个月内不能变更或取消）"),
            [(r.value, r.label) for r in LONG_TERM_REASONS],
        ),
        (
            _("临时外出就医（有效期6个月）"),
            [(r.value, r.label) for r in TEMPORARY_REASONS],
        ),
    ]


class FilingForm(forms.Form):
    person = forms.ChoiceField(label=_("为谁备案"))
    reason = forms.ChoiceField(
        label=_("备案人员类别"),
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择备案人员类别。")},
    )
    destination = forms.ChoiceField(
        label=_("就医地"),
        help_text=_("可以选择整个省份，或省内的一个城市；同一时间只能备案一个就医地"),
        error_messages={
            "required": _("请选择就医地。"),
            "invalid_choice": _("请从列表中选择就医地（省份或城市）。"),
        },
    )
    start_on = forms.DateField(
        label=_("备案开始日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("急诊抢救可在事后30天内补办，开始日期填就医当天"),
        error_messages={
            "required": _("请填写备案开始日期。"),
            "invalid": _("请按 年-月-日 填写日期，例如 2026-12-01。"),
        },
    )
    residence_permit_number = forms.CharField(
        label=_("居住证号（长期备案）"),
        required=False,
        max_length=40,
        help_text=_(
            "异地安置退休、长期居住或常驻工作须提供居住证号，没有居住证的勾选下方个人承诺书"
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    commitment = forms.BooleanField(
        label=_(
            "本人承诺：已在就医地长期居住或工作，所填信息真实，如有不实愿承担相应责任（个人承诺书）"
        ),
        required=False,
    )

    def __init__(self, *args, persons=(), **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("start_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.persons = {str(person.pk): person for person, _relation in persons}
        self.fields["person"].choices = [
            (
                str(person.pk),
                f"{person.name}（{relation or _('本人')}）{person.id_masked}",
            )
            for person, relation in persons
        ]
        self.fields["reason"].choices = _reason_choices()
        self.fields["destination"].choices = [
            ("", _("请选择")),
            *((d.code, d.display_name) for d in destinations()),
        ]

    @property
    def person_obj(self):
        return self.persons.get(self.cleaned_data.get("person"))

    @property
    def reason_label(self) -> str:
        return str(FilingReason(self.cleaned_data["reason"]).label)
