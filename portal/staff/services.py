"""Writes made at a staff counter (窗口经办)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.identity import mask_mobile, normalise_id_number
from core.money import format_yuan
from enrollment.models import ENROLLMENT_MACHINE, Enrollment, SuspendReason
from enrollment.services import enrollment_suspend
from payments.models import Tender
from payments.services import counter_payment_take
from people.admin_base import is_auditor
from people.models import Person, StaffAccess
from people.services import (
    password_reset_code_send,
    person_get_or_create,
    person_region_set,
)


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
