import secrets

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import IdNumberField
from people.models import Relation

from .models import ONLINE_CHANNELS, Channel


def new_key() -> str:
    return secrets.token_urlsafe(24)


class IdempotentForm(forms.Form):
    """Every form that starts something carries a server-generated key; the
    same key submitted twice returns the first result."""

    idempotency_key = forms.CharField(
        widget=forms.HiddenInput, max_length=64, min_length=16
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", new_key())


class PayForm(IdempotentForm):
    channel = forms.ChoiceField(label=_("缴费方式"), widget=forms.RadioSelect)
    months = forms.IntegerField(
        widget=forms.HiddenInput, min_value=1, max_value=12, initial=1, required=False
    )
    repair = forms.IntegerField(
        widget=forms.HiddenInput, min_value=0, max_value=30, initial=0, required=False
    )

    def __init__(self, *args, allow_account=False, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(c, Channel(c).label) for c in ONLINE_CHANNELS]
        if allow_account:
            choices.append((Channel.ACCOUNT, Channel.ACCOUNT.label))
        self.fields["channel"].choices = choices
        self.fields["channel"].error_messages["required"] = _("请选择缴费方式。")
        self.fields["channel"].error_messages["invalid_choice"] = _(
            "请从列表中选择缴费方式。"
        )


class MonthsForm(forms.Form):
    months = forms.IntegerField(
        label=_("预缴月数"),
        min_value=1,
        max_value=12,
        initial=1,
        required=False,
        error_messages={
            "min_value": _("预缴月数应为1至12个月。"),
            "max_value": _("预缴月数应为1至12个月。"),
            "invalid": _("请填写1至12之间的整数。"),
        },
    )
    repair = forms.IntegerField(
        label=_("修复年数"), min_value=0, max_value=30, required=False
    )


YEAR_MESSAGES = {
    "invalid": _("请填写四位数的年度，例如2026。"),
    "min_value": _("请填写四位数的年度，例如2026。"),
    "max_value": _("请填写四位数的年度，例如2026。"),
}


class ProxyForm(forms.Form):
    id_number = IdNumberField(label=_("被代缴人身份证号"))
    name = forms.CharField(label=_("被代缴人姓名"), max_length=50)
    year = forms.IntegerField(
        label=_("缴费年度"),
        min_value=2000,
        max_value=2100,
        error_messages=YEAR_MESSAGES,
    )


class BindForm(forms.Form):
    id_number = IdNumberField(label=_("亲属身份证号"))
    name = forms.CharField(label=_("亲属姓名"), max_length=50)
    relation = forms.ChoiceField(
        label=_("与您的关系"),
        choices=Relation.choices,
        error_messages={
            "required": _("请选择与亲属的关系。"),
            "invalid_choice": _("请从列表中选择与亲属的关系。"),
        },
    )
