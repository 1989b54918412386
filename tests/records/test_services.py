"""The rules of 异地就医备案 and 参保证明 as the services hold them (SPEC §9,
§10): covered at filing, one destination at a time, evidence and the six-month
lock for long-term filings, six months for temporary ones, filing after an
emergency; authority and its record; the certificate's facts kept as issued."""

import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError, transaction

from core.errors import DomainError
from enrollment.models import EnrollmentStatus
from people.models import Notification, ProxyAccess, Scope
from people.services import NoAuthority
from records import services
from records.models import (
    Evidence,
    Filing,
    FilingEvent,
    FilingKind,
    FilingStatus,
    InsuranceCertificate,
)
from tests import factories

from .conftest import BEIJING, FUZHOU, HEFEI, QINGDAO, TODAY, covered, months

pytestmark = pytest.mark.django_db


def file(user, person=None, **options):
    options = {
        "reason": "referral",
        "destination_code": BEIJING,
        "start_on": TODAY,
        **options,
    }
    return services.filing_create(
        actor=user, person_id=(person or user.person).pk, **options
    )


def refusal(user, person=None, **options) -> DomainError:
    with pytest.raises(DomainError) as info:
        file(user, person, **options)
    return info.value


# --- Filing ----------------------------------------------------------------------------


def test_temporary_filing_lasts_six_months_and_is_due_to_expire_after(citizen):
    filing = file(citizen)
    assert filing.kind == FilingKind.TEMPORARY
    assert filing.status == FilingStatus.ACTIVE
    assert filing.start_on == TODAY
    assert filing.end_on == dt.date(2026, 12, 14)
    assert filing.locked_until is None
    assert filing.due_at.isoformat() == "2026-12-15T00:00:00+08:00"
    assert filing.insured_region_id == HEFEI
    assert filing.destination_region_id == BEIJING
    assert len(filing.verification_code) == 12
    assert filing.number.startswith("YD20260615")
    event = FilingEvent.objects.get(filing=filing)
    assert (event.action, event.from_status, event.to_status) == (
        "file",
        "new",
        "active",
    )
    note = Notification.objects.get(person=citizen.person)
    assert filing.verification_code in note.body_text


def test_long_term_filing_runs_until_cancelled_with_a_six_month_lock(citizen):
    filing = file(
        citizen,
        reason="resident",
        destination_code="370000",
        residence_permit_number=" 3702 1220 2600 01 ",
    )
    assert filing.kind == FilingKind.LONG_TERM
    assert filing.end_on is None and filing.due_at is None
    assert filing.locked_until == dt.date(2026, 12, 15)
    assert filing.evidence == Evidence.RESIDENCE_PERMIT
    assert filing.residence_permit_number == "37021220260001"
    # A whole province, which has no pooling region of its own here.
    assert (filing.destination_name, filing.destination_region) == ("山东省", None)


def test_long_term_filing_with_a_commitment_letter(citizen):
    filing = file(citizen, reason="posted", commitment=True)
    assert filing.evidence == Evidence.COMMITMENT
    assert filing.residence_permit_number == ""


def test_long_term_filing_without_evidence_is_refused(citizen):
    error = refusal(citizen, reason="retired")
    assert (error.code, error.field) == ("evidence", "residence_permit_number")
    assert Filing.objects.count() == 0


def test_temporary_filing_needs_no_evidence_and_keeps_none(citizen):
    filing = file(citizen, residence_permit_number="ABC123456", commitment=True)
    assert (filing.evidence, filing.residence_permit_number) == ("", "")


def test_a_person_must_be_covered_on_the_day_of_filing(regions):
    user = factories.UserFactory(person__region=regions[HEFEI])
    assert refusal(user).code == "not_covered"
    covered(user.person, status=EnrollmentStatus.REGISTERED, coverage_start=None)
    assert refusal(user).code == "not_covered"  # registered, not paid
    covered(user.person, year=2027)
    assert refusal(user).code == "not_covered"  # cover starts next year
    assert Filing.objects.count() == 0


def test_a_suspended_enrollment_keeps_the_cover_already_paid_for(regions):
    user = factories.UserFactory(person__region=regions[HEFEI])
    covered(user.person, status=EnrollmentStatus.SUSPENDED)
    assert file(user).insured_region_id == HEFEI


def test_the_destination_must_lie_outside_the_insured_region(citizen):
    for code in (HEFEI, "340000"):
        error = refusal(citizen, destination_code=code)
        assert (error.code, error.field) == ("destination_is_home", "destination")
    assert refusal(citizen, destination_code="340200").code == "destination"
    assert refusal(citizen, destination_code="810000").code == "destination"
    assert refusal(citizen, destination_code="abc").code == "destination"


def test_one_destination_at_a_time(citizen):
    first = file(citizen)
    error = refusal(citizen, destination_code=QINGDAO)
    assert (error.code, error.field) == ("already_filed", "destination")
    assert first.number in error.message
    services.filing_cancel(actor=citizen, filing_id=first.pk)
    assert file(citizen, destination_code=QINGDAO).destination_region_id == QINGDAO


def test_the_database_holds_one_active_filing_per_person(citizen):
    filing = file(citizen)
    duplicate = Filing(
        person=filing.person,
        kind=filing.kind,
        reason=filing.reason,
        insured_region=filing.insured_region,
        destination_code=FUZHOU,
        destination_name="福建省福州市",
        start_on=TODAY,
        end_on=filing.end_on,
        status=FilingStatus.ACTIVE,
        number="YD-DUPLICATE",
        verification_code="AAAAAAAAAAAA",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_start_dates(citizen):
    assert refusal(citizen, start_on=TODAY - dt.timedelta(days=1)).code == (
        "start_in_past"
    )
    assert refusal(citizen, start_on=TODAY + dt.timedelta(days=91)).code == (
        "start_too_late"
    )
    ahead = file(citizen, start_on=TODAY + dt.timedelta(days=90))
    assert ahead.end_on == dt.date(2027, 3, 12)


def test_an_emergency_may_be_filed_afterwards_within_thirty_days(citizen):
    error = refusal(citizen, reason="emergency", start_on=TODAY - dt.timedelta(31))
    assert (error.code, error.field) == ("start_too_early", "start_on")
    filing = file(citizen, reason="emergency", start_on=TODAY - dt.timedelta(30))
    assert filing.start_on == dt.date(2026, 5, 16)
    assert filing.end_on == dt.date(2026, 11, 15)


def test_a_long_term_filing_cannot_start_in_the_past(citizen):
    error = refusal(
        citizen, reason="retired", commitment=True, start_on=TODAY - dt.timedelta(1)
    )
    assert error.code == "start_in_past"


def test_family_member_with_enroll_authority_files_and_the_person_is_told(citizen):
    child = factories.PersonFactory()
    covered(child)
    factories.family_link(citizen.person, child)
    filing = file(citizen, child)
    assert filing.applicant == citizen
    assert ProxyAccess.objects.filter(
        person=child, actor=citizen.person, scope=Scope.ENROLL
    ).exists()
    subjects = list(
        Notification.objects.filter(person=child).values_list("subject", flat=True)
    )
    assert any("代您办理了" in s for s in subjects)
    assert any("异地就医备案成功" in s for s in subjects)


@pytest.mark.parametrize("scopes", [[Scope.VIEW], [Scope.PAY, Scope.TRANSFER]])
def test_without_enroll_authority_nothing_is_filed(citizen, scopes):
    other = factories.PersonFactory()
    covered(other)
    factories.family_link(citizen.person, other, scopes=scopes)
    with pytest.raises(NoAuthority):
        file(citizen, other)
    assert Filing.objects.count() == 0
    assert ProxyAccess.objects.count() == 0


def test_cancel_a_temporary_filing(citizen):
    filing = file(citizen)
    cancelled = services.filing_cancel(actor=citizen, filing_id=filing.pk)
    assert cancelled.status == FilingStatus.CANCELLED
    assert cancelled.due_at is None and cancelled.cancelled_at is not None
    # A repeated request changes nothing more.
    again = services.filing_cancel(actor=citizen, filing_id=filing.pk)
    assert again.status == FilingStatus.CANCELLED
    assert FilingEvent.objects.filter(filing=filing, action="cancel").count() == 1


def test_a_long_term_filing_is_locked_for_six_months(citizen):
    filing = file(citizen, reason="retired", commitment=True)
    with pytest.raises(DomainError) as info:
        services.filing_cancel(
            actor=citizen, filing_id=filing.pk, today=dt.date(2026, 12, 14)
        )
    error = info.value
    assert error.code == "locked" and "2026年12月15日" in error.message
    filing.refresh_from_db()
    assert filing.status == FilingStatus.ACTIVE
    cancelled = services.filing_cancel(
        actor=citizen, filing_id=filing.pk, today=dt.date(2026, 12, 15)
    )
    assert cancelled.status == FilingStatus.CANCELLED


def test_an_expired_filing_cannot_be_cancelled(citizen):
    filing = file(citizen)
    services.filing_expire(filing_id=filing.pk, today=dt.date(2026, 12, 15))
    with pytest.raises(DomainError) as info:
        services.filing_cancel(actor=citizen, filing_id=filing.pk)
    assert info.value.code == "not_cancellable"


def test_a_viewer_cannot_cancel(citizen):
    other = factories.UserFactory()
    covered(other.person)
    filing = file(other)
    factories.family_link(citizen.person, other.person, scopes=[Scope.VIEW])
    with pytest.raises(NoAuthority):
        services.filing_cancel(actor=citizen, filing_id=filing.pk)
    filing.refresh_from_db()
    assert filing.status == FilingStatus.ACTIVE


def test_a_temporary_filing_past_its_end_does_not_block_a_new_one(citizen):
    old = file(citizen)
    with time_machine.travel(dt.datetime(2026, 12, 20, 9, 0), tick=False):
        new = file(
            citizen,
            destination_code=QINGDAO,
            start_on=dt.date(2026, 12, 20),
            today=dt.date(2026, 12, 20),
        )
    old.refresh_from_db()
    assert old.status == FilingStatus.EXPIRED
    assert new.status == FilingStatus.ACTIVE


# --- 参保证明 ------------------------------------------------------------------------


def test_certificate_prints_schemes_regions_periods_and_months(citizen):
    person = citizen.person
    covered(person, year=2025)
    covered(person, region=BEIJING, year=2024, scheme="flexible")
    covered(person, year=2027, status=EnrollmentStatus.REGISTERED, coverage_start=None)
    months(person, actual=24, deemed=12)
    months(person, region=BEIJING, actual=12)
    certificate = services.certificate_issue(actor=citizen, person_id=person.pk)
    facts = certificate.facts
    assert facts["name"] == person.name
    assert facts["id_masked"] == person.id_masked
    assert person.id_number not in str(facts)
    assert facts["covered_today"] is True
    assert facts["schemes"] == ["flexible", "resident"]
    assert [(p["year"], p["region_code"]) for p in facts["periods"]] == [
        (2026, HEFEI),
        (2025, HEFEI),
        (2024, BEIJING),
    ]
    assert facts["months"] == [
        {"region_code": BEIJING, "region_name": "北京市", "actual": 12, "deemed": 0},
        {"region_code": HEFEI, "region_name": "合肥市", "actual": 24, "deemed": 12},
    ]
    assert (facts["total_actual"], facts["total_deemed"]) == (36, 12)
    assert certificate.signature_valid
    assert certificate.number.startswith("CBZM20260615")


def test_what_was_certified_stays_as_issued(citizen):
    months(citizen.person, actual=10)
    certificate = services.certificate_issue(actor=citizen, person_id=citizen.person.pk)
    months(citizen.person, actual=5, tag="later")
    certificate.refresh_from_db()
    assert certificate.facts["total_actual"] == 10
    certificate.facts["total_actual"] = 99  # a copy whose figures were changed
    assert not certificate.signature_valid


def test_a_family_member_who_may_look_gets_a_certificate_and_it_is_recorded(
    citizen,
):
    relative = factories.PersonFactory()
    covered(relative)
    factories.family_link(citizen.person, relative, scopes=[Scope.VIEW])
    certificate = services.certificate_issue(actor=citizen, person_id=relative.pk)
    assert certificate.person == relative and certificate.issued_by == citizen
    assert ProxyAccess.objects.filter(person=relative, scope=Scope.VIEW).exists()


def test_no_certificate_for_a_stranger(citizen):
    stranger = factories.PersonFactory()
    covered(stranger)
    with pytest.raises(NoAuthority):
        services.certificate_issue(actor=citizen, person_id=stranger.pk)
    assert InsuranceCertificate.objects.count() == 0


def test_no_certificate_without_any_paid_record(regions):
    user = factories.UserFactory(person__region=regions[HEFEI])
    covered(user.person, status=EnrollmentStatus.REGISTERED, coverage_start=None)
    with pytest.raises(DomainError) as info:
        services.certificate_issue(actor=user, person_id=user.person.pk)
    assert info.value.code == "nothing_to_certify"
    assert InsuranceCertificate.objects.count() == 0
