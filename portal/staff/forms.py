from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import IdNumberField, NameField, clean_mobile_value


class CounterPersonForm(forms.Form):
    """Register a person without an account (窗口登记)."""

    name = NameField(help_text=_("与身份证上的姓名一致"))
    id_number = IdNumberField(help_text=_("18位，最后一位可以是X"))
    mobile = forms.CharField(label=_("手机号（选填）"), max_length=11, required=False)

    def clean_mobile(self):
        value = (self.cleaned_data.get("mobile") or "").strip()
        return clean_mobile_value(value) if value else ""
