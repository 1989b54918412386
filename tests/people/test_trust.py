"""Real name and authority (SPEC §1a, §2): each attack of the trust issue,
tried, and refused without writing anything."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from core.identity import make_id_number, parse_id_number
from enrollment.models import Enrollment
from people import services
from people.access import may_act_for, person_ids_for_user
from people.models import (
    FamilyLink,
    Notification,
    Person,
    ProxyAccess,
    SimSmsMessage,
    SmsCode,
    User,
)
from tests import factories

pytestmark = pytest.mark.django_db

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def last_code(mobile: str) -> str:
    text = SimSmsMessage.objects.filter(mobile=mobile).latest("id").text
    return re.search(r"\d{6}", text).group(0)


def signed_in(client, user):
    client.force_login(user)
    return client


# --- one number, one person --------------------------------------------------


def test_a_full_width_number_is_the_same_person_as_the_ascii_one():
    number = make_id_number("340104", dt.date(1990, 5, 17), 123)
    typed = number[:17].translate(FULL_WIDTH) + number[17]
    assert parse_id_number(typed).number == number
    assert parse_id_number(f"\u3000{number.lower()} ").number == number


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("٣٤٠١٠٤١٩٩٠٠٥١٧١٢٣٠", "前17位应为数字"),  # Arabic-Indic digits
        ("340104 199005171230", "空格"),
        ("3" * 60, "过长"),
    ],
)
def test_other_digit_forms_spaces_and_long_input_are_refused(typed, message):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        parse_id_number(typed)
    assert message in refused.value.messages[0]


def test_signing_up_twice_with_the_number_typed_two_ways_is_refused(client):
    number = make_id_number("340104", dt.date(1990, 5, 17), 123)
    factories.registry_person(name="张三", id_number=number)
    factories.UserFactory(person=factories.PersonFactory(name="张三", id_number=number))
    typed = number[:17].translate(FULL_WIDTH) + number[17]
    client.post(
        reverse("people:signup"),
        {"name": "张三", "id_number": typed, "mobile": "13911112222"},
    )
    response = client.post(
        reverse("people:signup_finish"),
        {
            "code": last_code("13911112222"),
            "password1": "Qiang-Mima-2026",
            "password2": "Qiang-Mima-2026",
        },
    )
    assert response.status_code == 400
    assert Person.objects.filter(id_number=number).count() == 1
    assert User.objects.count() == 1


# --- the population registry -------------------------------------------------


def test_a_false_name_creates_nobody_and_links_nobody(client):
    user = factories.UserFactory()
    number = make_id_number("110105", dt.date(1980, 1, 1), 11)
    factories.registry_person(name="孙桂兰", id_number=number)
    response = signed_in(client, user).post(
        reverse("people:family"),
        {"name": "假名字", "id_number": number, "relation": "parent"},
    )
    assert response.status_code == 400
    assert "户籍人口库" in str(response.context["form"].errors["name"])
    assert not Person.objects.filter(id_number=number).exists()
    assert not FamilyLink.objects.exists()


def test_a_number_unknown_to_the_registry_cannot_be_signed_up(client):
    number = make_id_number("110105", dt.date(1980, 1, 1), 13)
    response = client.post(
        reverse("people:signup"),
        {"name": "王五", "id_number": number, "mobile": "13911113333"},
    )
    assert response.status_code == 400
    assert not SimSmsMessage.objects.exists() and not SmsCode.objects.exists()


def test_registry_unavailable_is_try_later_and_writes_nothing(client, settings):
    settings.REGISTRY_SIMULATION = {"unavailable": True}
    user = factories.UserFactory()
    number = make_id_number("110105", dt.date(1980, 1, 1), 15)
    factories.registry_person(name="孙桂兰", id_number=number)
    response = signed_in(client, user).post(
        reverse("people:family"),
        {"name": "孙桂兰", "id_number": number, "relation": "parent"},
    )
    assert response.status_code == 503
    assert "稍后再试" in response.content.decode()
    assert not Person.objects.filter(id_number=number).exists()
    assert not FamilyLink.objects.exists()


# --- SMS codes ---------------------------------------------------------------


@pytest.fixture
def pending_signup(client):
    number = make_id_number("340104", dt.date(1990, 5, 17), 125)
    factories.registry_person(name="张三", id_number=number)
    response = client.post(
        reverse("people:signup"),
        {"name": "张三", "id_number": number, "mobile": "13912345678"},
    )
    assert response.status_code == 302
    return client


def finish(client, code):
    return client.post(
        reverse("people:signup_finish"),
        {"code": code, "password1": "Qiang-Mima-2026", "password2": "Qiang-Mima-2026"},
    )


def test_a_wrong_code_is_refused_and_counted(pending_signup):
    code = last_code("13912345678")
    wrong = "000000" if code != "000000" else "111111"
    response = finish(pending_signup, wrong)
    assert response.status_code == 400
    assert response.context["form"].errors["code"]
    assert SmsCode.objects.get().failed_attempts == 1
    assert not User.objects.exists()


def test_five_wrong_codes_end_the_code(pending_signup, settings):
    code = last_code("13912345678")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(settings.SMS_CODE_MAX_GUESSES):
        finish(pending_signup, wrong)
    assert finish(pending_signup, code).status_code == 400
    assert not User.objects.exists()


def test_an_expired_code_is_refused(pending_signup, settings):
    code = last_code("13912345678")
    later = timezone.now() + dt.timedelta(seconds=settings.SMS_CODE_TTL_SECONDS + 1)
    with time_machine.travel(later):
        assert finish(pending_signup, code).status_code == 400
    assert not User.objects.exists()


def test_a_code_is_used_once(pending_signup, client):
    code = last_code("13912345678")
    assert finish(pending_signup, code).status_code == 302
    assert SmsCode.objects.get().used_at is not None


def test_a_second_code_within_a_minute_is_refused(pending_signup):
    number = make_id_number("340104", dt.date(1990, 5, 17), 125)
    response = pending_signup.post(
        reverse("people:signup"),
        {"name": "张三", "id_number": number, "mobile": "13912345678"},
    )
    assert response.status_code == 400
    assert "稍等" in str(response.context["form"].errors["mobile"])
    assert SmsCode.objects.count() == 1


# --- claiming a person made by someone else ----------------------------------


def test_claiming_a_person_shows_who_holds_authority_and_lets_them_end_it(client):
    relative_holder = factories.UserFactory(person__name="王大")
    number = make_id_number("340104", dt.date(1960, 2, 2), 31)
    factories.registry_person(name="王母", id_number=number)
    link = services.family_member_request(
        owner=relative_holder.person, id_number=number, name="王母", relation="parent"
    )
    assert link.status == "pending"
    client.post(
        reverse("people:signup"),
        {"name": "王母", "id_number": number, "mobile": "13700007777"},
    )
    assert finish(client, last_code("13700007777")).status_code == 302
    me = User.objects.get(mobile="13700007777")
    assert me.person_id == link.relative_id  # the same record, claimed
    assert Notification.objects.filter(
        person=me.person, subject__contains="授权"
    ).exists()
    page = client.get(reverse("people:family")).content.decode()
    assert "王大" in page
    client.post(reverse("people:authority_decide", args=[link.pk]), {"decision": "x"})
    link.refresh_from_db()
    assert link.status == "declined"


# --- authority ---------------------------------------------------------------


@pytest.fixture
def pair():
    """王小明 and 李娜, each with an account; 李娜 has an unpaid 2027 year."""
    hefei = factories.region("340100")
    wang = factories.UserFactory(person__name="王小明", person__region=hefei)
    li = factories.UserFactory(person__name="李娜", person__region=hefei)
    enrollment = factories.EnrollmentFactory(person=li.person, year=2027)
    return wang, li, enrollment


def test_a_request_grants_nothing_until_accepted(client, pair):
    wang, li, enrollment = pair
    link = services.family_member_request(
        owner=wang.person,
        id_number=li.person.id_number,
        name="李娜",
        relation="spouse",
    )
    signed_in(client, wang)
    assert li.person_id not in person_ids_for_user(wang)
    assert client.get(reverse("payments:pay", args=[enrollment.pk])).status_code == 404
    coverage = client.get(reverse("enrollment:coverage")).content.decode()
    assert "李娜" not in coverage
    # She is told, and only she can answer.
    assert any(
        "王小明" in note.subject_text
        for note in Notification.objects.filter(person=li.person)
    )
    answer = client.post(
        reverse("people:authority_decide", args=[link.pk]), {"decision": "accept"}
    )
    assert answer.status_code == 404
    link.refresh_from_db()
    assert link.status == "pending"


def test_accepted_scopes_are_what_the_holder_may_do(client, pair):
    wang, li, enrollment = pair
    link = services.family_member_request(
        owner=wang.person, id_number=li.person.id_number, name="李娜", relation="spouse"
    )
    signed_in(client, li).post(
        reverse("people:authority_decide", args=[link.pk]),
        {"decision": "accept", "scopes": ["view"]},
    )
    link.refresh_from_db()
    assert (link.status, link.scopes) == ("granted", ["view"])
    assert may_act_for(user=wang, person_id=li.person_id, scope="view")
    assert not may_act_for(user=wang, person_id=li.person_id, scope="pay")
    signed_in(client, wang)
    assert "李娜" in client.get(reverse("enrollment:coverage")).content.decode()
    assert client.get(reverse("payments:pay", args=[enrollment.pk])).status_code == 404


def test_paying_for_someone_is_recorded_and_told_to_them(pair):
    from payments import services as payments

    wang, li, enrollment = pair
    factories.family_link(wang.person, li.person, relation="spouse")
    payments.payment_checkout(
        user=wang,
        enrollment_id=enrollment.pk,
        channel="wechat",
        idempotency_key="trust-pay-key-000001",
    )
    record = ProxyAccess.objects.get(person=li.person)
    assert (record.actor_id, record.scope) == (wang.person_id, "pay")
    assert any(
        "王小明 代您办理了" in note.subject_text
        for note in Notification.objects.filter(person=li.person)
    )


def test_either_side_revokes_at_once(client, pair):
    wang, li, enrollment = pair
    link = factories.family_link(wang.person, li.person, relation="spouse")
    signed_in(client, li).post(reverse("people:authority_revoke", args=[link.pk]))
    link.refresh_from_db()
    assert link.status == "revoked" and link.revoked_by_id == li.person_id
    signed_in(client, wang)
    assert client.get(reverse("payments:pay", args=[enrollment.pk])).status_code == 404
    assert Notification.objects.filter(person=wang.person, subject__contains="解除")


def test_a_stranger_cannot_enroll_or_cancel_for_someone_by_number(client, pair):
    from core.errors import DomainError
    from enrollment import services as enrollment_services

    wang, li, enrollment = pair
    with pytest.raises(DomainError):
        enrollment_services.enrollment_cancel(actor=wang, enrollment_id=enrollment.pk)
    with pytest.raises(DomainError):
        enrollment_services.enrollment_register_resident(
            actor=wang,
            person=li.person,
            region="340100",
            year=2026,
            category="ordinary",
            today=dt.date(2026, 3, 1),
        )
    assert Enrollment.objects.filter(person=li.person).count() == 1


def test_a_guardians_authority_ends_at_eighteen():
    parent = factories.UserFactory()
    child = factories.PersonFactory(birth_date=dt.date(2008, 12, 10))
    factories.family_link(
        parent.person,
        child,
        basis="birth_certificate",
        ends_on=dt.date(2026, 12, 10),
    )
    with time_machine.travel(dt.datetime(2026, 12, 9, 12, 0)):
        assert may_act_for(user=parent, person_id=child.pk, scope="pay")
    with time_machine.travel(dt.datetime(2026, 12, 10, 12, 0)):
        assert not may_act_for(user=parent, person_id=child.pk, scope="view")


def test_a_child_is_added_at_once_with_the_matching_birth_certificate(client):
    parent = factories.UserFactory()
    number = make_id_number("340104", dt.date(2019, 4, 4), 61)
    factories.registry_person(
        name="小宝",
        id_number=number,
        birth_certificate="R340100999",
        mother_id_number=parent.person.id_number,
    )
    wrong = signed_in(client, parent).post(
        reverse("people:family"),
        {
            "name": "小宝",
            "id_number": number,
            "relation": "child",
            "birth_certificate": "R340100998",
        },
    )
    assert wrong.status_code == 400 and wrong.context["form"].errors
    assert not FamilyLink.objects.exists()
    right = client.post(
        reverse("people:family"),
        {
            "name": "小宝",
            "id_number": number,
            "relation": "child",
            "birth_certificate": "r340100999",
        },
    )
    assert right.status_code == 302
    link = FamilyLink.objects.get()
    assert (link.status, link.basis) == ("granted", "birth_certificate")


def test_a_clerk_records_an_adults_consent_at_the_counter(pair):
    from people.models import StaffAccess

    wang, li, _enrollment = pair
    clerk = factories.StaffFactory()
    link = services.authority_record_at_counter(
        staff=clerk,
        owner=wang.person,
        relative=li.person,
        relation="spouse",
        basis="counter_consent",
        evidence="身份证当面核验",
    )
    assert (link.status, link.recorded_by_id) == ("granted", clerk.pk)
    assert StaffAccess.objects.filter(person=li.person, staff=clerk).exists()
    assert Notification.objects.filter(person=li.person, subject__contains="窗口")


# --- no enumeration, no lock-out of others -----------------------------------


def test_password_reset_answers_alike_for_unknown_and_known_mobiles(client):
    user = factories.UserFactory()
    unknown = client.post(reverse("people:password_reset"), {"mobile": "13600000000"})
    known = client.post(reverse("people:password_reset"), {"mobile": user.mobile})
    assert unknown.status_code == known.status_code == 302
    assert unknown["Location"] == known["Location"]
    assert not SimSmsMessage.objects.filter(mobile="13600000000").exists()
    response = client.post(
        reverse("people:password_reset_finish"),
        {
            "code": last_code(user.mobile),
            "password1": "Xin-Mima-2026-ok",
            "password2": "Xin-Mima-2026-ok",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Xin-Mima-2026-ok")


def test_wrong_passwords_from_elsewhere_do_not_lock_the_owner_out(client, settings):
    user = factories.UserFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        client.post(
            reverse("people:login"),
            {"username": user.mobile, "password": "wrong"},
            REMOTE_ADDR="203.0.113.9",
        )
    response = client.post(
        reverse("people:login"),
        {"username": user.mobile, "password": "pass-Word-123"},
        REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 302


def test_a_forwarded_address_counts_only_through_the_trusted_proxy(rf, settings):
    from people.limits import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="1.2.3.4, 10.0.0.5")
    request.META["REMOTE_ADDR"] = "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "10.0.0.5"


def test_number_taking_pages_are_rate_limited(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "family": ("3/h", "3/h")}
    user = factories.UserFactory()
    signed_in(client, user)
    number = make_id_number("110105", dt.date(1980, 1, 1), 17)
    statuses = [
        client.post(
            reverse("people:family"),
            {"name": "某人", "id_number": number, "relation": "parent"},
        ).status_code
        for _ in range(5)
    ]
    assert statuses[:3] == [400, 400, 400] and statuses[3:] == [429, 429]


def test_citizen_usernames_are_not_their_mobiles(client):
    number = make_id_number("340104", dt.date(1990, 5, 17), 127)
    factories.registry_person(name="张三", id_number=number)
    client.post(
        reverse("people:signup"),
        {"name": "张三", "id_number": number, "mobile": "13912340000"},
    )
    finish(client, last_code("13912340000"))
    user = User.objects.get(mobile="13912340000")
    assert "13912340000" not in user.username
