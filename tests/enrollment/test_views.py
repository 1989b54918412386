"""Citizen enrollment pages: form → check your answers → confirmation; bad
input answers 400 with the message beside the field and writes nothing;
anyone else's records are 404."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from core.identity import make_id_number
from enrollment.models import Enrollment, EnrollmentStatus
from people.models import FamilyLink, Person
from tests import factories

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def in_the_2027_window():
    with time_machine.travel(
        dt.datetime(2026, 10, 15, 10, 0, tzinfo=SHANGHAI), tick=False
    ):
        yield


@pytest.fixture
def signed_in(client, hefei, citizen):
    client.force_login(citizen)
    return client


def field_errors(response, field):
    return response.context["form"].errors.get(field, [])


def resident_data(person, **extra):
    return {
        "person": str(person.pk),
        "year": "2027",
        "region": "340100",
        "category": "ordinary",
        **extra,
    }


def test_resident_form_then_check_page_writes_nothing(signed_in, citizen):
    assert signed_in.get(reverse("enrollment:resident")).status_code == 200
    response = signed_in.post(
        reverse("enrollment:resident"), resident_data(citizen.person)
    )
    assert response.status_code == 200
    assert "请核对登记信息" in response.content.decode()
    assert "¥440.00" in response.content.decode()
    assert not Enrollment.objects.exists()


def test_confirming_registers_and_shows_the_reference(signed_in, citizen):
    response = signed_in.post(
        reverse("enrollment:resident"), resident_data(citizen.person, step="confirm")
    )
    enrollment = Enrollment.objects.get(person=citizen.person)
    assert response.status_code == 302 and response.url == reverse(
        "enrollment:done", args=[enrollment.pk]
    )
    page = signed_in.get(response.url).content.decode()
    assert enrollment.reference in page and "2026年12月31日" in page


def test_a_family_member_can_be_registered(signed_in, citizen):
    relative = factories.PersonFactory()
    factories.family_link(citizen.person, relative)
    signed_in.post(
        reverse("enrollment:resident"), resident_data(relative, step="confirm")
    )
    assert Enrollment.objects.filter(person=relative, registered_by=citizen).exists()


def test_tampered_person_id_is_a_form_error_and_writes_nothing(signed_in):
    stranger = factories.PersonFactory()
    response = signed_in.post(
        reverse("enrollment:resident"), resident_data(stranger, step="confirm")
    )
    assert response.status_code == 400
    assert field_errors(response, "person")
    assert not Enrollment.objects.exists()


def test_another_persons_id_in_the_address_is_404(signed_in):
    stranger = factories.PersonFactory()
    assert (
        signed_in.get(
            reverse("enrollment:resident") + f"?person={stranger.pk}"
        ).status_code
        == 404
    )
    assert (
        signed_in.get(reverse("enrollment:resident") + "?person=abc").status_code == 404
    )


@pytest.mark.parametrize(
    "field,value",
    [("year", "2031"), ("region", "999999"), ("category", "vip"), ("year", "x")],
)
def test_tampered_choices_are_errors_beside_their_field(
    signed_in, citizen, field, value
):
    response = signed_in.post(
        reverse("enrollment:resident"),
        resident_data(citizen.person, step="confirm", **{field: value}),
    )
    assert response.status_code == 400 and field_errors(response, field)
    assert 'class="alert alert-danger error-summary"' in response.content.decode()
    assert not Enrollment.objects.exists()


def test_a_date_outside_the_window_is_an_error_beside_the_year(client, hefei, citizen):
    client.force_login(citizen)
    with time_machine.travel(
        dt.datetime(2026, 8, 15, 10, 0, tzinfo=SHANGHAI), tick=False
    ):
        response = client.post(
            reverse("enrollment:resident"),
            resident_data(citizen.person, step="confirm"),
        )
    assert response.status_code == 400 and field_errors(response, "year")
    assert not Enrollment.objects.exists()


def test_a_second_registration_for_the_year_is_an_error_beside_the_person(
    signed_in, citizen
):
    signed_in.post(
        reverse("enrollment:resident"), resident_data(citizen.person, step="confirm")
    )
    response = signed_in.post(
        reverse("enrollment:resident"), resident_data(citizen.person, step="confirm")
    )
    assert response.status_code == 400 and field_errors(response, "person")
    assert Enrollment.objects.count() == 1


def test_a_reduced_category_says_it_waits_for_verification(signed_in, citizen):
    response = signed_in.post(
        reverse("enrollment:resident"), resident_data(citizen.person, category="dibao")
    )
    assert "需经办人员审核" in response.content.decode()


# --- newborn ----------------------------------------------------------------------


def _bad_checksum(number):
    return number[:17] + ("0" if number[17] != "0" else "1")


def newborn_data(number, name="小宝", **extra):
    return {
        "name": name,
        "id_number": number,
        "birth_certificate": "Q341000013",
        "relation": "child",
        "year": "2027",
        "region": "340100",
        **extra,
    }


def test_newborn_check_page_reads_the_birth_date_from_the_number(signed_in):
    number = make_id_number("340104", dt.date(2026, 9, 20), 11)
    response = signed_in.post(reverse("enrollment:newborn"), newborn_data(number))
    assert response.status_code == 200 and "2026-09-20" in response.content.decode()
    assert not Person.objects.filter(id_number=number).exists()


def test_newborn_confirmed_adds_the_child_and_registers(signed_in, citizen):
    number = make_id_number("340104", dt.date(2026, 9, 20), 13)
    factories.registry_person(
        name="小宝",
        id_number=number,
        birth_certificate="Q341000013",
        father_id_number=citizen.person.id_number,
    )
    response = signed_in.post(
        reverse("enrollment:newborn"), newborn_data(number, step="confirm")
    )
    assert response.status_code == 302
    child = Person.objects.get(id_number=number)
    assert FamilyLink.objects.filter(
        owner=citizen.person, relative=child, relation="child", status="granted"
    ).exists()
    assert Enrollment.objects.get(person=child).is_newborn


@pytest.mark.parametrize(
    "number,message",
    [
        (_bad_checksum(make_id_number("340104", dt.date(2026, 9, 20), 11)), "校验码"),
        (make_id_number("340104", dt.date(2026, 9, 20), 11)[:17], "18位"),
        (
            "340104202612010118",
            "晚于今天",
        ),  # a future birth date (checksum irrelevant: refused first)
        (make_id_number("340104", dt.date(1990, 1, 1), 11), "已满一周岁"),
    ],
)
def test_bad_newborn_numbers_are_errors_beside_the_field(signed_in, number, message):
    response = signed_in.post(
        reverse("enrollment:newborn"), newborn_data(number, step="confirm")
    )
    assert response.status_code == 400
    assert any(message in str(error) for error in field_errors(response, "id_number"))
    assert not Enrollment.objects.exists() and Person.objects.count() == 1


def test_newborn_name_must_match_an_existing_record(signed_in):
    child = factories.PersonFactory(birth_date=dt.date(2026, 9, 1), name="王小二")
    response = signed_in.post(
        reverse("enrollment:newborn"),
        newborn_data(child.id_number, name="李四", step="confirm"),
    )
    assert response.status_code == 400 and field_errors(response, "name")
    assert not Enrollment.objects.exists()


# --- flexible ---------------------------------------------------------------------


def flexible_data(person, base, **extra):
    return {
        "person": str(person.pk),
        "year": "2026",
        "region": "340100",
        "base": base,
        **extra,
    }


def test_flexible_page_shows_the_allowed_range_and_premium(signed_in):
    page = signed_in.get(reverse("enrollment:flexible")).content.decode()
    assert "¥5,195.42 – ¥25,977.12" in page  # 合肥 2026: 8,659.04 × 60%–300%


def test_flexible_check_page_prices_base_times_rate(signed_in, citizen):
    response = signed_in.post(
        reverse("enrollment:flexible"), flexible_data(citizen.person, "8000")
    )
    assert response.status_code == 200 and "¥640.00" in response.content.decode()


@pytest.mark.parametrize("base", ["100", "999999", "-5", "abc", ""])
def test_flexible_base_out_of_range_is_an_error_beside_the_base(
    signed_in, citizen, base
):
    response = signed_in.post(
        reverse("enrollment:flexible"),
        flexible_data(citizen.person, base, step="confirm"),
    )
    assert response.status_code == 400 and field_errors(response, "base")
    assert not Enrollment.objects.exists()


def test_flexible_confirmed_registers_with_the_base(signed_in, citizen):
    response = signed_in.post(
        reverse("enrollment:flexible"),
        flexible_data(citizen.person, "8000", step="confirm"),
    )
    assert response.status_code == 302
    assert (
        str(Enrollment.objects.get(person=citizen.person).contribution_base)
        == "8000.00"
    )


# --- coverage, confirmation and cancellation ---------------------------------------


def test_coverage_page_shows_self_and_family_with_waiting_and_months(
    signed_in, citizen
):
    from enrollment import services

    relative = factories.PersonFactory(name="张小红")
    factories.family_link(citizen.person, relative)
    factories.EnrollmentFactory(person=relative, year=2021, status="active")
    enrollment = services.enrollment_register_resident(
        actor=citizen, person=relative, region="340100", year=2027, category="ordinary"
    )
    services.months_add(
        person_id=relative.pk,
        region_code="340100",
        kind="actual",
        months=12,
        reference="x1",
    )
    services.months_add(
        person_id=relative.pk,
        region_code="340100",
        kind="deemed",
        months=30,
        reference="x2",
    )
    page = signed_in.get(reverse("enrollment:coverage")).content.decode()
    assert citizen.person.name in page and "张小红" in page
    assert "实际缴费 12 个月，视同缴费 30 个月" in page
    assert enrollment.waiting_reason in page and "2027-01-01 – 2027-12-31" in page
    assert relative.id_number not in page and relative.id_masked in page


def test_done_page_of_someone_elses_enrollment_is_404(signed_in):
    other = factories.EnrollmentFactory()
    assert signed_in.get(reverse("enrollment:done", args=[other.pk])).status_code == 404
    assert (
        signed_in.post(reverse("enrollment:cancel", args=[other.pk])).status_code == 404
    )
    other.refresh_from_db()
    assert other.status == EnrollmentStatus.REGISTERED


def test_cancel_asks_first_then_cancels(signed_in, citizen):
    enrollment = factories.EnrollmentFactory(person=citizen.person, year=2027)
    assert (
        "确认撤销登记"
        in signed_in.get(
            reverse("enrollment:cancel", args=[enrollment.pk])
        ).content.decode()
    )
    response = signed_in.post(reverse("enrollment:cancel", args=[enrollment.pk]))
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.CANCELLED


def test_cancelling_a_paid_enrollment_is_refused_with_a_message(signed_in, citizen):
    enrollment = factories.EnrollmentFactory(
        person=citizen.person, year=2026, status="active"
    )
    response = signed_in.post(reverse("enrollment:cancel", args=[enrollment.pk]))
    assert response.status_code == 409 and "只有尚未缴费" in response.content.decode()


def test_pages_need_a_login(client):
    response = client.get(reverse("enrollment:coverage"))
    assert response.status_code == 302 and reverse("people:login") in response.url


def test_staff_without_a_person_are_sent_home(client, hefei):
    client.force_login(factories.StaffFactory())
    assert client.get(reverse("enrollment:resident")).status_code == 302


@pytest.mark.parametrize(
    "url_name", ["enrollment:resident", "enrollment:newborn", "enrollment:flexible"]
)
@pytest.mark.parametrize(
    "junk",
    [
        {},
        {"step": "confirm"},
        {
            "person": "1 OR 1=1",
            "year": "2027",
            "region": "340100",
            "category": "ordinary",
            "step": "confirm",
        },
        {
            "person": "９",
            "year": "二〇二七",
            "region": "x" * 5000,
            "base": "1e400",
            "id_number": "\x00" * 18,
            "name": "<script>",
            "relation": "child",
            "step": "confirm",
        },
    ],
)
def test_junk_input_is_400_and_writes_nothing(signed_in, url_name, junk):
    response = signed_in.post(reverse(url_name), junk)
    assert response.status_code == 400
    assert not Enrollment.objects.exists() and Person.objects.count() == 1


@pytest.mark.parametrize("base", ["-100", "99999999999999999999", "1e400", "6000.555"])
def test_a_flexible_base_of_any_shape_gets_the_portals_own_message(
    signed_in, citizen, base
):
    response = signed_in.post(
        reverse("enrollment:flexible"), flexible_data(citizen.person, base)
    )
    assert response.status_code == 400
    messages = " ".join(field_errors(response, "base"))
    # The policy's range (or the cents rule), never Django's digit counts.
    assert any(text in messages for text in ("¥5,195.42", "范围", "两位小数")), messages
    assert "个数字" not in messages and "0.01" not in messages
    assert not Enrollment.objects.exists()


# --- 参保地 follows the person, never the first region in the list ----------------


def region_selected(response) -> str | None:
    """The value of the 参保地 option the page preselects (None: the blank one)."""
    import re

    body = response.content.decode()
    select = re.search(r'<select name="region".*?</select>', body, re.S).group(0)
    found = re.search(r'<option value="(\d*)"[^>]*\bselected\b', select)
    return found.group(1) or None if found else None


def person_numbered(county: str, seq: int, **extra):
    return factories.PersonFactory(
        id_number=make_id_number(county, dt.date(1988, 5, 6), seq), **extra
    )


@pytest.mark.parametrize(
    ("county", "expected"),
    [("340104", "340100"), ("110105", "110000"), ("440106", None)],
    ids=["hefei-number", "beijing-municipality", "no-such-region"],
)
@pytest.mark.parametrize("url_name", ["enrollment:resident", "enrollment:flexible"])
def test_without_a_region_the_form_offers_the_one_of_the_identity_number(
    client, hefei, beijing, url_name, county, expected
):
    """No region on record: 3401xx → 合肥, 1101xx → 北京 (a municipality),
    a number of a region without a policy → nothing chosen; never 北京 just
    for being first in the list."""
    user = factories.UserFactory(person=person_numbered(county, 131))
    client.force_login(user)
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    assert region_selected(response) == expected
    assert "请选择参保地" in response.content.decode()


def test_the_persons_own_region_comes_before_the_number(client, hefei, beijing):
    user = factories.UserFactory(
        person=person_numbered("340104", 133, region=factories.region("110000"))
    )
    client.force_login(user)
    assert region_selected(client.get(reverse("enrollment:resident"))) == "110000"


def test_a_relative_asked_for_gets_their_own_region(client, hefei, beijing):
    user = factories.UserFactory(person=person_numbered("110105", 135))
    relative = person_numbered("340104", 137)
    factories.family_link(user.person, relative, "parent")
    client.force_login(user)
    response = client.get(
        reverse("enrollment:resident") + f"?person={relative.pk}&year=2027"
    )
    assert region_selected(response) == "340100"
    newborn = client.get(reverse("enrollment:newborn"))
    assert region_selected(newborn) == "110000"  # the parent's own


def test_no_region_chosen_is_asked_for_beside_the_field(signed_in, citizen):
    response = signed_in.post(
        reverse("enrollment:resident"), resident_data(citizen.person, region="")
    )
    assert response.status_code == 400
    assert field_errors(response, "region") == ["请选择参保地（统筹区）。"]
    assert not Enrollment.objects.exists()


def test_each_person_offered_carries_the_region_to_offer_them(client, hefei, beijing):
    """The page's script moves 参保地 to the region of the person chosen."""
    user = factories.UserFactory(person=person_numbered("110105", 139))
    relative = person_numbered("340104", 141)
    factories.family_link(user.person, relative, "parent")
    client.force_login(user)
    body = client.get(reverse("enrollment:resident")).content.decode()
    assert f'value="{user.person.pk}" data-region="110000"' in body
    assert f'value="{relative.pk}" data-region="340100"' in body
    assert "js/enrollment.js" in body and "<script>" not in body
