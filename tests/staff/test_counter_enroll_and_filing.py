"""参保登记 and 异地就医备案 at the counter (portal/staff/counter.py): from the
person's page, check your answers, confirm, then the registration slip or the
filing certificate to print; every staff role × own / other region, and a
refused act writes nothing."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from enrollment.models import Enrollment, EnrollmentEvent, EnrollmentStatus
from enrollment.selectors import resident_premium
from people.models import Notification, StaffAccess
from portal.staff import documents as staff_documents
from records.models import Filing, FilingStatus
from tests.factories import EnrollmentFactory, PersonFactory, family_link, policy
from tests.records.conftest import covered

NOW = dt.datetime(2026, 11, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = NOW.date()
ROLES = ["clerk", "supervisor", "clerk_bj", "auditor", "superuser", "no_region"]


@pytest.fixture(autouse=True)
def _today():
    # Inside the 2027 window (2026-09-01 – 2026-12-31) and within 2026's cover.
    with time_machine.travel(NOW, tick=False):
        yield


def _side(region_obj, tag):
    """A region's walk-in (nothing yet), a person covered through 2026, a
    registration for 2027 awaiting payment and a filing made earlier."""
    policy(region_obj.code, 2026)
    policy(region_obj.code, 2027)
    walk_in = PersonFactory(region=region_obj, name=f"{tag}来人")
    insured = PersonFactory(region=region_obj, name=f"{tag}参保人")
    covered(insured, region=region_obj.code)
    registered = EnrollmentFactory(
        person=PersonFactory(region=region_obj, name=f"{tag}登记人"),
        region=region_obj,
        year=2027,
    )
    filer = PersonFactory(region=region_obj, name=f"{tag}备案人")
    covered(filer, region=region_obj.code)
    filing = _filing(filer, region_obj)
    return SimpleNamespace(
        walk_in=walk_in,
        insured=insured,
        registered=registered,
        filing=filing,
    )


def _filing(person, region_obj) -> Filing:
    from records.services import filing_create

    destination = "310000" if region_obj.code != "310000" else "110000"
    return filing_create(
        actor=None,
        person_id=person.pk,
        reason="referral",
        destination_code=destination,
        start_on=TODAY,
    )


@pytest.fixture
def world(staff, regions):
    hefei, beijing, _qingdao = regions
    return SimpleNamespace(hefei=_side(hefei, "合肥"), beijing=_side(beijing, "北京"))


def _seen_by(*roles, other=404):
    expected = dict.fromkeys(roles, 200)
    expected.setdefault("clerk_bj", other)
    return expected


GET_PAGES = [
    (
        "counter_enroll",
        lambda w: reverse("staff:counter_enroll", args=[w.hefei.walk_in.pk]),
        _seen_by("clerk", "supervisor", "superuser"),
    ),
    (
        "counter_filing",
        lambda w: reverse("staff:counter_filing", args=[w.hefei.insured.pk]),
        _seen_by("clerk", "supervisor", "superuser"),
    ),
    (
        "counter_enrollment",
        lambda w: reverse("staff:counter_enrollment", args=[w.hefei.registered.pk]),
        _seen_by("clerk", "supervisor", "auditor", "superuser"),
    ),
    (
        "counter_enrollment_slip",
        lambda w: reverse(
            "staff:counter_enrollment_slip", args=[w.hefei.registered.pk]
        ),
        _seen_by("clerk", "supervisor", "auditor", "superuser"),
    ),
    (
        "counter_filing_done",
        lambda w: reverse("staff:counter_filing_done", args=[w.hefei.filing.pk]),
        _seen_by("clerk", "supervisor", "auditor", "superuser"),
    ),
    (
        "counter_filing_pdf",
        lambda w: reverse("staff:counter_filing_pdf", args=[w.hefei.filing.pk]),
        _seen_by("clerk", "supervisor", "auditor", "superuser"),
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "name,url,expected", GET_PAGES, ids=[page[0] for page in GET_PAGES]
)
def test_enroll_and_filing_pages_are_shown_only_to_the_roles_and_region_allowed(
    client, staff, world, role, name, url, expected
):
    client.force_login(staff[role])
    response = client.get(url(world))
    assert response.status_code == expected.get(role, 403), (name, role)
    if response.status_code != 200:
        page = response.content.decode(errors="replace")
        for shown in ("合肥来人", "合肥参保人", "合肥登记人", "合肥备案人"):
            assert shown not in page


def _snapshot():
    return (
        sorted(Enrollment.objects.values_list("pk", "status")),
        sorted(Filing.objects.values_list("pk", "status")),
        EnrollmentEvent.objects.count(),
        Notification.objects.count(),
        StaffAccess.objects.filter(action=StaffAccess.Action.ACTION).count(),
    )


def _filing_data(**changes):
    data = {
        "reason": "referral",
        "destination": "110000",
        "start_on": TODAY.isoformat(),
        "residence_permit_number": "",
        "evidence_seen": "身份证原件；转诊证明（安徽省立医院）",
        "confirm": "1",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# (name, url builder, data, roles allowed, what an allowed POST did)
POSTS = [
    (
        "counter_enroll",
        lambda w: reverse("staff:counter_enroll", args=[w.hefei.walk_in.pk]),
        {"year": "2027", "category": "ordinary", "confirm": "1"},
        ("clerk", "supervisor", "superuser"),
        lambda w: Enrollment.objects.filter(
            person=w.hefei.walk_in, year=2027, region_id="340100"
        ).exists(),
    ),
    (
        "counter_filing",
        lambda w: reverse("staff:counter_filing", args=[w.hefei.insured.pk]),
        _filing_data(),
        ("clerk", "supervisor", "superuser"),
        lambda w: Filing.objects.filter(
            person=w.hefei.insured, status=FilingStatus.ACTIVE, channel="counter"
        ).exists(),
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "name,url,data,allowed,done", POSTS, ids=[post[0] for post in POSTS]
)
def test_enroll_and_filing_are_done_only_by_the_roles_and_region_allowed(
    client, staff, world, role, name, url, data, allowed, done
):
    client.force_login(staff[role])
    before = _snapshot()
    response = client.post(url(world), data)
    if role in allowed:
        assert response.status_code == 302, (name, role, response.status_code)
        assert done(world), (name, role)
    else:
        assert response.status_code in (403, 404), (name, role, response.status_code)
        assert _snapshot() == before, (name, role)
        assert not done(world)


# --- 参保登记 ---------------------------------------------------------------------


def test_the_person_page_offers_enrollment_and_filing_to_a_clerk_only(
    client, staff, world
):
    person = world.hefei.walk_in
    enroll = reverse("staff:counter_enroll", args=[person.pk])
    filing = reverse("staff:counter_filing", args=[person.pk])
    client.force_login(staff["clerk"])
    page = client.get(
        reverse("staff:counter_person_detail", args=[person.pk])
    ).content.decode()
    assert enroll in page and "办理参保登记" in page
    assert filing in page and "办理异地就医备案" in page
    client.force_login(staff["auditor"])
    page = client.get(
        reverse("staff:counter_person_detail", args=[person.pk])
    ).content.decode()
    assert enroll not in page and filing not in page


def test_the_form_offers_the_years_open_at_the_clerks_region(client, staff, world):
    client.force_login(staff["clerk"])
    response = client.get(
        reverse("staff:counter_enroll", args=[world.hefei.walk_in.pk])
    )
    years = [value for value, _label in response.context["form"].fields["year"].choices]
    assert years == [2027, 2026]
    assert response.context["form"].initial["year"] == 2027


def test_check_your_answers_shows_amount_and_cover_and_writes_nothing(
    client, staff, world
):
    person = world.hefei.walk_in
    client.force_login(staff["clerk"])
    before = _snapshot()
    response = client.post(
        reverse("staff:counter_enroll", args=[person.pk]),
        {"year": "2027", "category": "ordinary"},
    )
    assert response.status_code == 200
    plan = response.context["plan"]
    page = response.content.decode()
    assert f"¥{plan.personal_amount:,.2f}" in page
    assert f"¥{plan.subsidy:,.2f}" in page
    assert "2027年1月1日" in page and "2027年度" in page
    assert person.id_masked in page and person.id_number not in page
    assert "确认登记" in page
    assert _snapshot() == before
    assert not Enrollment.objects.filter(person=person).exists()


def test_confirming_registers_in_the_clerks_region_audited_with_the_clerk(
    client, staff, world
):
    person = world.hefei.walk_in
    client.force_login(staff["clerk"])
    response = client.post(
        reverse("staff:counter_enroll", args=[person.pk]),
        {"year": "2027", "category": "ordinary", "confirm": "1"},
    )
    enrollment = Enrollment.objects.get(person=person, year=2027)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "staff:counter_enrollment", args=[enrollment.pk]
    )
    assert enrollment.region_id == "340100" and enrollment.scheme == "resident"
    assert enrollment.status == EnrollmentStatus.REGISTERED
    assert enrollment.registered_by == staff["clerk"]
    event = enrollment.events.get()
    assert event.actor == staff["clerk"] and event.to_status == "registered"
    access = StaffAccess.objects.get(
        person=person, staff=staff["clerk"], action=StaffAccess.Action.ACTION
    )
    assert enrollment.reference in access.what and "普通居民" in access.what
    assert access.at is not None


def test_the_registration_page_shows_the_number_and_takes_the_payment_in_one_click(
    client, staff, world
):
    enrollment = world.hefei.registered
    client.force_login(staff["clerk"])
    response = client.get(reverse("staff:counter_enrollment", args=[enrollment.pk]))
    page = response.content.decode()
    amount = resident_premium(enrollment).personal_amount
    assert enrollment.reference in page and f"¥{amount:,.2f}" in page
    pay = f"{reverse('staff:counter_pay')}?number={enrollment.reference}"
    assert pay in page
    assert reverse("staff:counter_enrollment_slip", args=[enrollment.pk]) in page
    assert enrollment.person.id_number not in page
    # The link leads straight to the payment's check page, amount prefilled.
    check = client.get(pay)
    assert check.status_code == 200
    assert check.context["quote"].total == amount
    assert check.context["form"].initial["expected_total"] == amount


def test_an_auditor_sees_the_registration_but_is_offered_no_payment(
    client, staff, world
):
    enrollment = world.beijing.registered
    client.force_login(staff["auditor"])
    page = client.get(
        reverse("staff:counter_enrollment", args=[enrollment.pk])
    ).content.decode()
    assert enrollment.reference in page
    assert f"?number={enrollment.reference}" not in page


class _Recording(staff_documents.PdfDocument):
    """The PDF frame, keeping every line and paragraph written on it."""

    texts: list[str] = []

    def line(self, label, value, **kwargs):
        _Recording.texts.append(f"{label}：{value}")
        super().line(label, value, **kwargs)

    def paragraph(self, text, **kwargs):
        _Recording.texts.append(text)
        super().paragraph(text, **kwargs)


def test_the_slip_is_a_pdf_with_number_person_masked_year_category_amount_and_where_to_pay(
    client, staff, world, monkeypatch
):
    enrollment = world.hefei.registered
    _Recording.texts = []
    monkeypatch.setattr(staff_documents, "PdfDocument", _Recording)
    client.force_login(staff["clerk"])
    response = client.get(
        reverse("staff:counter_enrollment_slip", args=[enrollment.pk])
    )
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response.content.startswith(b"%PDF")
    text = "\n".join(_Recording.texts)
    person = enrollment.person
    amount = resident_premium(enrollment).personal_amount
    assert enrollment.reference in text
    assert f"{person.name}（{person.id_masked}）" in text
    assert person.id_number not in text
    assert "2027年度" in text and "普通居民" in text
    assert f"¥{amount:,.2f}" in text
    assert "经办窗口" in text and "代缴" in text
    assert "2026年12月31日" in text  # the pay-by date: the window's end


def test_a_family_member_is_enrolled_from_their_own_page(client, staff, world):
    holder = world.hefei.insured
    relative = world.hefei.walk_in
    family_link(holder, relative, "parent")
    client.force_login(staff["clerk"])
    response = client.post(
        reverse("staff:counter_enroll", args=[relative.pk]),
        {"year": "2027", "category": "ordinary", "confirm": "1"},
    )
    assert response.status_code == 302
    assert Enrollment.objects.filter(person=relative, year=2027).exists()
    assert not Enrollment.objects.filter(person=holder, year=2027).exists()


@pytest.mark.parametrize(
    "data,field,message",
    [
        ({"year": "", "category": "ordinary"}, "year", "请选择待遇年度"),
        ({"year": "2031", "category": "ordinary"}, "year", "请从列表中选择"),
        ({"year": "2027", "category": "nobody"}, "category", "请从列表中选择人员类别"),
        # Late in 2026 a registration for 2026 would buy no cover.
        ({"year": "2026", "category": "ordinary"}, "year", "买不到任何保障"),
    ],
)
def test_bad_input_is_explained_beside_the_field_and_nothing_is_written(
    client, staff, world, data, field, message
):
    client.force_login(staff["clerk"])
    before = _snapshot()
    for step in ({}, {"confirm": "1"}):
        response = client.post(
            reverse("staff:counter_enroll", args=[world.hefei.walk_in.pk]),
            {**data, **step},
        )
        assert response.status_code == 400
        errors = response.context["form"].errors
        assert message in " ".join(errors.get(field, [])), errors
        assert message in response.content.decode()
    assert _snapshot() == before


def test_a_second_registration_for_the_year_is_refused_beside_the_year(
    client, staff, world
):
    person = world.hefei.registered.person
    client.force_login(staff["clerk"])
    response = client.post(
        reverse("staff:counter_enroll", args=[person.pk]),
        {"year": "2027", "category": "ordinary", "confirm": "1"},
    )
    assert response.status_code == 400
    assert "同一年度只能参保一次" in " ".join(response.context["form"].errors["year"])
    assert Enrollment.objects.filter(person=person, year=2027).count() == 1


def test_a_reduced_category_is_registered_pending_and_priced_as_ordinary_meanwhile(
    client, staff, world
):
    person = world.hefei.walk_in
    client.force_login(staff["clerk"])
    check = client.post(
        reverse("staff:counter_enroll", args=[person.pk]),
        {"year": "2027", "category": "dibao"},
    )
    assert check.status_code == 200 and "须审核" in check.content.decode()
    client.post(
        reverse("staff:counter_enroll", args=[person.pk]),
        {"year": "2027", "category": "dibao", "confirm": "1"},
    )
    enrollment = Enrollment.objects.get(person=person, year=2027)
    assert enrollment.verification == "pending"
    assert check.context["plan"].personal_amount == (
        resident_premium(enrollment).personal_amount
    )


# --- 异地就医备案 -----------------------------------------------------------------


def test_filing_check_page_shows_what_will_be_filed_and_writes_nothing(
    client, staff, world
):
    person = world.hefei.insured
    client.force_login(staff["clerk"])
    before = _snapshot()
    response = client.post(
        reverse("staff:counter_filing", args=[person.pk]),
        _filing_data(confirm=None),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "北京市" in page and "转诊转院" in page and "临时备案" in page
    assert "2027年5月2日" in page  # six months, the last day
    assert "转诊证明" in page and "确认备案" in page
    assert person.id_number not in page
    assert _snapshot() == before


def test_confirming_a_filing_files_it_at_the_counter_audited_with_the_evidence(
    client, staff, world
):
    person = world.hefei.insured
    client.force_login(staff["clerk"])
    response = client.post(
        reverse("staff:counter_filing", args=[person.pk]), _filing_data()
    )
    filing = Filing.objects.get(person=person)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "staff:counter_filing_done", args=[filing.pk]
    )
    assert filing.channel == "counter" and filing.applicant == staff["clerk"]
    assert filing.insured_region_id == "340100" and filing.destination_code == "110000"
    access = StaffAccess.objects.get(
        person=person, staff=staff["clerk"], action=StaffAccess.Action.ACTION
    )
    assert filing.number in access.what and "转诊证明" in access.what
    # The person is told in their inbox.
    assert Notification.objects.filter(person=person).exists()

    done = client.get(response["Location"]).content.decode()
    pdf_url = reverse("staff:counter_filing_pdf", args=[filing.pk])
    assert filing.number in done and filing.verification_code in done
    assert pdf_url in done
    pdf = client.get(pdf_url)
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_a_long_term_filing_needs_a_permit_or_a_signed_commitment(client, staff, world):
    person = world.hefei.insured
    client.force_login(staff["clerk"])
    url = reverse("staff:counter_filing", args=[person.pk])
    refused = client.post(url, _filing_data(reason="resident"))
    assert refused.status_code == 400
    assert "居住证号" in " ".join(
        refused.context["form"].errors["residence_permit_number"]
    )
    assert not Filing.objects.filter(person=person).exists()
    filed = client.post(url, _filing_data(reason="resident", commitment="on"))
    assert filed.status_code == 302
    filing = Filing.objects.get(person=person)
    assert filing.kind == "long_term" and filing.evidence == "commitment"


@pytest.mark.parametrize(
    "changes,field,message",
    [
        ({"evidence_seen": " "}, "evidence_seen", "核验的材料"),
        ({"destination": "999999"}, "destination", "请从列表中选择就医地"),
        ({"destination": "340000"}, "destination", "不能是参保地"),
        ({"start_on": "2026-13-01"}, "start_on", "请按 年-月-日 填写日期"),
        ({"start_on": "2026-10-01"}, "start_on", "不能早于今天"),
        ({"reason": ""}, "reason", "请选择备案人员类别"),
    ],
)
def test_bad_filing_input_is_explained_beside_the_field_and_nothing_is_written(
    client, staff, world, changes, field, message
):
    client.force_login(staff["clerk"])
    before = _snapshot()
    for step in ({"confirm": None}, {}):
        response = client.post(
            reverse("staff:counter_filing", args=[world.hefei.insured.pk]),
            _filing_data(**{**changes, **step}),
        )
        assert response.status_code == 400
        errors = response.context["form"].errors
        assert message in " ".join(errors.get(field, [])), errors
    assert _snapshot() == before


def test_a_person_without_cover_today_is_told_why_and_nothing_is_filed(
    client, staff, world
):
    client.force_login(staff["clerk"])
    response = client.post(
        reverse("staff:counter_filing", args=[world.hefei.walk_in.pk]),
        _filing_data(),
    )
    assert response.status_code == 400
    assert "不在医保待遇享受期内" in response.content.decode()
    assert not Filing.objects.filter(person=world.hefei.walk_in).exists()


def test_a_second_filing_while_one_is_in_force_is_refused(client, staff, world):
    filer = world.hefei.filing.person
    client.force_login(staff["clerk"])
    response = client.post(
        reverse("staff:counter_filing", args=[filer.pk]), _filing_data()
    )
    assert response.status_code == 400
    assert "已有一项有效的异地就医备案" in response.content.decode()
    assert Filing.objects.filter(person=filer).count() == 1


def test_the_person_page_lists_their_filings_with_the_certificate(client, staff, world):
    filing = world.hefei.filing
    client.force_login(staff["clerk"])
    page = client.get(
        reverse("staff:counter_person_detail", args=[filing.person_id])
    ).content.decode()
    assert filing.number in page and "上海市" in page
    assert reverse("staff:counter_filing_done", args=[filing.pk]) in page


def test_edit_on_the_check_page_returns_to_the_form_with_the_answers_kept(
    client, staff, world
):
    client.force_login(staff["clerk"])
    response = client.post(
        reverse("staff:counter_filing", args=[world.hefei.insured.pk]),
        _filing_data(confirm=None, edit="destination"),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.cleaned_data["destination"] == "110000"
    assert form.fields["destination"].widget.attrs.get("autofocus") is True
    assert not Filing.objects.filter(person=world.hefei.insured).exists()
