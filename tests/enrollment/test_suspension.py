"""暂停参保 and 恢复参保 (SPEC §5): a citizen, or someone holding their
authority to suspend, suspends online for a reason their scheme allows; staff
suspend on evidence; cover already paid for is kept; resuming follows the gap
rules. The pages ask first and write nothing on bad input."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from core.errors import DomainError, TransitionNotAllowed
from enrollment import rules, selectors, services
from enrollment.models import Enrollment, EnrollmentEvent, EnrollmentStatus
from enrollment.rules import CoverState as S
from people.models import Notification, ProxyAccess, Role, Scope
from people.services import NoAuthority
from tests import factories

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = dt.date(2026, 8, 15)


@pytest.fixture(autouse=True)
def in_august_2026():
    with time_machine.travel(
        dt.datetime(2026, 8, 15, 10, 0, tzinfo=SHANGHAI), tick=False
    ):
        yield


def flexible_paid(person, months=range(1, 8), year=2026):
    enrollment = factories.EnrollmentFactory(
        person=person,
        year=year,
        scheme="flexible",
        category="",
        contribution_base="8000",
    )
    for month in months:
        services.enrollment_flexible_month_paid(
            enrollment_id=enrollment.pk,
            period=f"{year}-{month:02d}",
            paid_on=dt.date(year, month, 10),
            reference=f"S-{enrollment.pk}-{month}",
        )
    enrollment.refresh_from_db()
    return enrollment


def resident_active(person, year=2026):
    return factories.EnrollmentFactory(
        person=person,
        year=year,
        status="active",
        coverage_start=dt.date(year, 1, 1),
        coverage_end=dt.date(year, 12, 31),
    )


def unchanged(enrollment, status=EnrollmentStatus.ACTIVE):
    enrollment.refresh_from_db()
    return (
        enrollment.status == status
        and not EnrollmentEvent.objects.filter(
            enrollment=enrollment, to_status=EnrollmentStatus.SUSPENDED
        ).exists()
    )


# --- the service ---------------------------------------------------------------------


def test_a_flexible_worker_suspends_from_the_end_of_the_paid_months(hefei, citizen):
    enrollment = flexible_paid(citizen.person)
    services.enrollment_suspend(
        enrollment_id=enrollment.pk, reason="stop", actor=citizen
    )
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.SUSPENDED and enrollment.is_stopped
    assert enrollment.suspend_reason == "stop"
    event = enrollment.events.get(to_status=EnrollmentStatus.SUSPENDED)
    assert event.reason == "不再以灵活就业人员身份缴费" and event.actor == citizen
    # Cover already paid for is kept: January–July paid cover February–August.
    row = selectors.coverage_for_user(citizen, today=TODAY)[0]
    cells = {cell.month: cell.state for cell in row.strips[0].cells}
    assert [cells[month] for month in range(2, 9)] == [S.COVERED] * 7
    assert cells[9] == cells[12] == S.SUSPENDED


def test_a_resident_suspends_for_a_move_and_keeps_the_paid_year(hefei, citizen):
    enrollment = resident_active(citizen.person)
    services.enrollment_suspend(
        enrollment_id=enrollment.pk, reason="move", actor=citizen
    )
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.SUSPENDED
    row = selectors.coverage_for_user(citizen, today=TODAY)[0]
    assert row.strips[0].covered == 12


def test_a_resident_cannot_suspend_just_to_stop_paying(hefei, citizen):
    enrollment = resident_active(citizen.person)
    with pytest.raises(DomainError) as refused:
        services.enrollment_suspend(
            enrollment_id=enrollment.pk, reason="stop", actor=citizen
        )
    assert refused.value.field == "reason"
    assert unchanged(enrollment)


@pytest.mark.parametrize("reason", ["", "whatever", "离职"])
def test_a_citizen_must_choose_one_of_the_listed_reasons(hefei, citizen, reason):
    enrollment = flexible_paid(citizen.person)
    with pytest.raises(DomainError) as refused:
        services.enrollment_suspend(
            enrollment_id=enrollment.pk, reason=reason, actor=citizen
        )
    assert refused.value.field == "reason" and unchanged(enrollment)


def test_a_family_member_with_the_suspend_scope_suspends_and_the_person_is_told(
    hefei, citizen
):
    relative = factories.PersonFactory()
    factories.family_link(citizen.person, relative)
    enrollment = resident_active(relative)
    services.enrollment_suspend(
        enrollment_id=enrollment.pk, reason="employee", actor=citizen
    )
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.SUSPENDED
    assert ProxyAccess.objects.filter(
        person=relative, actor=citizen.person, scope=Scope.SUSPEND
    ).exists()
    assert Notification.objects.filter(person=relative).exists()


def test_authority_without_the_suspend_scope_is_refused_and_writes_nothing(
    hefei, citizen
):
    relative = factories.PersonFactory()
    factories.family_link(citizen.person, relative, scopes=[Scope.VIEW, Scope.PAY])
    enrollment = resident_active(relative)
    with pytest.raises(NoAuthority):
        services.enrollment_suspend(
            enrollment_id=enrollment.pk, reason="move", actor=citizen
        )
    assert unchanged(enrollment)
    assert not ProxyAccess.objects.exists() and not Notification.objects.exists()


def test_staff_suspend_on_evidence_which_the_event_keeps(hefei):
    person = factories.PersonFactory()
    enrollment = resident_active(person)
    clerk = factories.StaffFactory(role=Role.CLERK)
    services.enrollment_suspend(
        enrollment_id=enrollment.pk,
        reason="已参加单位职工医保",
        actor=clerk,
        evidence="合肥某公司参保证明 2026-08-01",
    )
    event = EnrollmentEvent.objects.get(
        enrollment=enrollment, to_status=EnrollmentStatus.SUSPENDED
    )
    assert (event.reason, event.evidence, event.actor) == (
        "已参加单位职工医保",
        "合肥某公司参保证明 2026-08-01",
        clerk,
    )
    assert Notification.objects.filter(person=person).exists()


def test_staff_without_evidence_are_refused_beside_the_evidence(hefei):
    enrollment = resident_active(factories.PersonFactory())
    with pytest.raises(DomainError) as refused:
        services.enrollment_suspend(
            enrollment_id=enrollment.pk,
            reason="move",
            actor=factories.StaffFactory(role=Role.CLERK),
            evidence="  ",
        )
    assert refused.value.field == "evidence" and unchanged(enrollment)


@pytest.mark.parametrize("role", [Role.AUDITOR, "elsewhere"])
def test_staff_of_another_region_or_an_auditor_cannot_suspend(hefei, role):
    enrollment = resident_active(factories.PersonFactory())
    if role == "elsewhere":
        staff = factories.StaffFactory(
            role=Role.CLERK, region=factories.region("370200")
        )
    else:
        staff = factories.StaffFactory(role=role)
    with pytest.raises(DomainError) as refused:
        services.enrollment_suspend(
            enrollment_id=enrollment.pk, reason="move", actor=staff, evidence="证明"
        )
    assert refused.value.code == "forbidden" and unchanged(enrollment)


def test_suspending_twice_changes_nothing_the_second_time(hefei, citizen):
    enrollment = flexible_paid(citizen.person)
    for _ in range(2):
        services.enrollment_suspend(
            enrollment_id=enrollment.pk, reason="move", actor=citizen
        )
    assert enrollment.events.filter(to_status=EnrollmentStatus.SUSPENDED).count() == 1


def test_an_unpaid_registration_cannot_be_suspended(hefei, citizen):
    enrollment = factories.EnrollmentFactory(person=citizen.person)
    with pytest.raises(TransitionNotAllowed):
        services.enrollment_suspend(
            enrollment_id=enrollment.pk, reason="move", actor=citizen
        )
    assert unchanged(enrollment, EnrollmentStatus.REGISTERED)


def test_the_system_suspends_with_its_own_words(hefei):
    enrollment = resident_active(factories.PersonFactory())
    services.enrollment_suspend(enrollment_id=enrollment.pk, reason="转移接续：转出")
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.SUSPENDED
    assert enrollment.suspend_reason == ""


# --- resuming under the gap rules ----------------------------------------------------


def suspended_flexible(person, months):
    enrollment = flexible_paid(person, months=months)
    services.enrollment_suspend(enrollment_id=enrollment.pk, reason="stop")
    enrollment.refresh_from_db()
    return enrollment


def test_resuming_after_a_short_gap_offers_back_pay(hefei, citizen):
    enrollment = suspended_flexible(citizen.person, range(1, 6))  # to May
    plan = services.resume_plan(enrollment=enrollment, today=TODAY)
    assert (plan.missed_months, plan.waiting_months, plan.can_back_pay) == (
        2,
        0,
        True,
    )
    assert "补缴后" in plan.note
    services.enrollment_resume(enrollment_id=enrollment.pk, actor=citizen, today=TODAY)
    enrollment.refresh_from_db()
    assert (
        enrollment.status == EnrollmentStatus.ACTIVE and not enrollment.suspend_reason
    )
    assert enrollment.events.filter(
        from_status=EnrollmentStatus.SUSPENDED, to_status=EnrollmentStatus.ACTIVE
    ).exists()


def test_resuming_after_a_long_gap_brings_a_new_waiting_period(hefei, citizen):
    enrollment = suspended_flexible(citizen.person, range(1, 3))  # to February
    plan = services.resume_plan(enrollment=enrollment, today=TODAY)
    assert (plan.missed_months, plan.waiting_months) == (5, 6)
    assert "等待期" in plan.note
    services.enrollment_resume(enrollment_id=enrollment.pk, actor=citizen, today=TODAY)
    services.enrollment_flexible_month_paid(
        enrollment_id=enrollment.pk,
        period="2026-08",
        paid_on=TODAY,
        reference="after-resume",
    )
    row = selectors.coverage_for_user(citizen, today=TODAY)[0]
    cells = {cell.month: cell.state for cell in row.strips[0].cells}
    assert cells[4] == cells[8] == S.GAP and cells[9] == S.WAITING


def test_a_year_already_over_cannot_be_resumed(hefei, citizen):
    enrollment = suspended_flexible(citizen.person, range(1, 3))
    with pytest.raises(DomainError) as refused:
        services.enrollment_resume(
            enrollment_id=enrollment.pk, actor=citizen, today=dt.date(2027, 1, 5)
        )
    assert refused.value.code == "year_over"
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.SUSPENDED


def test_resuming_is_refused_when_the_year_is_held_elsewhere(hefei, beijing, citizen):
    enrollment = factories.EnrollmentFactory(
        person=citizen.person, year=2026, status="suspended"
    )
    factories.EnrollmentFactory(
        person=citizen.person,
        year=2026,
        status="active",
        region=factories.region("110000"),
    )
    with pytest.raises(DomainError) as refused:
        services.enrollment_resume(
            enrollment_id=enrollment.pk, actor=citizen, today=TODAY
        )
    assert refused.value.code == "already_enrolled" and "北京" in str(refused.value)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.SUSPENDED


def test_a_suspended_outgoing_enrollment_satisfies_a_transfer(hefei, citizen):
    enrollment = resident_active(citizen.person)
    assert not enrollment.is_stopped
    services.enrollment_suspend(
        enrollment_id=enrollment.pk, reason="move", actor=citizen
    )
    enrollment.refresh_from_db()
    assert enrollment.is_stopped
    assert selectors.enrollment_suspended_on(enrollment_id=enrollment.pk) == TODAY


# --- the pages -------------------------------------------------------------------------


@pytest.fixture
def signed_in(client, hefei, citizen):
    client.force_login(citizen)
    return client


def suspend_url(enrollment):
    return reverse("enrollment:suspend_confirm", args=[enrollment.pk])


def test_the_suspend_page_lists_the_persons_suspendable_enrollments(signed_in, citizen):
    enrollment = flexible_paid(citizen.person)
    factories.EnrollmentFactory(person=citizen.person, year=2027)  # unpaid: not listed
    response = signed_in.get(
        reverse("enrollment:suspend") + f"?person={citizen.person.pk}"
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert suspend_url(enrollment) in page
    assert page.count('action="/enrollment/') == 1
    assert "不再以灵活就业人员身份缴费" in page
    assert enrollment.coverage_end.strftime("%Y年%-m月%-d日") in page


def test_the_suspend_page_of_a_family_member_lists_theirs(signed_in, citizen):
    relative = factories.PersonFactory(name="李小兰")
    factories.family_link(citizen.person, relative)
    enrollment = resident_active(relative)
    page = signed_in.get(
        reverse("enrollment:suspend") + f"?person={relative.pk}"
    ).content.decode()
    assert "李小兰" in page and suspend_url(enrollment) in page
    assert "不再以灵活就业人员身份缴费" not in page  # not a resident's reason


@pytest.mark.parametrize(
    "person", ["stranger", "viewer", "abc", "99999999999999999999"]
)
def test_the_suspend_page_for_someone_without_authority_is_404(
    signed_in, citizen, person
):
    if person in ("stranger", "viewer"):
        other = factories.PersonFactory()
        if person == "viewer":
            factories.family_link(citizen.person, other, scopes=[Scope.VIEW])
        person = other.pk
    response = signed_in.get(reverse("enrollment:suspend") + f"?person={person}")
    assert response.status_code == 404


def test_continue_shows_check_your_answers_and_writes_nothing(signed_in, citizen):
    enrollment = resident_active(citizen.person)
    response = signed_in.post(suspend_url(enrollment), {"reason": "move"})
    page = response.content.decode()
    assert response.status_code == 200 and "请核对暂停参保信息" in page
    assert "迁往外地，办理医保关系转移接续" in page and "确认暂停参保" in page
    assert unchanged(enrollment)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"step": "confirm"},
        {"reason": "stop", "step": "confirm"},  # not a resident's reason
        {"reason": "x" * 5000, "step": "confirm"},
        {"reason": "\x00", "step": "confirm"},
    ],
)
def test_bad_input_is_an_error_beside_the_reason_and_writes_nothing(
    signed_in, citizen, data
):
    enrollment = resident_active(citizen.person)
    response = signed_in.post(suspend_url(enrollment), data)
    assert response.status_code == 400
    assert response.context["form"].errors["reason"]
    assert 'class="alert alert-danger error-summary"' in response.content.decode()
    assert unchanged(enrollment)


def test_confirming_suspends_and_shows_the_confirmation(signed_in, citizen):
    enrollment = resident_active(citizen.person)
    response = signed_in.post(
        suspend_url(enrollment), {"reason": "move", "step": "confirm"}
    )
    assert response.status_code == 302 and response.url == suspend_url(enrollment)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.SUSPENDED
    page = signed_in.get(response.url).content.decode()
    assert "已暂停参保" in page and enrollment.reference in page
    assert "2026年8月15日" in page and reverse("transfers:apply") in page


def test_a_registration_that_cannot_be_suspended_says_why(signed_in, citizen):
    enrollment = factories.EnrollmentFactory(person=citizen.person, year=2027)
    assert "不能暂停" in signed_in.get(suspend_url(enrollment)).content.decode()
    response = signed_in.post(
        suspend_url(enrollment), {"reason": "move", "step": "confirm"}
    )
    assert response.status_code == 409
    assert unchanged(enrollment, EnrollmentStatus.REGISTERED)


def test_someone_elses_enrollment_is_404_and_unchanged(signed_in):
    enrollment = resident_active(factories.PersonFactory())
    assert signed_in.get(suspend_url(enrollment)).status_code == 404
    response = signed_in.post(
        suspend_url(enrollment), {"reason": "move", "step": "confirm"}
    )
    assert response.status_code == 404 and unchanged(enrollment)


def test_the_coverage_page_links_suspension_only_with_the_scope(signed_in, citizen):
    mine = resident_active(citizen.person)
    viewer_of = factories.PersonFactory()
    factories.family_link(citizen.person, viewer_of, scopes=[Scope.VIEW])
    theirs = resident_active(viewer_of)
    page = signed_in.get(reverse("enrollment:coverage")).content.decode()
    assert suspend_url(mine) in page and "暂停参保" in page
    assert suspend_url(theirs) not in page


def test_the_resume_page_explains_the_gap_rule_then_resumes(signed_in, citizen):
    enrollment = suspended_flexible(citizen.person, range(1, 3))
    url = reverse("enrollment:resume", args=[enrollment.pk])
    coverage = signed_in.get(reverse("enrollment:coverage")).content.decode()
    assert url in coverage and "恢复参保" in coverage
    page = signed_in.get(url).content.decode()
    assert "已断缴5个月" in page and "6个月等待期" in page
    response = signed_in.post(url)
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE


def test_resuming_an_enrollment_that_is_not_suspended_is_refused(signed_in, citizen):
    enrollment = resident_active(citizen.person)
    url = reverse("enrollment:resume", args=[enrollment.pk])
    assert "只有暂停参保的登记可以恢复" in signed_in.get(url).content.decode()
    assert signed_in.post(url).status_code == 409
    assert Enrollment.objects.get(pk=enrollment.pk).status == EnrollmentStatus.ACTIVE


def test_month_strip_and_rules_agree_on_the_paid_through_month(hefei, citizen):
    enrollment = flexible_paid(citizen.person, months=range(1, 4))
    assert services.flexible_last_paid(enrollment) == rules.month_index(
        dt.date(2026, 3, 1)
    )


@pytest.mark.parametrize(
    "url",
    [
        "/enrollment/99999999999999999999/suspend/",
        "/enrollment/99999999999999999999/resume/",
        "/enrollment/99999999999999999999/done/",
        "/enrollment/suspend/?person=99999999999999999999",
        "/enrollment/resident/?person=99999999999999999999",
    ],
)
def test_an_id_beyond_the_databases_range_is_404_not_a_500(signed_in, url):
    assert signed_in.get(url).status_code == 404
