"""Sign-up, log in and out, lockout after repeated failures, family members:
bad input on every form answers 400 with the message beside the field and
writes nothing (never a 500)."""

import datetime as dt
import re

import pytest
from django.urls import reverse

from core.identity import make_id_number
from people.models import FamilyLink, Person, SimSmsMessage, User
from tests import factories

pytestmark = pytest.mark.django_db

GOOD_ID = make_id_number("340104", dt.date(1990, 5, 17), 123)


def signup_data(**extra):
    return {
        "name": "张三",
        "id_number": GOOD_ID,
        "mobile": "13912345678",
        **extra,
    }


@pytest.fixture(autouse=True)
def zhang_san_in_registry(db):
    factories.registry_person(name="张三", id_number=GOOD_ID)


def errors(response, field):
    return [str(error) for error in response.context["form"].errors.get(field, [])]


def sms_code(mobile: str) -> str:
    text = SimSmsMessage.objects.filter(mobile=mobile).latest("sent_at", "id").text
    return re.search(r"(\d{6})", text).group(1)


def signup(client, password="Qiang-Mima-2026", **data):
    """Both steps: name, number and mobile; then the SMS code and a password."""
    data = signup_data(**data)
    first = client.post(reverse("people:signup"), data)
    if first.status_code != 302:
        return first
    code = sms_code(data["mobile"]) if SimSmsMessage.objects.exists() else "000000"
    return client.post(
        reverse("people:signup_finish"),
        {"code": code, "password1": password, "password2": password},
    )


def test_signup_creates_a_citizen_tied_to_a_person_and_signs_in(client):
    response = signup(client, id_number=GOOD_ID.lower())
    assert response.status_code == 302
    user = User.objects.get(mobile="13912345678")
    assert user.person.id_number == GOOD_ID and user.person.birth_date == dt.date(
        1990, 5, 17
    )
    assert user.person.sex == "M" and user.role == "citizen"
    assert user.username != "m13912345678" and "13912345678" not in user.username
    assert client.get(reverse("portal:home")).context["user"] == user


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id_number", GOOD_ID[:17] + ("0" if GOOD_ID[17] != "0" else "1"), "校验码"),
        ("id_number", "340104209901010019", "晚于今天"),
        ("id_number", "991234199001011234", "省级"),
        ("id_number", "34010419900230123X", "不存在"),
        ("id_number", "", "必填"),
        ("mobile", "1234", "11位"),
        ("name", "张3", "数字"),
    ],
)
def test_bad_signup_input_is_an_error_beside_the_field_and_writes_nothing(
    client, field, value, message
):
    response = client.post(reverse("people:signup"), signup_data(**{field: value}))
    assert response.status_code == 400
    field_errors = errors(response, field)
    assert field_errors and any(message in error for error in field_errors)
    assert not User.objects.exists() and not Person.objects.exists()
    assert not SimSmsMessage.objects.exists()


@pytest.mark.parametrize(
    ("field", "password1", "password2", "message"),
    [
        ("password2", "Qiang-Mima-2026", "other-Password-9", "不一致"),
        ("password1", "12345678", "12345678", ""),
    ],
)
def test_bad_password_at_step_two_is_an_error_beside_the_field(
    client, field, password1, password2, message
):
    client.post(reverse("people:signup"), signup_data())
    response = client.post(
        reverse("people:signup_finish"),
        {
            "code": sms_code("13912345678"),
            "password1": password1,
            "password2": password2,
        },
    )
    assert response.status_code == 400
    assert any(message in error for error in errors(response, field))
    assert not User.objects.exists()


def test_one_account_per_identity_number(client):
    signup(client)
    client.logout()
    response = signup(client, mobile="13800001111")
    # Told only once the mobile is proven by its code.
    assert response.status_code == 400
    assert "已注册" in " ".join(response.context["form"].non_field_errors())
    assert User.objects.count() == 1


def test_a_registered_mobile_is_not_told_apart_at_step_one(client):
    signup(client)
    client.logout()
    other = make_id_number("110105", dt.date(1985, 3, 3), 222)
    factories.registry_person(name="李四", id_number=other)
    sent_before = SimSmsMessage.objects.count()
    response = client.post(
        reverse("people:signup"), signup_data(id_number=other, name="李四")
    )
    # Same answer as for a new mobile; the mobile's holder is told by SMS.
    assert response.status_code == 302
    assert response.url == reverse("people:signup_finish")
    told = SimSmsMessage.objects.order_by("-id").first()
    assert SimSmsMessage.objects.count() == sent_before + 1
    assert "已注册" in told.text and not re.search(r"\d{6}", told.text)
    finish = client.post(
        reverse("people:signup_finish"),
        {
            "code": "123456",
            "password1": "Qiang-Mima-2026",
            "password2": "Qiang-Mima-2026",
        },
    )
    assert finish.status_code == 400 and errors(finish, "code")
    assert User.objects.count() == 1


def test_signup_for_a_person_already_on_record_must_use_the_same_name(client):
    person = factories.PersonFactory(name="王五")
    response = client.post(
        reverse("people:signup"), signup_data(id_number=person.id_number, name="王六")
    )
    assert response.status_code == 400 and errors(response, "name")
    assert not User.objects.exists()


def test_citizen_logs_in_with_the_mobile_number_and_out(client):
    user = factories.UserFactory()
    response = client.post(
        reverse("people:login"), {"username": user.mobile, "password": "pass-Word-123"}
    )
    assert response.status_code == 302
    assert client.get(reverse("portal:home")).context["user"] == user
    client.post(reverse("people:logout"))
    assert not client.get(reverse("portal:home")).context["user"].is_authenticated


def test_empty_login_form_is_an_error_beside_each_field(client):
    response = client.post(reverse("people:login"), {"username": "", "password": ""})
    assert response.status_code == 400
    assert errors(response, "username") and errors(response, "password")


def test_staff_log_in_with_their_username(client):
    staff = factories.StaffFactory(username="hf_clerk_test")
    response = client.post(
        reverse("people:login"),
        {"username": "hf_clerk_test", "password": "pass-Word-123"},
    )
    assert response.status_code == 302
    assert client.get(reverse("portal:home")).wsgi_request.user == staff


def test_wrong_password_is_an_error_and_not_a_login(client):
    user = factories.UserFactory()
    response = client.post(
        reverse("people:login"), {"username": user.mobile, "password": "wrong"}
    )
    assert response.status_code == 400 and response.context["form"].non_field_errors()
    assert not response.wsgi_request.user.is_authenticated


def test_repeated_failed_logins_lock_the_account_even_with_the_right_password(
    client, settings
):
    user = factories.UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("people:login"), {"username": user.mobile, "password": "wrong"}
        )
    response = client.post(
        reverse("people:login"), {"username": user.mobile, "password": "pass-Word-123"}
    )
    assert response.status_code == 429
    assert "账号已暂时锁定" in response.content.decode()
    assert not client.get(reverse("portal:home")).context["user"].is_authenticated


def test_failures_below_the_limit_do_not_lock(client, settings):
    user = factories.UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(
            reverse("people:login"), {"username": user.mobile, "password": "wrong"}
        )
    response = client.post(
        reverse("people:login"), {"username": user.mobile, "password": "pass-Word-123"}
    )
    assert response.status_code == 302


# --- family members ---------------------------------------------------------------


@pytest.fixture
def signed_in(client):
    user = factories.UserFactory()
    client.force_login(user)
    client.user = user
    return client


def test_adding_a_family_member_asks_for_their_authority(signed_in):
    number = make_id_number("340104", dt.date(1985, 6, 1), 44)
    factories.registry_person(name="张明", id_number=number)
    response = signed_in.post(
        reverse("people:family"),
        {"name": "张明", "id_number": number, "relation": "sibling"},
    )
    assert response.status_code == 302
    link = FamilyLink.objects.get(owner=signed_in.user.person)
    assert (link.relative.id_number, link.relation) == (number, "sibling")
    assert link.status == "pending" and link.scopes == []
    page = signed_in.get(reverse("people:family")).content.decode()
    assert "张明" in page and number not in page and "待对方同意" in page


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("id_number", "bad_checksum"),
        ("id_number", "340104209901010019"),
        ("relation", "boss"),
        ("name", ""),
    ],
)
def test_bad_family_member_input_is_an_error_beside_the_field(signed_in, field, value):
    number = make_id_number("340104", dt.date(2015, 6, 1), 46)
    if value == "bad_checksum":
        value = number[:17] + ("0" if number[17] != "0" else "1")
    data = {"name": "张小明", "id_number": number, "relation": "child"}
    data[field] = value
    response = signed_in.post(reverse("people:family"), data)
    assert response.status_code == 400 and errors(response, field)
    assert not FamilyLink.objects.exists()


def test_oneself_cannot_be_a_family_member(signed_in):
    person = signed_in.user.person
    Person.objects.filter(pk=person.pk).update(name="张伟")
    person.name = "张伟"
    response = signed_in.post(
        reverse("people:family"),
        {"name": person.name, "id_number": person.id_number, "relation": "spouse"},
    )
    assert response.status_code == 400 and errors(response, "id_number")
    assert not FamilyLink.objects.exists()


def test_a_family_member_is_added_once(signed_in):
    relative = factories.PersonFactory(name="李丽")
    factories.family_link(signed_in.user.person, relative)
    response = signed_in.post(
        reverse("people:family"),
        {"name": relative.name, "id_number": relative.id_number, "relation": "child"},
    )
    assert response.status_code == 400 and errors(response, "id_number")
    assert FamilyLink.objects.count() == 1


def test_family_next_only_goes_to_this_site(signed_in):
    number = make_id_number("340104", dt.date(2015, 6, 1), 48)
    factories.registry_person(name="张小明", id_number=number)
    data = {"name": "张小明", "id_number": number, "relation": "child"}
    response = signed_in.post(
        reverse("people:family") + "?next=https://evil.example/", data
    )
    assert response.status_code == 302 and response.url == reverse("people:family")


@pytest.mark.parametrize("url_name", ["people:signup", "people:family", "people:login"])
def test_an_empty_post_is_400_not_a_blank_form(client, url_name):
    if url_name == "people:family":
        client.force_login(factories.UserFactory())
    response = client.post(reverse(url_name), {})
    assert response.status_code == 400 and response.context["form"].errors
    assert not FamilyLink.objects.exists()
