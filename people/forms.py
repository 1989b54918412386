"""Forms of the citizen's account: sign-up, login and family members."""

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.forms import MOBILE_RE, IdNumberField, NameField, clean_mobile_value

from .models import Relation


class SignupForm(forms.Form):
    name = NameField(help_text=_("与身份证上的姓名一致"))
    id_number = IdNumberField()
    mobile = forms.CharField(label=_("手机号"), max_length=11)
    password1 = forms.CharField(
        label=_("密码"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("再次输入密码"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
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

    username = forms.CharField(
        label=_("手机号或用户名"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True}),
    )

    def clean(self):
        username = (self.cleaned_data.get("username") or "").strip()
        if MOBILE_RE.match(username):
            self.cleaned_data["username"] = f"m{username}"
        return super().clean()


class FamilyMemberForm(forms.Form):
    name = NameField()
    id_number = IdNumberField()
    relation = forms.ChoiceField(label=_("与您的关系"), choices=Relation.choices)
