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


# --- The person chosen: their name, and a mismatch beside the field --------------


@pytest.fixture
def relative(citizen):
    person = factories.PersonFactory(name="张母")
    ready_person(person=person)
    factories.family_link(citizen.person, person, "parent")
    return person


def test_apply_for_a_relative_fills_in_their_name(client, citizen, relative):
    body = client.get(
        reverse("transfers:apply") + f"?person={relative.pk}"
    ).content.decode()
    assert re.search(rf'<option value="{relative.pk}"[^>]*selected', body)
    assert 'value="张母"' in body and 'value="张三"' not in body
    # Each choice carries its name, so the name field follows a new choice.
    assert f'data-name="{citizen.person.name}"' in body and 'data-name="张母"' in body
    assert "js/transfers.js" in body and relative.id_number not in body


def test_apply_for_someone_not_yours_is_404(client, citizen):
    other, _o, _i = ready_person()
    for value in (str(other.pk), "x", "9" * 30):
        url = reverse("transfers:apply") + f"?person={value}"
        assert client.get(url).status_code == 404


def test_a_relative_chosen_with_the_applicants_name_is_refused_beside_the_name(
    client, citizen, relative
):
    data = form_data(relative, name=citizen.person.name)
    response = client.post(reverse("transfers:apply"), {**data, "confirm": "1"})
    assert response.status_code == 400
    assert response.context["form"].errors.get("name")
    assert not response.context["form"].errors.get("id_number")
    assert 'href="#id_name"' in response.content.decode()
    assert Transfer.objects.count() == 0


def test_a_wrong_number_for_the_person_chosen_is_refused_beside_the_number(
    client, citizen, relative
):
    data = form_data(relative, id_number=citizen.person.id_number)
    response = client.post(reverse("transfers:apply"), {**data, "confirm": "1"})
    assert response.status_code == 400
    assert response.context["form"].errors.get("id_number")
    assert not response.context["form"].errors.get("name")
    assert Transfer.objects.count() == 0


def test_the_relatives_transfer_goes_through_with_their_name(client, citizen, relative):
    response = client.post(
        reverse("transfers:apply"), {**form_data(relative), "confirm": "1"}
    )
    assert response.status_code == 302
    assert Transfer.objects.get().person == relative


# --- make run's watched demo transfer waits for its citizen ------------------------


@pytest.fixture
def transfers_demo(db):
    import datetime as dt
    from zoneinfo import ZoneInfo

    import time_machine

    from transfers import demo

    with time_machine.travel(
        dt.datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
    ):
        for code in ("340100", "110000", "370200", "350100"):
            for year in (2026, 2027):
                factories.policy(code, year)
            # The clerks who record the family's consent at the counter.
            factories.StaffFactory(region=factories.region(code))
        demo.seed()
        yield demo


def test_the_demo_transfer_waits_until_its_citizen_opens_its_timeline(
    client, transfers_demo
):
    from people.models import User
    from transfers.models import TransferStatus
    from transfers.services import transfers_scan

    zhou = User.objects.get(mobile=transfers_demo.MOBILE)
    transfer = Transfer.objects.get(person=zhou.person)
    assert transfer.status == TransferStatus.SUBMITTED and transfer.due_at is None
    transfers_scan(time_budget=1.0)  # the beat, minutes after start-up
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.SUBMITTED

    # Someone else with the right to look (staff, a relative) starts nothing.
    staff = factories.StaffFactory(is_superuser=True)
    client.force_login(staff)
    client.get(reverse("transfers:detail", args=[transfer.pk]))
    transfer.refresh_from_db()
    assert transfer.due_at is None

    client.force_login(zhou)
    response = client.get(reverse("transfers:detail", args=[transfer.pk]))
    assert response.status_code == 200
    transfer.refresh_from_db()
    assert transfer.due_at is not None
    transfers_scan(time_budget=5.0)
    transfer.refresh_from_db()
    assert transfer.status != TransferStatus.SUBMITTED
    assert transfer.events.filter(to_status=TransferStatus.OUTGOING_REVIEW).exists()


def test_the_other_demo_transfers_are_not_started_by_opening_them(
    client, transfers_demo
):
    from people.models import User

    zhou = User.objects.get(mobile=transfers_demo.MOBILE)
    client.force_login(zhou)
    others = Transfer.objects.exclude(person=zhou.person)
    before = {t.pk: (t.status, t.due_at, t.next_step) for t in others}
    assert len(before) == 3
    for pk in before:
        assert client.get(reverse("transfers:detail", args=[pk])).status_code == 200
    after = {t.pk: (t.status, t.due_at, t.next_step) for t in others.all()}
    assert after == before
