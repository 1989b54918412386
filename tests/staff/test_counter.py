"""Counter work: register a person without an account (窗口登记)."""

import datetime as dt

from django.urls import reverse

from core.identity import make_id_number
from people.models import Person, StaffAccess
from tests.factories import PersonFactory, registry_person

URL = "staff:counter_person"


def test_clerk_registers_a_person_in_their_region_and_opens_the_record(
    client, staff, regions
):
    client.force_login(staff["clerk"])
    number = make_id_number("340104", dt.date(1960, 5, 1), 21)
    registry_person(name="王芳", id_number=number)
    response = client.post(
        reverse(URL), {"name": "王芳", "id_number": number.lower(), "mobile": ""}
    )
    person = Person.objects.get(id_number=number)
    assert response.status_code == 302
    # Straight on to the person's counter page, where the clerk goes on.
    assert response["Location"] == reverse(
        "staff:counter_person_detail", args=[person.pk]
    )
    assert person.region_id == "340100" and person.name == "王芳" and person.sex == "M"
    assert StaffAccess.objects.filter(
        person=person, staff=staff["clerk"], action="change"
    ).exists()


def test_a_wrong_check_digit_is_refused_beside_the_field(client, staff, regions):
    client.force_login(staff["clerk"])
    response = client.post(
        reverse(URL), {"name": "王芳", "id_number": "340104199001011237"}
    )
    assert response.status_code == 400
    assert "第18位校验码不正确" in response.content.decode()
    assert not Person.objects.filter(id_number="340104199001011237").exists()


def test_a_name_that_does_not_match_the_record_is_refused(client, staff, regions):
    person = PersonFactory(region=regions[0], name="张三")
    client.force_login(staff["clerk"])
    response = client.post(
        reverse(URL), {"name": "张四", "id_number": person.id_number}
    )
    assert response.status_code == 400
    # The population registry refuses the pair before the record is compared.
    assert "未通过户籍人口库核验" in response.content.decode()


def test_a_person_insured_in_another_region_stays_with_that_region(
    client, staff, regions
):
    person = PersonFactory(region=regions[1], name="赵六")
    client.force_login(staff["clerk"])
    response = client.post(
        reverse(URL), {"name": "赵六", "id_number": person.id_number}
    )
    assert response.status_code == 400
    person.refresh_from_db()
    assert person.region_id == "110000"
    assert not StaffAccess.objects.filter(person=person).exists()


def test_auditors_and_staff_without_a_region_cannot_register(client, staff, regions):
    for role in ("auditor", "no_region"):
        client.force_login(staff[role])
        assert client.get(reverse(URL)).status_code == 403


def test_the_person_add_button_leads_to_the_counter_form(client, staff, regions):
    client.force_login(staff["clerk"])
    response = client.get(reverse("admin:people_person_add"))
    assert response.status_code == 302 and response["Location"] == reverse(URL)


def test_a_walk_in_unknown_to_the_registry_is_refused_and_nothing_written(
    client, staff, regions
):
    client.force_login(staff["clerk"])
    number = make_id_number("340104", dt.date(1961, 5, 1), 23)
    response = client.post(reverse(URL), {"name": "假名", "id_number": number})
    assert response.status_code == 400
    assert "未通过户籍人口库核验" in response.content.decode()
    assert not Person.objects.filter(id_number=number).exists()


def test_registry_unavailable_is_a_try_later_page_and_nothing_written(
    client, staff, regions, settings
):
    settings.REGISTRY_SIMULATION = {"unavailable": True}
    client.force_login(staff["clerk"])
    number = make_id_number("340104", dt.date(1962, 5, 1), 25)
    registry_person(name="王芳", id_number=number)
    response = client.post(reverse(URL), {"name": "王芳", "id_number": number})
    assert response.status_code == 503
    assert "稍后再试" in response.content.decode()
    assert not Person.objects.filter(id_number=number).exists()


AUTHORITY_URL = "staff:counter_authority"


def test_clerk_records_an_adults_consent_in_person(client, staff, regions):
    from people.models import FamilyLink, Notification

    relative = PersonFactory(region=regions[0], name="刘秀英")
    owner = PersonFactory(region=regions[0], name="陈静")
    client.force_login(staff["clerk"])
    response = client.post(
        reverse(AUTHORITY_URL),
        {
            "relative_id_number": relative.id_number,
            "owner_id_number": owner.id_number,
            "relation": "parent",
            "basis": "counter_consent",
            "evidence": "双方身份证原件",
        },
    )
    assert response.status_code == 302
    link = FamilyLink.objects.get(owner=owner, relative=relative)
    assert (link.status, link.basis, link.recorded_by) == (
        "granted",
        "counter_consent",
        staff["clerk"],
    )
    assert StaffAccess.objects.filter(person=relative, staff=staff["clerk"]).exists()
    assert Notification.objects.filter(person=relative).exists()


def test_an_adult_cannot_be_given_by_a_household_register(client, staff, regions):
    from people.models import FamilyLink

    relative = PersonFactory(region=regions[0])
    owner = PersonFactory(region=regions[0])
    client.force_login(staff["clerk"])
    response = client.post(
        reverse(AUTHORITY_URL),
        {
            "relative_id_number": relative.id_number,
            "owner_id_number": owner.id_number,
            "relation": "child",
            "basis": "household_register",
            "evidence": "户口本",
        },
    )
    assert response.status_code == 400
    assert not FamilyLink.objects.exists()


def test_a_person_of_another_region_is_not_found_at_this_counter(
    client, staff, regions
):
    from people.models import FamilyLink

    relative = PersonFactory(region=regions[1])
    owner = PersonFactory(region=regions[0])
    client.force_login(staff["clerk"])
    response = client.post(
        reverse(AUTHORITY_URL),
        {
            "relative_id_number": relative.id_number,
            "owner_id_number": owner.id_number,
            "relation": "parent",
            "basis": "counter_consent",
            "evidence": "身份证",
        },
    )
    assert response.status_code == 400
    assert not FamilyLink.objects.exists()


def test_auditors_cannot_record_authorities(client, staff, regions):
    client.force_login(staff["auditor"])
    assert client.get(reverse(AUTHORITY_URL)).status_code == 403
