"""The shared records' staff pages: regions, persons, logins, the index."""

from __future__ import annotations

from django.urls import reverse

from core.models import Region
from people.models import Person, Role, User
from tests.factories import PersonFactory, UserFactory


def test_supervisor_sets_transfer_processing_of_their_own_region_only(
    client, staff, regions
):
    hefei, beijing, _ = regions
    client.force_login(staff["supervisor"])
    url = reverse("admin:core_region_change", args=[hefei.pk])
    # Name and province are read-only for supervisors: a changed name is ignored.
    response = client.post(url, {"transfer_processing": "manual", "name": "改名"})
    assert response.status_code == 302
    hefei.refresh_from_db()
    assert hefei.transfer_processing == "manual" and hefei.name == "合肥市"
    other = client.post(
        reverse("admin:core_region_change", args=[beijing.pk]),
        {"transfer_processing": "manual"},
    )
    assert other.status_code == 302 and other["Location"] == reverse("admin:index")
    assert Region.objects.get(pk=beijing.pk).transfer_processing == "auto"


def test_clerk_cannot_change_the_region_setting(client, staff, regions):
    client.force_login(staff["clerk"])
    url = reverse("admin:core_region_change", args=[regions[0].pk])
    assert client.get(url).status_code == 200  # read-only view
    assert client.post(url, {"transfer_processing": "manual"}).status_code == 403
    assert Region.objects.get(pk=regions[0].pk).transfer_processing == "auto"


def test_person_list_masks_numbers_and_searches_by_exact_id_or_name_in_region(
    client, staff, regions
):
    wang = PersonFactory(region=regions[0], name="王五", mobile="13812345678")
    PersonFactory(region=regions[1], name="王五")
    client.force_login(staff["clerk"])
    url = reverse("admin:people_person_changelist")
    page = client.get(url).content.decode()
    assert wang.id_masked in page and wang.id_number not in page
    assert "138****5678" in page and "13812345678" not in page

    def search(term):
        # The search form posts; the term waits in the session, never in a URL.
        posted = client.post(url, {"q": term})
        assert posted.status_code == 302
        assert term not in posted["Location"] and "qk=" in posted["Location"]
        return client.get(posted["Location"])

    by_id = search(wang.id_number.lower())
    assert list(by_id.context["cl"].result_list) == [wang]
    by_name = search("王五")
    assert list(by_name.context["cl"].result_list) == [wang]  # not the 北京 王五
    partial = search(wang.id_number[:10])
    assert list(partial.context["cl"].result_list) == []
    # A term typed into the address bar is moved out of it at once.
    typed = client.get(url, {"q": "王五"})
    assert typed.status_code == 302 and "王五" not in typed["Location"]


def test_persons_are_never_deleted_in_the_admin(client, staff, regions):
    person = PersonFactory(region=regions[0])
    for role in ("clerk", "supervisor", "superuser"):
        client.force_login(staff[role])
        response = client.post(
            reverse("admin:people_person_delete", args=[person.pk]), {"post": "yes"}
        )
        assert response.status_code in (302, 403)
    assert Person.objects.filter(pk=person.pk).exists()


def test_person_change_form_shows_no_full_identity_number(client, staff, regions):
    person = PersonFactory(region=regions[0])
    client.force_login(staff["clerk"])
    page = client.get(
        reverse("admin:people_person_change", args=[person.pk])
    ).content.decode()
    assert person.id_masked in page and person.id_number not in page


def test_superuser_manages_logins_but_a_citizen_password_is_never_shown(
    client, staff, regions
):
    citizen = UserFactory()
    client.force_login(staff["superuser"])
    page = client.get(
        reverse("admin:people_user_change", args=[citizen.pk])
    ).content.decode()
    assert citizen.password not in page
    assert citizen.password.split("$")[0] not in page  # not even the hash summary
    form = (
        client.get(reverse("admin:people_user_change", args=[citizen.pk]))
        .context["adminform"]
        .form
    )
    assert "password" not in form.fields

    response = client.post(
        reverse("admin:people_user_add"),
        {
            "username": "new_clerk",
            "role": Role.CLERK,
            "region": regions[0].pk,
            "password1": "Strong-Pass-2026",
            "password2": "Strong-Pass-2026",
        },
    )
    assert response.status_code == 302
    created = User.objects.get(username="new_clerk")
    assert created.is_staff and list(created.groups.values_list("name", flat=True)) == [
        "clerk"
    ]


def test_a_clerk_without_region_is_refused_with_a_form_error(client, staff, regions):
    client.force_login(staff["superuser"])
    response = client.post(
        reverse("admin:people_user_add"),
        {
            "username": "lost_clerk",
            "role": Role.CLERK,
            "region": "",
            "password1": "Strong-Pass-2026",
            "password2": "Strong-Pass-2026",
        },
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="lost_clerk").exists()


def test_index_names_the_role_and_region_and_links_staff_pages(client, staff, regions):
    client.force_login(staff["clerk"])
    page = client.get(reverse("admin:index")).content.decode()
    assert (
        "合肥市" in page
        and reverse("staff:dashboard") in page
        and reverse("staff:counter_person") in page
    )
    # The work queues, each a link to its filtered list.
    assert (
        reverse("admin:enrollment_enrollment_changelist") + "?verification=pending"
        in page
    )
    assert reverse("admin:payments_payment_changelist") + "?attention=failed" in page
    assert reverse("admin:transfers_outgoingqueue_changelist") in page
    client.force_login(staff["auditor"])
    page = client.get(reverse("admin:index")).content.decode()
    assert (
        reverse("staff:dashboard") in page
        and reverse("staff:counter_person") not in page
    )
    client.force_login(staff["no_region"])
    page = client.get(reverse("admin:index")).content.decode()
    assert reverse("staff:dashboard") not in page
    assert reverse("admin:people_person_changelist") not in page


def _csv_rows(response):
    import csv
    import io

    return list(
        csv.reader(
            io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))
        )
    )


def test_selected_rows_export_as_csv_masked_and_within_the_region(
    client, staff, regions
):
    from people.models import StaffAccess

    mine = PersonFactory(region=regions[0], name="钱七", mobile="13812345678")
    theirs = PersonFactory(region=regions[1], name="孙八")
    for role in ("clerk", "auditor"):
        client.force_login(staff[role])
        response = client.post(
            reverse("admin:people_person_changelist"),
            {"action": "export_csv", "_selected_action": [mine.pk, theirs.pk]},
        )
        assert response.status_code == 200 and response["Content-Type"].startswith(
            "text/csv"
        )
        rows = _csv_rows(response)
        body = "\n".join(",".join(r) for r in rows)
        assert rows[0][:2] == ["姓名", "身份证号"]
        assert (
            mine.id_masked in body
            and mine.id_number not in body
            and "138****5678" in body
        )
        if role == "clerk":
            assert (
                len(rows) == 2 and "孙八" not in body
            )  # the 北京 id in the selection is dropped
        else:
            assert len(rows) == 3  # auditors read every region
    assert StaffAccess.objects.filter(
        person=mine, staff=staff["clerk"], action="view"
    ).exists()
    assert not StaffAccess.objects.filter(person=theirs, staff=staff["clerk"]).exists()


def test_a_mistyped_mobile_is_refused_with_how_to_fix_it(client, staff, regions):
    person = PersonFactory(region=regions[0], mobile="13800001111")
    client.force_login(staff["clerk"])
    response = client.post(
        reverse("admin:people_person_change", args=[person.pk]), {"mobile": "1234"}
    )
    assert response.status_code == 200
    assert "手机号应为以1开头的11位数字" in response.content.decode()
    person.refresh_from_db()
    assert person.mobile == "13800001111"
