"""Forms of the citizen's account: sign-up, login and family members."""

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.forms import MOBILE_RE, IdNumberField, NameField, clean_mobile_value

from .models import ALL_SCOPES, Relation, Scope

# The portal's words for each refusal of Django's password validators (by
# their error code): Django's own catalogue is incomplete in Chinese (its
# "too short" message stays English) and its wording says what is wrong but
# not what to do.
PASSWORD_MESSAGES = {
    "password_too_short": _("密码太短：至少需要%(min_length)d位，请加长。"),
    "password_too_common": _("这个密码太常见，容易被猜到，请换一个。"),
    "password_entirely_numeric": _("密码不能全是数字，请加入字母或符号。"),
    "password_too_similar": _("密码与您的个人信息太相近，请换一个。"),
}


def password_errors(password: str, user=None) -> list[ValidationError]:
    """The validators' refusals of `password` (AUTH_PASSWORD_VALIDATORS), each
    in the portal's words; a code the portal has no words for keeps the
    validator's own message."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        return [
            ValidationError(
                PASSWORD_MESSAGES[error.code], code=error.code, params=error.params
            )
            if error.code in PASSWORD_MESSAGES
            else error
            for error in exc.error_list
        ]
    return []


def _check_password(form, field: str, password: str, other: str, user=None) -> None:
    if password and other and password != other:
        form.add_error(f"{field}2", _("两次输入的密码不一致。"))
    elif password:
        errors = password_errors(password, user)
        if errors:
            form.add_error(f"{field}1", errors)


class SignupForm(forms.Form):
    """Sign-up, step 1: who you are (checked against the population registry)
    and the mobile that receives the code."""

    name = NameField(help_text=_("与身份证上的姓名一致"))
    id_number = IdNumberField()
    mobile = forms.CharField(
        label=_("手机号"),
        max_length=20,
        help_text=_("用于接收验证码和登录"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
    )

    def clean_mobile(self):
        return clean_mobile_value(self.cleaned_data["mobile"])


class CodeField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("短信验证码"))
        kwargs.setdefault("max_length", 12)
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {"inputmode": "numeric", "autocomplete": "one-time-code"}
        )


class SignupFinishForm(forms.Form):
    """Sign-up, step 2: the code from the SMS and a password."""

    code = CodeField()
    password1 = forms.CharField(
        label=_("密码"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少8位，不能全是数字，不要与姓名、手机号相近"),
    )
    password2 = forms.CharField(
        label=_("再次输入密码"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        _check_password(self, "password", data.get("password1"), data.get("password2"))
        return data


class PasswordResetStartForm(forms.Form):
    mobile = forms.CharField(
        label=_("注册时的手机号"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
    )

    def clean_mobile(self):
        return clean_mobile_value(self.cleaned_data["mobile"])


class PasswordResetFinishForm(SignupFinishForm):
    pass


class LoginForm(AuthenticationForm):
    """Log in with a mobile number (citizens) or a staff username."""

    username = forms.CharField(
        label=_("手机号或用户名"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True}),
        error_messages={"required": _("请填写手机号（或用户名）。")},
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("请填写密码。")},
    )
    # Both of Django's messages replaced: its "invalid_login" says the fields
    # are case-sensitive, which means nothing for a mobile number.
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "手机号（或用户名）或密码不正确。忘记密码可以用短信验证码找回。"
        ),
        "inactive": _("该账号已停用，请到经办窗口咨询。"),
    }

    def clean(self):
        username = (self.cleaned_data.get("username") or "").strip()
        if MOBILE_RE.match(username):
            # Citizens' usernames are not their mobiles: find the login by it.
            from .models import User

            found = (
                User.objects.filter(mobile=username)
                .values_list("username", flat=True)
                .first()
            )
            self.cleaned_data["username"] = found or username
        return super().clean()


class FamilyMemberForm(forms.Form):
    name = NameField()
    id_number = IdNumberField()
    relation = forms.ChoiceField(label=_("与您的关系"), choices=Relation.choices)
    birth_certificate = forms.CharField(
        label=_("出生医学证明编号（未成年子女填写）"),
        max_length=20,
        required=False,
        help_text=_(
            "为未满18周岁的子女办理时填写，与户籍登记的父母信息一致即可立即生效；"
            "没有时请携带户口本到经办窗口办理。"
        ),
    )


class AuthorityDecisionForm(forms.Form):
    scopes = forms.MultipleChoiceField(
        label=_("同意对方代我办理"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=list(ALL_SCOPES),
    )


class EmailForm(forms.Form):
    email = forms.EmailField(
        label=_("电子邮箱"),
        max_length=254,
        error_messages={"invalid": _("请输入有效的电子邮箱地址。")},
    )
