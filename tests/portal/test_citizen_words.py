"""Django's own words stay out of a citizen's path: password refusals in the
portal's words (Django's Chinese catalogue leaves "too short" in English),
the login refusal without "case-sensitive" (区分大小写) for a mobile number,
and each form-wide error listed once (the summary), not twice (crispy too)."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import translation

from people.forms import PASSWORD_MESSAGES, SignupFinishForm, password_errors
from tests import factories

pytestmark = pytest.mark.django_db

ENGLISH_FROM_DJANGO = ("This password", "This field", "case-sensitive", "Note that")


def password_form_errors(password: str) -> list[str]:
    form = SignupFinishForm(
        {"code": "123456", "password1": password, "password2": password}
    )
    form.is_valid()
    return [str(error) for error in form.errors.get("password1", [])]


@pytest.mark.parametrize(
    ("password", "codes"),
    [
        ("a1b2", ["password_too_short"]),
        ("12345678901", ["password_too_common", "password_entirely_numeric"]),
        ("password", ["password_too_common"]),
        ("48202517", ["password_entirely_numeric"]),
    ],
)
def test_password_refusals_are_in_the_portals_words(password, codes):
    assert [error.code for error in password_errors(password)] == codes
    with translation.override("zh-hans"):
        shown = password_form_errors(password)
        expected = [str(PASSWORD_MESSAGES[code]) % {"min_length": 8} for code in codes]
    assert shown == expected
    assert not [m for m in shown if re.search(r"[A-Za-z]{3,}", m)]


def test_a_short_password_is_refused_in_chinese_on_the_page(client):
    """The case that was English in the Chinese page."""
    session = client.session
    session["signup"] = {
        "name": "张三",
        "id_number": factories.id_number_for(dt.date(1990, 1, 1)),
        "mobile": "13912340000",
    }
    session.save()
    response = client.post(
        reverse("people:signup_finish"),
        {"code": "123456", "password1": "a1b2", "password2": "a1b2"},
    )
    text = response.content.decode()
    assert response.status_code == 400
    assert "密码太短：至少需要8位，请加长。" in text
    assert not [w for w in ENGLISH_FROM_DJANGO if w in text]


def test_password_refusals_follow_the_page_language():
    with translation.override("en"):
        shown = password_form_errors("a1b2")
        expected = str(PASSWORD_MESSAGES["password_too_short"]) % {"min_length": 8}
    assert shown == [expected]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_wrong_login_is_said_once_and_never_as_case_sensitive(client, language):
    user = factories.UserFactory()
    client.cookies["django_language"] = language
    response = client.post(
        reverse("people:login"), {"username": user.mobile, "password": "wrong-one"}
    )
    text = response.content.decode()
    assert response.status_code == 400
    assert "区分大小写" not in text and "case-sensitive" not in text
    with translation.override(language):
        from people.forms import LoginForm

        message = str(LoginForm.error_messages["invalid_login"])
    assert text.count(message) == 1
    if language == "zh-hans":
        assert "手机号（或用户名）或密码不正确" in text


def test_an_empty_login_says_what_to_fill_in(client):
    response = client.post(reverse("people:login"), {"username": "", "password": ""})
    text = response.content.decode()
    assert "请填写手机号（或用户名）。" in text and "请填写密码。" in text
    assert "这个字段是必填项" not in text


@pytest.mark.parametrize(
    "template",
    [
        "registration/login.html",
        "registration/signup.html",
        "registration/signup_finish.html",
        "registration/password_reset.html",
        "registration/password_reset_finish.html",
        "payments/pay.html",
        "payments/proxy.html",
        "payments/family.html",
        "payments/detail.html",
        "people/family.html",
    ],
)
def test_citizen_forms_leave_form_wide_errors_to_the_summary(template):
    """crispy's |crispy prints the form's non-field errors in a box of its own,
    which the summary (_form_errors.html) already lists."""
    from django.conf import settings

    source = (settings.BASE_DIR / "templates" / template).read_text()
    assert "|crispy }}" not in source
    assert "|form_fields }}" in source
