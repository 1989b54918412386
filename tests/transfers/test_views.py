"""Citizen pages: apply (check your answers, confirmation), list, detail with the
timeline and its polling endpoint, cancel, and the information sheet."""

import re

import pytest
from django.urls import reverse

from tests import factories
from transfers import services
from transfers.models import Transfer

from .scenario import IN, OUT, apply_args, ready_person, set_processing

pytestmark = pytest.mark.django_db


@pytest.fixture
def citizen(client):
    user = factories.UserFactory(person__name="张三")
    ready_person(person=user.person)
    client.force_login(user)
    return user


def form_data(person, **changes):
    data = {
        "person": str(person.pk),
        "name": person.name,
        "id_number": person.id_number,
        "kind": "e2e",
        "outgoing_region": OUT,
        "incoming_region": IN,
    }
    data.update(changes)
    return data


def test_pages_need_a_login(client):
    response = client.get(reverse("transfers:list"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_apply_shows_check_your_answers_before_anything_is_written(client, citizen):
    response = client.post(reverse("transfers:apply"), form_data(citizen.person))
    assert response.status_code == 200
    body = response.content.decode()
    assert "核对申请信息" in body and "确认提交申请" in body and "修改" in body
    assert Transfer.objects.count() == 0


def test_confirming_creates_the_transfer_and_says_the_10_days_start_at_acceptance(
    client, citizen
):
    set_processing(OUT, "manual")
    response = client.post(
        reverse("transfers:apply"), {**form_data(citizen.person), "confirm": "1"}
    )
    transfer = Transfer.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "transfers:confirmation", args=[transfer.pk]
    )
    page = client.get(response["Location"]).content.decode()
    assert transfer.reference in page
    # SPEC §8: the outgoing 10 working days run from acceptance, so no date yet.
    assert transfer.outgoing_deadline is None
    assert "受理后10个工作日内" in page and "办理时限从受理之日起算" in page
    assert transfer.channel == "online" and transfer.applicant == citizen
    services.transfer_accept(transfer_id=transfer.pk)
    page = client.get(response["Location"]).content.decode()
    assert re.search(r"将在 \d{4}年\d{1,2}月\d{1,2}日 前出具信息表", page)


def test_a_refused_precondition_is_shown_beside_its_field_with_400(client, citizen):
    data = form_data(citizen.person, name=citizen.person.name + "乙")
    response = client.post(reverse("transfers:apply"), {**data, "confirm": "1"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "姓名或身份证号与参保记录不一致" in body and "error-summary" in body
    assert Transfer.objects.count() == 0


def test_an_invalid_form_answers_400_and_writes_nothing(client, citizen):
    response = client.post(
        reverse("transfers:apply"),
        form_data(citizen.person, id_number="340104199001011237"),
    )
    assert response.status_code == 400
    assert Transfer.objects.count() == 0


def test_someone_elses_person_cannot_be_chosen(client, citizen):
    other, _o, _i = ready_person()
    response = client.post(
        reverse("transfers:apply"), {**form_data(other), "confirm": "1"}
    )
    assert response.status_code == 400
    assert Transfer.objects.count() == 0


def test_detail_shows_the_timeline_with_the_current_step_and_working_days_left(
    client, citizen
):
    set_processing(OUT, "manual")
    transfer = services.transfer_apply(**apply_args(citizen.person), applicant=citizen)
    url = reverse("transfers:detail", args=[transfer.pk])
    body = client.get(url).content.decode()
    assert 'aria-current="step"' in body
    assert "当前环节" in body and "转出地" in body and "转入地" in body
    # Before acceptance there is no deadline yet: the page says when it starts.
    assert "剩余" not in body and "办理时限从受理之日起算" in body
    assert "js/transfers.js" in body and "<script>" not in body
    assert "撤销申请" in body
    services.transfer_accept(transfer_id=transfer.pk)
    body = client.get(url).content.decode()
    assert "当前环节" in body and "剩余 10 个工作日" in body


def test_status_endpoint_gives_what_the_page_polls(client, citizen):
    transfer = services.transfer_apply(**apply_args(citizen.person))
    data = client.get(reverse("transfers:status", args=[transfer.pk])).json()
    assert data["status"] == "submitted" and data["open"] is True and data["version"]


def test_another_citizens_transfer_is_not_found(client, citizen):
    other, _o, _i = ready_person()
    transfer = services.transfer_apply(**apply_args(other))
    for name in ("transfers:detail", "transfers:status", "transfers:confirmation"):
        assert client.get(reverse(name, args=[transfer.pk])).status_code == 404
    assert (
        client.post(reverse("transfers:cancel", args=[transfer.pk])).status_code == 404
    )


def test_list_shows_only_my_transfers(client, citizen):
    mine = services.transfer_apply(**apply_args(citizen.person))
    other, _o, _i = ready_person()
    theirs = services.transfer_apply(**apply_args(other))
    body = client.get(reverse("transfers:list")).content.decode()
    assert mine.reference in body and theirs.reference not in body


def test_cancel_before_acceptance(client, citizen):
    set_processing(OUT, "manual")
    transfer = services.transfer_apply(**apply_args(citizen.person))
    response = client.post(reverse("transfers:cancel", args=[transfer.pk]))
    assert response.status_code == 302
    assert Transfer.objects.get(pk=transfer.pk).status == "cancelled"


def test_a_rejection_shows_the_reason_and_what_to_do_next(client, citizen):
    set_processing(OUT, "manual")
    transfer = services.transfer_apply(**apply_args(citizen.person))
    services.transfer_reject(transfer_id=transfer.pk, code="arrears", text="2025年12月")
    body = client.get(reverse("transfers:detail", args=[transfer.pk])).content.decode()
    assert "转出地存在欠费（2025年12月）" in body
    assert "请先在转出地补缴欠费" in body


def test_the_sheet_opens_for_the_citizen_masked_and_downloads(client, citizen):
    transfer = services.transfer_apply(**apply_args(citizen.person))
    assert client.get(reverse("transfers:sheet", args=[transfer.pk])).status_code == 404
    services.transfer_issue_sheet(transfer_id=transfer.pk)
    page = client.get(reverse("transfers:sheet", args=[transfer.pk])).content.decode()
    assert "参保人员基本医疗保险信息表" in page
    assert citizen.person.id_masked in page and citizen.person.id_number not in page
    assert "¥1,234.56" in page and OUT in page and IN in page
    pdf_url = reverse("transfers:sheet_pdf", args=[transfer.pk])
    assert pdf_url in page
    download = client.get(pdf_url)
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download.content.startswith(b"%PDF")
    # The old download link now leads to the PDF.
    old = client.get(reverse("transfers:sheet", args=[transfer.pk]) + "?download=1")
    assert old.status_code == 302 and old["Location"] == pdf_url


def test_the_sheet_opens_for_staff_of_both_regions_only(client):
    person, _o, _i = ready_person()
    transfer = services.transfer_apply(**apply_args(person))
    services.transfer_issue_sheet(transfer_id=transfer.pk)
    url = reverse("transfers:sheet", args=[transfer.pk])
    for code, expected in ((OUT, 200), (IN, 200), ("370200", 404)):
        client.force_login(factories.StaffFactory(region=factories.region(code)))
        assert client.get(url).status_code == expected, code


def test_list_and_detail_use_a_fixed_number_of_queries(
    client, citizen, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from people.models import FamilyLink

    set_processing(OUT, "manual")
    services.transfer_apply(**apply_args(citizen.person))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("transfers:list"))
    for _ in range(4):
        relative, _o, _i = ready_person()
        FamilyLink.objects.create(
            owner=citizen.person, relative=relative, relation="child"
        )
        services.transfer_apply(**apply_args(relative))
    with CaptureQueriesContext(connection) as five:
        body = client.get(reverse("transfers:list")).content.decode()
    assert body.count("/transfers/") >= 5
    assert len(five) == len(one)
    transfer = Transfer.objects.filter(person=citizen.person).get()
    with django_assert_max_num_queries(len(one) + 4):
        client.get(reverse("transfers:detail", args=[transfer.pk]))


def test_the_form_explains_suspension_and_links_to_it_for_the_person(client, citizen):
    body = client.get(reverse("transfers:apply")).content.decode()
    assert "先在转出地暂停参保" in body
    link = f"{reverse('enrollment:suspend')}?person={citizen.person.pk}"
    assert f'href="{link}"' in body


def test_a_refusal_for_not_suspended_links_to_suspension_for_the_chosen_relative(
    client, citizen
):
    from enrollment.models import EnrollmentStatus

    relative, _o, _i = ready_person(
        person=factories.PersonFactory(name="张小明"),
        out_status=EnrollmentStatus.ACTIVE,
        in_year=2027,
    )
    factories.family_link(citizen.person, relative)
    response = client.post(reverse("transfers:apply"), form_data(relative))
    assert response.status_code == 400
    body = response.content.decode()
    assert "尚未暂停" in body
    link = f"{reverse('enrollment:suspend')}?person={relative.pk}"
    assert f'href="{link}"' in body


def test_a_rejection_for_not_suspended_links_to_suspension(client, citizen):
    set_processing(OUT, "manual")
    transfer = services.transfer_apply(**apply_args(citizen.person))
    services.transfer_reject(transfer_id=transfer.pk, code="not_suspended")
    body = client.get(reverse("transfers:detail", args=[transfer.pk])).content.decode()
    link = f"{reverse('enrollment:suspend')}?person={citizen.person.pk}"
    assert f'href="{link}"' in body
