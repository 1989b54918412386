import re

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .identity import parse_id_number
from .models import Relation

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def clean_mobile_value(value: str) -> str:
    value = (value or "").strip()
    if not MOBILE_RE.match(value):
        raise ValidationError(_("手机号应为以1开头的11位数字，请核对。"))
    return value


class IdNumberField(forms.CharField):
    """An identity number field: validated with parse_id_number, returns the normalised number."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("身份证号"))
        kwargs.setdefault("max_length", 18)
        kwargs.setdefault("min_length", 1)
        super().__init__(**kwargs)
        self.widget.attrs.update({"autocomplete": "off", "inputmode": "text", "spellcheck": "false"})

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        return parse_id_number(value).number


class NameField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("姓名"))
        kwargs.setdefault("max_length", 50)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value and any(ch.isdigit() for ch in value):
            raise ValidationError(_("姓名不应包含数字，请填写身份证上的姓名。"))
        return value


class SignupForm(forms.Form):
    name = NameField(help_text=_("与身份证上的姓名一致"))
    id_number = IdNumberField()
    mobile = forms.CharField(label=_("手机号"), max_length=11)
    password1 = forms.CharField(label=_("密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label=_("再次输入密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean_mobile(self):
        return clean_mobile_value(self.cleaned_data["mobile"])

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("两次输入的密码不一致。"))
        elif p1:
            try:
                password_validation.validate_password(p1)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class LoginForm(AuthenticationForm):
    """Log in with a mobile number (citizens) or a staff username."""

    username = forms.CharField(label=_("手机号或用户名"), max_length=150, widget=forms.TextInput(attrs={"autofocus": True}))

    def clean(self):
        username = (self.cleaned_data.get("username") or "").strip()
        if MOBILE_RE.match(username):
            self.cleaned_data["username"] = f"m{username}"
        return super().clean()


class FamilyMemberForm(forms.Form):
    name = NameField()
    id_number = IdNumberField()
    relation = forms.ChoiceField(label=_("与您的关系"), choices=Relation.choices)
