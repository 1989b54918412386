"""The citizen pages of records: the filing form, check your answers,
confirmation, detail, cancel and certificate; 参保证明; 个人账户; 缴费年限.
Errors beside their fields with nothing written; numbers masked; query counts
that do not grow with the data."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from payments.models import EntryKind
from payments.services import account_get_or_create, account_post
from people.models import Notification, ProxyAccess, Scope
from records import services
from records.models import Filing, FilingStatus, InsuranceCertificate
from tests import factories

from .conftest import BEIJING, FUZHOU, HEFEI, QINGDAO, TODAY, covered, months

pytestmark = pytest.mark.django_db

NEW = "/records/filings/new/"


def form_data(person, **changes):
    data = {
        "person": str(person.pk),
        "reason": "referral",
        "destination": BEIJING,
        "start_on": TODAY.isoformat(),
        "residence_permit_number": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_form_offers_the_persons_one_may_enroll_for_and_every_province(
    client, citizen
):
    viewer_only = factories.PersonFactory(name="只看")
    factories.family_link(citizen.person, viewer_only, scopes=[Scope.VIEW])
    client.force_login(citizen)
    response = client.get(NEW)
    assert response.status_code == 200
    text = response.content.decode()
    assert citizen.person.id_masked in text
    assert citizen.person.id_number not in text
    assert "只看" not in text
    assert "山东省青岛市" in text and "广东省" in text
    assert 'value="2026-06-15"' in text


def test_check_page_summarises_before_anything_is_written(client, citizen):
    client.force_login(citizen)
    response = client.post(NEW, form_data(citizen.person))
    assert response.status_code == 200
    text = response.content.decode()
    assert "请核对备案信息" in text
    assert "北京市" in text and "确认备案" in text
    assert "2026年12月14日" in text  # six months, the last day included
    assert Filing.objects.count() == 0


def test_confirming_files_it_and_shows_the_number_large(client, citizen):
    client.force_login(citizen)
    response = client.post(NEW, {**form_data(citizen.person), "confirm": "1"})
    filing = Filing.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("records:filing_done", args=[filing.pk])
    page = client.get(response["Location"]).content.decode()
    assert filing.number in page and filing.verification_code in page
    assert "下载备案凭证" in page
    assert filing.status == FilingStatus.ACTIVE


def test_edit_from_the_check_page_returns_to_the_form_on_that_field(client, citizen):
    client.force_login(citizen)
    response = client.post(NEW, {**form_data(citizen.person), "edit": "destination"})
    assert response.status_code == 200
    assert "autofocus" in response.content.decode()
    assert Filing.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"destination": HEFEI}, "destination", "就医地不能是参保地"),
        ({"destination": "340000"}, "destination", "就医地不能是参保地"),
        ({"destination": "999999"}, "destination", "请从列表中选择就医地"),
        ({"reason": "holiday"}, "reason", "选择一个有效的选项"),
        ({"start_on": "2026-06-01"}, "start_on", "只有急诊抢救可以在事后补办"),
        ({"start_on": "2026-13-01"}, "start_on", "请按 年-月-日 填写日期"),
        (
            {"reason": "emergency", "start_on": "2026-05-01"},
            "start_on",
            "急诊抢救补办备案，开始日期最早为",
        ),
        ({"start_on": "2026-12-01"}, "start_on", "开始日期最晚为"),
        ({"reason": "resident"}, "residence_permit_number", "须填写居住证号"),
        (
            {"reason": "resident", "residence_permit_number": "12-34"},
            "residence_permit_number",
            "居住证号应为6至30位",
        ),
    ],
)
def test_each_bad_answer_is_shown_beside_its_field_and_nothing_is_written(
    client, citizen, changes, field, message
):
    client.force_login(citizen)
    data = {**form_data(citizen.person, **changes), "confirm": "1"}
    response = client.post(NEW, data)
    assert response.status_code == 400
    form = response.context["form"]
    assert any(message in str(error) for error in form.errors[field]), form.errors
    assert 'class="alert alert-danger error-summary"' in response.content.decode()
    assert Filing.objects.count() == 0
    assert Notification.objects.count() == 0


def test_a_person_not_covered_today_is_told_so_beside_the_person(client, regions):
    user = factories.UserFactory(person__region=regions[HEFEI])
    covered(user.person, year=2025)  # ended last year
    client.force_login(user)
    response = client.post(NEW, form_data(user.person))
    assert response.status_code == 400
    assert "不在医保待遇享受期内" in str(response.context["form"].errors["person"])


def test_a_person_outside_the_choices_is_a_form_error(client, citizen):
    stranger = factories.PersonFactory()
    covered(stranger)
    client.force_login(citizen)
    response = client.post(NEW, {**form_data(stranger), "confirm": "1"})
    assert response.status_code == 400
    assert "person" in response.context["form"].errors
    assert Filing.objects.count() == 0


def test_long_term_filing_with_a_commitment_letter(client, citizen):
    client.force_login(citizen)
    data = {
        **form_data(citizen.person, reason="retired", destination=QINGDAO),
        "commitment": "on",
    }
    check = client.post(NEW, data)
    assert check.status_code == 200
    assert "个人承诺书" in check.content.decode()
    assert "前不能变更或取消" in check.content.decode()
    client.post(NEW, {**data, "confirm": "1"})
    filing = Filing.objects.get()
    assert (filing.kind, filing.evidence) == ("long_term", "commitment")
    assert filing.destination_region_id == QINGDAO


def test_family_member_with_authority_files_for_the_person(client, citizen):
    child = factories.PersonFactory(name="王小")
    covered(child)
    factories.family_link(citizen.person, child)
    client.force_login(citizen)
    client.post(NEW, {**form_data(child), "confirm": "1"})
    filing = Filing.objects.get()
    assert filing.person == child and filing.applicant == citizen
    assert ProxyAccess.objects.filter(person=child, scope=Scope.ENROLL).exists()


def test_detail_offers_cancel_and_cancelling_asks_first(client, citizen):
    filing = services.filing_create(
        actor=citizen,
        person_id=citizen.person.pk,
        reason="other",
        destination_code=FUZHOU,
        start_on=TODAY,
    )
    client.force_login(citizen)
    detail = client.get(reverse("records:filing_detail", args=[filing.pk]))
    assert "取消备案" in detail.content.decode()
    ask = client.get(reverse("records:filing_cancel", args=[filing.pk]))
    assert ask.status_code == 200 and "确认取消备案" in ask.content.decode()
    filing.refresh_from_db()
    assert filing.status == FilingStatus.ACTIVE
    done = client.post(reverse("records:filing_cancel", args=[filing.pk]))
    assert done.status_code == 302
    filing.refresh_from_db()
    assert filing.status == FilingStatus.CANCELLED


def test_a_locked_long_term_filing_shows_when_it_may_change_and_refuses(
    client, citizen
):
    filing = services.filing_create(
        actor=citizen,
        person_id=citizen.person.pk,
        reason="posted",
        destination_code=BEIJING,
        start_on=TODAY,
        residence_permit_number="110105202600001",
    )
    client.force_login(citizen)
    detail = client.get(reverse("records:filing_detail", args=[filing.pk]))
    text = detail.content.decode()
    assert "2026年12月15日 起可以变更或取消" in text
    assert "1101*******0001" in text and "110105202600001" not in text
    response = client.post(reverse("records:filing_cancel", args=[filing.pk]))
    assert response.status_code == 409
    assert "6个月内不能变更或取消" in response.content.decode()
    filing.refresh_from_db()
    assert filing.status == FilingStatus.ACTIVE


def test_filing_certificate_is_a_pdf(client, citizen):
    filing = services.filing_create(
        actor=citizen,
        person_id=citizen.person.pk,
        reason="referral",
        destination_code=BEIJING,
        start_on=TODAY,
    )
    client.force_login(citizen)
    response = client.get(reverse("records:filing_certificate", args=[filing.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert filing.number in response["Content-Disposition"]


def test_filing_list_shows_the_family_filings(client, citizen):
    child = factories.PersonFactory(name="王小")
    covered(child)
    factories.family_link(citizen.person, child)
    for person in (citizen.person, child):
        services.filing_create(
            actor=citizen,
            person_id=person.pk,
            reason="other",
            destination_code=BEIJING,
            start_on=TODAY,
        )
    client.force_login(citizen)
    text = client.get("/records/filings/").content.decode()
    assert "王小" in text and "王芳" in text


# --- 参保证明 ------------------------------------------------------------------------


def test_issuing_a_certificate_stores_it_and_shows_its_code(client, citizen):
    months(citizen.person, actual=30, deemed=6)
    client.force_login(citizen)
    response = client.post(
        reverse("records:certificate_issue", args=[citizen.person.pk])
    )
    certificate = InsuranceCertificate.objects.get()
    assert response["Location"] == reverse(
        "records:certificate_detail", args=[certificate.pk]
    )
    page = client.get(response["Location"]).content.decode()
    assert certificate.verification_code in page
    assert "城乡居民医保" in page and "合肥市" in page
    assert citizen.person.id_masked in page
    assert citizen.person.id_number not in page
    pdf = client.get(reverse("records:certificate_pdf", args=[certificate.pk]))
    assert pdf.content.startswith(b"%PDF")


def test_issuing_needs_a_post(client, citizen):
    client.force_login(citizen)
    url = reverse("records:certificate_issue", args=[citizen.person.pk])
    assert client.get(url).status_code == 405
    assert InsuranceCertificate.objects.count() == 0


def test_no_certificate_for_one_never_paid_and_the_reason_is_beside_them(
    client, regions
):
    user = factories.UserFactory(person__region=regions[HEFEI])
    client.force_login(user)
    response = client.post(reverse("records:certificate_issue", args=[user.person.pk]))
    assert response.status_code == 409
    assert "还没有已缴费的参保记录" in response.content.decode()
    assert InsuranceCertificate.objects.count() == 0


def test_certificate_page_lists_the_persons_one_may_see(client, citizen):
    relative = factories.PersonFactory(name="王母")
    factories.family_link(citizen.person, relative, scopes=[Scope.VIEW])
    client.force_login(citizen)
    text = client.get("/records/certificates/").content.decode()
    assert "王母" in text
    assert reverse("records:certificate_issue", args=[relative.pk]) in text


# --- 个人账户 ------------------------------------------------------------------------


def _account(person, region, amount, reference, kind=EntryKind.CONTRIBUTION):
    account = account_get_or_create(person_id=person.pk, region_code=region)
    account_post(account_id=account.pk, amount=amount, kind=kind, reference=reference)
    return account


def test_account_page_shows_balances_entries_and_money_in_transit(client, citizen):
    person = citizen.person
    _account(person, HEFEI, Decimal("800.00"), "c1")
    _account(person, HEFEI, Decimal("-400.00"), "fp1", EntryKind.FAMILY_PAYMENT)
    _account(
        person, HEFEI, Decimal("-400.00"), "transfer:7:out", EntryKind.TRANSFER_OUT
    )
    _account(person, QINGDAO, Decimal("120.00"), "c2")
    _account(person, QINGDAO, Decimal("50.00"), "transfer:3:in", EntryKind.TRANSFER_IN)
    _account(person, HEFEI, Decimal("50.00"), "c3")
    _account(person, HEFEI, Decimal("-50.00"), "transfer:3:out", EntryKind.TRANSFER_OUT)
    client.force_login(citizen)
    response = client.get("/records/account/")
    text = response.content.decode()
    view = response.context["view"]
    assert [line.region.code for line in view.accounts] == [HEFEI, QINGDAO]
    assert view.total == Decimal("170.00")
    # Transfer 3 arrived; transfer 7's ¥400.00 is still on its way.
    assert view.transit_total == Decimal("400.00")
    assert "¥400.00" in text and "¥170.00" in text
    for label in ("划入", "家庭共济缴费", "转出", "转入"):
        assert label in text
    assert len(view.accounts[0].entries) == 5


def test_account_of_a_family_member_is_recorded_as_looked_at(client, citizen):
    relative = factories.PersonFactory()
    factories.family_link(citizen.person, relative, scopes=[Scope.VIEW])
    _account(relative, HEFEI, Decimal("10.00"), "r1")
    client.force_login(citizen)
    response = client.get(reverse("records:account_person", args=[relative.pk]))
    assert response.status_code == 200
    assert response.context["view"].total == Decimal("10.00")
    assert ProxyAccess.objects.filter(person=relative, scope=Scope.VIEW).exists()


def test_no_account_says_so(client, citizen):
    client.force_login(citizen)
    assert "没有个人账户" in client.get("/records/account/").content.decode()


# --- 缴费年限 ------------------------------------------------------------------------


def test_years_page_shows_months_per_region_the_requirement_and_what_remains(
    client, citizen
):
    months(citizen.person, region=HEFEI, actual=100, deemed=24)
    months(citizen.person, region=BEIJING, actual=36)
    client.force_login(citizen)
    response = client.get("/records/years/")
    view = response.context["view"]
    assert (view.total_actual, view.total_deemed, view.total) == (136, 24, 160)
    assert view.region.code == HEFEI
    assert (view.required_total, view.required_local_actual) == (300, 120)
    assert (view.remaining_total, view.remaining_local_actual) == (140, 20)
    text = response.content.decode()
    assert "11年8个月" in text  # what remains of 25 years
    assert "1年8个月" in text  # of the 10 years paid in 合肥
    assert "北京市" in text


# --- Query counts ----------------------------------------------------------------------


def _queries(client, url) -> int:
    client.get(url)  # warm the session and content types
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def _grow(user, size):
    """More regions, entries, months, filings and certificates for the user."""
    person = user.person
    for n in range(size):
        region = [HEFEI, BEIJING, QINGDAO, FUZHOU][n % 4]
        _account(person, region, Decimal("10.00"), f"g{size}:{n}")
        months(person, region=region, actual=n + 1, tag=f"g{size}:{n}")
        services.certificate_issue(actor=user, person_id=person.pk)
    relative = factories.PersonFactory()
    covered(relative)
    factories.family_link(person, relative)
    for holder in (person, relative):
        filing = services.filing_create(
            actor=user,
            person_id=holder.pk,
            reason="other",
            destination_code=BEIJING,
            start_on=TODAY,
        )
        services.filing_cancel(actor=user, filing_id=filing.pk)


# Measured counts (session, user, page) plus a margin of 2 for shared chrome.
PAGES = [
    ("/records/filings/", 6),
    ("/records/certificates/", 8),
    ("/records/account/", 9),
    ("/records/years/", 9),
    ("/records/filings/new/", 7),
]


@pytest.mark.parametrize(("url", "budget"), PAGES)
def test_page_queries_do_not_grow_with_the_records(
    client, citizen, regions, url, budget, django_assert_num_queries
):
    # One of each to start with (an empty list needs no query at all).
    _account(citizen.person, HEFEI, Decimal("1.00"), "seed")
    months(citizen.person, actual=1, tag="seed")
    client.force_login(citizen)
    small = _queries(client, url)
    _grow(citizen, 8)
    client.get(url)
    with django_assert_num_queries(small):
        assert client.get(url).status_code == 200
    assert small <= budget
