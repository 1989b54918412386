"""Writes made at a staff counter (窗口经办)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.identity import mask_mobile, normalise_id_number
from core.money import format_yuan
from enrollment.models import (
    ENROLLMENT_MACHINE,
    Category,
    Enrollment,
    SuspendReason,
)
from enrollment.services import (
    enrollment_register_resident,
    enrollment_suspend,
    resident_plan,
)
from payments.models import Tender
from payments.services import counter_payment_take
from people.admin_base import is_auditor
from people.models import Person, StaffAccess
from people.services import (
    password_reset_code_send,
    person_get_or_create,
    person_region_set,
)
from records.models import Channel as FilingChannel
from records.models import Filing, FilingReason
from records.services import filing_check, filing_create


@transaction.atomic
def person_register_at_counter(
    *, staff, id_number: str, name: str, mobile: str = ""
) -> tuple[Person, bool]:
    """Register a person without an account at a region's counter.

    Returns (person, created). A person new to the portal is placed in the
    staff member's region so the counter can go on with their enrollment; a
    person already insured in another region is refused (their record belongs
    to that region's staff; a transfer moves it)."""
    if staff.region_id is None:
        raise DomainError(
            _("您的账号未分配统筹区，不能办理窗口业务。"), code="no_region"
        )
    existed = Person.objects.filter(id_number=normalise_id_number(id_number)).exists()
    person = person_get_or_create(id_number=id_number, name=name, mobile=mobile)
    # Locks the row: a simultaneous enrollment may be setting the region.
    person = person_region_set(person_id=person.pk, region_code=staff.region_id)
    if person.region_id != staff.region_id:
        raise DomainError(
            _("此人的参保关系在其他统筹区，请由参保地经办或办理转移接续。"),
            code="other_region",
            field="id_number",
        )
    StaffAccess.objects.create(
        person=person,
        staff=staff,
        action=StaffAccess.Action.CHANGE if not existed else StaffAccess.Action.VIEW,
        what=_("窗口登记"),
    )
    return person, not existed


def _staff_access(*, staff, person: Person, action: str, what: str) -> None:
    StaffAccess.objects.create(
        person=person, staff=staff, action=action, what=str(what)[:200]
    )


def counter_person_viewed(*, staff, person: Person, what: str) -> None:
    """A counter page showed the person's record: in their "who looked" list."""
    _staff_access(staff=staff, person=person, action=StaffAccess.Action.VIEW, what=what)


@transaction.atomic
def counter_payment_enter(
    *,
    staff,
    enrollment,
    idempotency_key: str,
    tender: str,
    months_ahead: int = 1,
    expected_total=None,
):
    """确认入账 at the counter (payments.services.counter_payment_take), with
    the clerk, the amount and the tender in the person's record."""
    payment = counter_payment_take(
        staff=staff,
        enrollment_id=enrollment.pk,
        idempotency_key=idempotency_key,
        tender=tender,
        months_ahead=months_ahead,
        expected_total=expected_total,
    )
    _staff_access(
        staff=staff,
        person=enrollment.person,
        action=StaffAccess.Action.ACTION,
        what=_("窗口缴费入账 %(reference)s %(amount)s（%(tender)s）")
        % {
            "reference": payment.reference,
            "amount": format_yuan(payment.amount),
            "tender": Tender(tender).label,
        },
    )
    return payment


@transaction.atomic
def counter_enrollment_suspend(
    *, staff, person: Person, enrollment_id: int, reason: str, evidence: str
):
    """暂停参保 by a clerk on evidence seen at the counter: an enrollment of
    the person, in the clerk's region, that the machine lets be suspended
    (enrollment_suspend tells the person). `reason` is a SuspendReason value."""
    if is_auditor(staff) or (not staff.is_superuser and staff.region_id is None):
        raise DomainError(_("您不能办理暂停参保。"), code="not_allowed")
    enrollment = (
        Enrollment.objects.select_related("person")
        .filter(pk=enrollment_id, person=person)
        .first()
    )
    if enrollment is None or (
        not staff.is_superuser and enrollment.region_id != staff.region_id
    ):
        raise DomainError(
            _("只能暂停本统筹区的参保登记。"), code="region", field="enrollment"
        )
    if not ENROLLMENT_MACHINE.can(enrollment.status, action="suspend"):
        raise DomainError(
            _("该参保登记当前状态为“%(status)s”，不能暂停。")
            % {"status": enrollment.get_status_display()},
            code="not_suspendable",
            field="enrollment",
        )
    enrollment = enrollment_suspend(
        enrollment_id=enrollment.pk, reason=reason, evidence=evidence, actor=staff
    )
    _staff_access(
        staff=staff,
        person=person,
        action=StaffAccess.Action.ACTION,
        what=_("窗口暂停参保 %(reference)s：%(reason)s；核验材料：%(evidence)s")
        % {
            "reference": enrollment.reference,
            "reason": SuspendReason(reason).label
            if reason in SuspendReason.values
            else reason,
            "evidence": evidence,
        },
    )
    return enrollment


def counter_region(*, staff, person: Person) -> str:
    """The region a counter act is made in: the clerk's own, and the person
    must belong to it; the superuser (no region) acts in the person's region.
    An auditor or a login without a region is refused."""
    if is_auditor(staff):
        raise DomainError(_("您不能办理此业务。"), code="not_allowed")
    if staff.is_superuser and staff.region_id is None:
        region_code = person.region_id
    else:
        region_code = staff.region_id
        if region_code is not None and person.region_id != region_code:
            raise DomainError(
                _("此人的参保关系在其他统筹区，请由参保地经办或办理转移接续。"),
                code="other_region",
            )
    if region_code is None:
        raise DomainError(
            _("您的账号未分配统筹区，不能办理窗口业务。"), code="no_region"
        )
    return region_code


def counter_enrollment_plan(*, staff, person: Person, year: int, category: str):
    """What 参保登记 at this counter would be (enrollment.services.resident_plan
    in the clerk's region): the check-your-answers page shows it; nothing is
    written."""
    return resident_plan(
        person=person,
        region=counter_region(staff=staff, person=person),
        year=year,
        category=category,
    )


@transaction.atomic
def counter_enrollment_register(
    *, staff, person: Person, year: int, category: str
) -> Enrollment:
    """参保登记 in residents' insurance at the counter, for the person in front
    of the clerk or a family member they brought: the clerk's region, the
    year and category chosen. The registration carries the clerk
    (registered_by, its first event) and the person's record says who
    registered them and when (StaffAccess)."""
    region_code = counter_region(staff=staff, person=person)
    enrollment = enrollment_register_resident(
        actor=staff, person=person, region=region_code, year=year, category=category
    )
    _staff_access(
        staff=staff,
        person=person,
        action=StaffAccess.Action.ACTION,
        what=_("窗口参保登记 %(reference)s：%(year)s年度城乡居民医保，%(category)s")
        % {
            "reference": enrollment.reference,
            "year": enrollment.year,
            "category": Category(category).label,
        },
    )
    return enrollment


def _filing_region_check(*, staff, insured_region_id: str) -> None:
    """A counter files only for persons insured in its own region: the
    filing settles against the insured region's fund."""
    if staff.is_superuser and staff.region_id is None:
        return
    if insured_region_id != staff.region_id:
        raise DomainError(
            _("此人今天的医保待遇不在本统筹区，异地就医备案请到参保地办理。"),
            code="other_region",
            field="reason",
        )


def counter_filing_plan(*, staff, person: Person, **filing):
    """异地就医备案 as it would be filed at this counter (records.services.
    filing_check, and the person insured in the clerk's region); nothing is
    written. `filing`: reason, destination_code, start_on,
    residence_permit_number, commitment."""
    counter_region(staff=staff, person=person)
    plan = filing_check(person=person, **filing)
    _filing_region_check(staff=staff, insured_region_id=plan.enrollment.region_id)
    return plan


@transaction.atomic
def counter_filing_create(
    *,
    staff,
    person: Person,
    reason: str,
    destination_code: str,
    start_on,
    evidence_seen: str,
    residence_permit_number: str = "",
    commitment: bool = False,
) -> Filing:
    """异地就医备案 filed by a clerk at the counter (channel 窗口办理), on the
    documents seen there: records.services.filing_create (which tells the
    person), then the clerk, the destination and what was seen in the
    person's record."""
    counter_region(staff=staff, person=person)
    evidence_seen = (evidence_seen or "").strip()
    if not evidence_seen:
        raise DomainError(
            _("请填写核验的材料（名称和编号）。"),
            code="evidence_seen",
            field="evidence_seen",
        )
    filing = filing_create(
        actor=staff,
        person_id=person.pk,
        reason=reason,
        destination_code=destination_code,
        start_on=start_on,
        residence_permit_number=residence_permit_number,
        commitment=commitment,
        channel=FilingChannel.COUNTER,
    )
    # Checked on the row as filed; a refusal here rolls the filing back.
    _filing_region_check(staff=staff, insured_region_id=filing.insured_region_id)
    _staff_access(
        staff=staff,
        person=person,
        action=StaffAccess.Action.ACTION,
        what=_(
            "窗口异地就医备案 %(number)s：%(reason)s，就医地%(destination)s；核验材料：%(evidence)s"
        )
        % {
            "number": filing.number,
            "reason": FilingReason(reason).label,
            "destination": filing.destination_name,
            "evidence": evidence_seen,
        },
    )
    return filing


@transaction.atomic
def counter_password_reset_send(*, staff, person: Person) -> str:
    """找回密码 at the counter: the citizen is sent an SMS code to set a new
    password themself; the clerk never sees or sets one. Returns the masked
    mobile the code went to."""
    if is_auditor(staff):
        raise DomainError(_("您不能办理此业务。"), code="not_allowed")
    account = getattr(person, "account", None)
    mobile = getattr(account, "mobile", "") or ""
    if not mobile:
        raise DomainError(
            _("此人还没有网上账号，请引导其用本人手机号注册。"),
            code="no_account",
        )
    masked = mask_mobile(mobile)
    # Recorded first: a refused send (a code sent a minute ago) rolls it back.
    _staff_access(
        staff=staff,
        person=person,
        action=StaffAccess.Action.ACTION,
        what=_("窗口协助找回密码：短信验证码已发送至 %(mobile)s") % {"mobile": masked},
    )
    password_reset_code_send(mobile=mobile)
    return masked
