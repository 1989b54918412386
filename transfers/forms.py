"""Citizen and staff forms of the transfers pages. Choices are built on the
server from what the user may act for, so a tampered value is a form error."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import IdNumberField, NameField
from core.models import Region

from .models import RejectReason, TransferKind


class PersonSelect(forms.Select):
    """为谁办理: each option carries the person's name, so the name field
    follows the person chosen (static/js/transfers.js)."""

    def __init__(self, *args, names=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.names = names or {}

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if str(value) in self.names:
            option["attrs"]["data-name"] = self.names[str(value)]
        return option


class TransferApplyForm(forms.Form):
    person = forms.ChoiceField(label=_("为谁办理"))
    name = NameField(help_text=_("与身份证上的姓名一致"))
    id_number = IdNumberField(help_text=_("18位，最后一位可能是 X"))
    kind = forms.ChoiceField(
        label=_("转移类型"), choices=TransferKind.choices, widget=forms.RadioSelect
    )
    outgoing_region = forms.ModelChoiceField(
        label=_("转出地（原参保地）"),
        queryset=Region.objects.all(),
        empty_label=_("请选择"),
    )
    incoming_region = forms.ModelChoiceField(
        label=_("转入地（新参保地）"),
        queryset=Region.objects.all(),
        empty_label=_("请选择"),
    )

    def __init__(self, *args, persons=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.persons = {str(person.pk): person for person in persons}
        self.fields["person"].widget = PersonSelect(
            names={pk: person.name for pk, person in self.persons.items()}
        )
        self.fields["person"].choices = [
            (str(person.pk), f"{person.name} {person.id_masked}") for person in persons
        ]

    def clean(self):
        data = super().clean()
        out, into = data.get("outgoing_region"), data.get("incoming_region")
        if out and into and out == into:
            self.add_error(
                "incoming_region",
                _("转出地和转入地不能相同，请选择新的参保地作为转入地。"),
            )
        return data

    @property
    def person_obj(self):
        return self.persons.get(self.cleaned_data.get("person"))


class CounterApplyForm(TransferApplyForm):
    """Staff apply at the counter on a person's behalf (identified by number and name)."""

    person = None

    def __init__(self, *args, **kwargs):
        forms.Form.__init__(self, *args, **kwargs)
        self.persons = {}


class RejectForm(forms.Form):
    code = forms.ChoiceField(label=_("不予办理原因"), choices=RejectReason.choices)
    text = forms.CharField(
        label=_("原因说明"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("告诉参保人需要怎么做；选择“其他原因”时必填"),
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("code") == RejectReason.OTHER
            and not (data.get("text") or "").strip()
        ):
            self.add_error("text", _("选择“其他原因”时请写明原因。"))
        return data


class SheetVerifyForm(forms.Form):
    code = forms.CharField(
        label=_("信息表验证码"),
        max_length=16,
        help_text=_("验证码印在信息表上，共12位字母和数字。"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_code(self):
        code = self.cleaned_data["code"].strip().upper()
        if not code.isascii() or not code.isalnum():
            raise forms.ValidationError(
                _("验证码只包含字母和数字，请对照信息表重新输入。")
            )
        return code
