"""Every write of the transfers app, one transactional function each.

The two regions' offices talk only through HandoffMessage rows. Each step locks
the transfer row, asks TRANSFER_MACHINE where its action leads from the current
status (or whether it may act at all), writes its event row (unique per step)
and schedules the next automatic step in `due_at`; the engine's scan
(`transfers_scan`) claims due rows in batches and runs each step in its own
transaction. Money and months move with unique references, so a step that runs
twice, or is retried after a worker died in the middle of it, moves them once.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import secrets
import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.errors import DomainError
from core.identity import parse_id_number
from core.models import Region
from core.money import ZERO, to_money
from core.workdays import working_deadline
from enrollment.models import MonthsKind, Scheme
from enrollment.selectors import (
    enrollment_has_arrears,
    enrollment_history,
    enrollment_latest,
    enrollment_suspended_on,
    months_totals,
)
from enrollment.services import (
    enrollment_ensure_suspended,
    enrollment_transition,
    months_add,
)
from payments.models import EntryKind
from payments.services import account_get_or_create, account_lock, account_post
from people.access import may_act_for
from people.models import Person, Scope, msg_money, msg_phrase
from people.services import (
    notify,
    person_lock,
    person_region_set,
    proxy_access_record,
    proxy_act,
)

from .models import (
    KIND_SIDES,
    NEXT_ACTIONS,
    OPEN_STATUSES,
    TRANSFER_MACHINE,
    Channel,
    EventStep,
    HandoffMessage,
    InformationSheet,
    MessageKind,
    RejectReason,
    Side,
    Step,
    Transfer,
    TransferEvent,
    TransferKind,
    TransferStatus,
)

if TYPE_CHECKING:
    # Annotations only: enrollment rows come from enrollment's selectors and services.
    from enrollment.models import Enrollment

log = logging.getLogger(__name__)

OUTGOING_WORKING_DAYS = 10
INCOMING_WORKING_DAYS = 5
# As on receipts: no 0/O or 1/I/L to misread when typed from paper.
SHEET_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SCHEMES_OF_SIDE = {
    "employee": (Scheme.EMPLOYEE, Scheme.FLEXIBLE),
    "resident": (Scheme.RESIDENT,),
}
# A precondition that fails when checked again is a rejection with SPEC §8's
# reason code, so the citizen is told the same thing as on application.
RECHECK_REJECT_REASONS = {
    "outgoing_arrears": RejectReason.ARREARS,
    "no_outgoing_enrollment": RejectReason.NOT_SUSPENDED,
    "outgoing_not_suspended": RejectReason.NOT_SUSPENDED,
    "resident_next_year_not_enrolled": RejectReason.INCOMING_NOT_NORMAL,
    "no_incoming_enrollment": RejectReason.INCOMING_NOT_NORMAL,
    "incoming_not_normal": RejectReason.INCOMING_NOT_NORMAL,
}


# --- Preconditions ---------------------------------------------------------------


def transfer_check(
    *,
    person: Person,
    name: str,
    id_number: str,
    kind: str,
    outgoing_region_code: str,
    incoming_region_code: str,
) -> tuple[Enrollment, Enrollment]:
    """Check every precondition of SPEC §8; return (outgoing, incoming) enrollments
    or raise DomainError with its own code and a message that says what to do."""
    try:
        parsed = parse_id_number(id_number)
    except ValidationError:
        parsed = None  # not a valid number, so not the person's
    if (
        parsed is None
        or parsed.number != person.id_number
        or name.strip() != person.name
    ):
        raise DomainError(
            _(
                "姓名或身份证号与参保记录不一致，请核对后重新填写；如记录有误，请到参保地经办窗口更正。"
            ),
            code="identity_mismatch",
            field="id_number",
        )
    if kind not in TransferKind.values:
        raise DomainError(_("请选择转移类型。"), code="kind_unknown", field="kind")
    if outgoing_region_code == incoming_region_code:
        raise DomainError(
            _("转出地和转入地不能相同，请选择新的参保地作为转入地。"),
            code="same_region",
            field="incoming_region",
        )
    if Transfer.objects.filter(person=person, status__in=OPEN_STATUSES).exists():
        raise DomainError(
            _("您已有一笔正在办理的转移接续申请，请等待办结或撤销后再申请。"),
            code="transfer_open",
            field="kind",
        )
    return transfer_enrollments_check(
        person_id=person.pk,
        kind=kind,
        outgoing_region_code=outgoing_region_code,
        incoming_region_code=incoming_region_code,
    )


def transfer_enrollments_check(
    *,
    person_id: int,
    kind: str,
    outgoing_region_code: str,
    incoming_region_code: str,
) -> tuple[Enrollment, Enrollment]:
    """The preconditions that can change after applying (arrears, the outgoing
    enrollment suspended, the incoming one normal): checked on application and
    again when the outgoing region accepts, so that a rejection cannot be
    undone by applying again before what caused it is put right."""
    out_side, in_side = KIND_SIDES[kind]
    if enrollment_has_arrears(person_id=person_id, region_code=outgoing_region_code):
        raise DomainError(
            _(
                "您在转出地有已登记但未缴费的参保记录（欠费），请先缴清费用或撤销该登记后再申请。"
            ),
            code="outgoing_arrears",
            field="outgoing_region",
        )
    outgoing = enrollment_latest(
        person_id=person_id,
        region_code=outgoing_region_code,
        schemes=SCHEMES_OF_SIDE[out_side],
    )
    if outgoing is None:
        raise DomainError(
            _(
                "在转出地没有找到您的参保记录（险种与转移类型不符），请核对转出地和转移类型。"
            ),
            code="no_outgoing_enrollment",
            field="outgoing_region",
        )
    if not outgoing.is_stopped:
        raise DomainError(
            _(
                "您在转出地的参保关系尚未暂停（中止），请先到转出地办理暂停参保后再申请转移。"
            ),
            code="outgoing_not_suspended",
            field="outgoing_region",
        )
    # Residents move only after enrolling for the next year at the incoming region.
    resident_move = kind == TransferKind.RESIDENT_TO_RESIDENT
    incoming = enrollment_latest(
        person_id=person_id,
        region_code=incoming_region_code,
        schemes=SCHEMES_OF_SIDE[in_side],
        after_year=outgoing.year if resident_move else None,
    )
    if incoming is None and resident_move:
        raise DomainError(
            _(
                "居民医保转移须先在转入地办理下一年度（%(year)s年）参保登记并缴费，请办理后再申请。"
            )
            % {"year": outgoing.year + 1},
            code="resident_next_year_not_enrolled",
            field="incoming_region",
        )
    if incoming is None:
        raise DomainError(
            _("在转入地没有找到您的参保记录，请先在转入地参保后再申请转移。"),
            code="no_incoming_enrollment",
            field="incoming_region",
        )
    if not incoming.is_active:
        raise DomainError(
            _(
                "您在转入地的参保状态不是正常参保（当前：%(status)s），请先在转入地完成缴费。"
            )
            % {"status": incoming.get_status_display()},
            code="incoming_not_normal",
            field="incoming_region",
        )
    return outgoing, incoming


# --- Helpers -----------------------------------------------------------------------


def _lock(transfer_id: int) -> Transfer:
    # Only the transfer row is locked; the person and regions are read along with it.
    return (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("person", "outgoing_region", "incoming_region")
        .get(pk=transfer_id)
    )


def _today() -> dt.date:
    return timezone.localdate()


def _region_auto(region) -> bool:
    """Whether a region's steps are done by the simulated office (else by staff)."""
    if not isinstance(region, Region):
        region = Region.objects.get(code=region)
    return region.transfer_processing == "auto"


def _simulated_delay(step: str) -> dt.timedelta:
    """How long the simulated regional office takes for a step, in wall-clock
    time: a random number of working days (sometimes beyond the deadline)
    times SIMULATED_SECONDS_PER_WORKING_DAY."""
    late = random.random() < 0.15
    days = {
        Step.ACCEPT: random.uniform(0.05, 0.5),
        Step.ISSUE_SHEET: random.uniform(10.2, 12.0)
        if late
        else random.uniform(0.5, 9.5),
        Step.COMPLETE: random.uniform(5.2, 6.5) if late else random.uniform(0.3, 4.5),
    }.get(step, 0.0)
    return dt.timedelta(seconds=days * settings.SIMULATED_SECONDS_PER_WORKING_DAY)


def _schedule(transfer: Transfer, step: str, *, auto: bool) -> None:
    """Set the next step; due now for message deliveries, after a simulated
    delay for an automatic office, never (staff act) for a manual one."""
    transfer.next_step = step
    if step in (Step.RECEIVE, Step.RETURN):
        transfer.due_at = timezone.now()
    elif auto:
        transfer.due_at = timezone.now() + _simulated_delay(step)
    else:
        transfer.due_at = None


def _clear_schedule(transfer: Transfer) -> None:
    transfer.next_step = ""
    transfer.due_at = None


def _event(
    transfer: Transfer,
    *,
    step: str,
    to_status: str,
    side: str,
    actor=None,
    deadline=None,
    estimated=False,
    note: str = "",
) -> TransferEvent:
    region_id = {
        Side.OUTGOING: transfer.outgoing_region_id,
        Side.INCOMING: transfer.incoming_region_id,
    }.get(side)
    return TransferEvent.objects.create(
        transfer=transfer,
        step=step,
        from_status=transfer.status,
        to_status=to_status,
        side=side,
        region_id=region_id,
        actor=actor,
        deadline=deadline,
        estimated=estimated,
        note=note[:300],
    )


def _move(transfer: Transfer, *, action: str, **event) -> None:
    target = TRANSFER_MACHINE.target(transfer.status, action=action)
    _event(transfer, to_status=target, **event)
    transfer.status = target


def _leg_finish(transfer, *, leg: str, action: str, step, side, actor, now) -> None:
    """The step that ends a leg (the sheet issued; the transfer completed): its
    event carries the leg's deadline, and says so when the step came late."""
    deadline = getattr(transfer, f"{leg}_deadline")
    late = deadline is not None and timezone.localdate(now) > deadline
    _move(
        transfer,
        action=action,
        step=step,
        side=side,
        actor=actor,
        deadline=deadline,
        estimated=getattr(transfer, f"{leg}_deadline_estimated"),
        note=_("超过办理时限") if late else "",
    )


def _can(transfer: Transfer, action: str) -> bool:
    return TRANSFER_MACHINE.can(transfer.status, action=action)


def _done(transfer: Transfer, action: str) -> bool:
    """Whether the transfer already stands where `action` leads, so that a
    repeated request (a double click, a retried task) succeeds without acting."""
    return any(
        edge.target == transfer.status and action in edge.actions
        for edge in TRANSFER_MACHINE.edges
    )


def _check_staff(actor, region_id: str) -> None:
    """Staff act only for their own region's side of a transfer."""
    if actor is None or actor.is_superuser:
        return
    if getattr(actor, "is_region_staff", False) and actor.region_id == region_id:
        return
    raise DomainError(_("只有该统筹区的经办人员可以办理这一步。"), code="wrong_region")


def _notify(
    transfer: Transfer, subject: str, body: str = "", params=None, actor=None
) -> None:
    """Tell the person concerned, and whoever acted for them (the applicant,
    and the citizen who took this step) while they may still see the
    person's records: a family member who applied hears of every step.
    `subject` and `body` are untranslated templates filled with `params`
    (people.services.notify)."""
    params = params or {}
    url = reverse("transfers:detail", args=[transfer.pk])
    notify(person=transfer.person, subject=subject, body=body, params=params, url=url)
    told = {transfer.person_id}
    for user in (transfer.applicant, actor):
        person_id = getattr(user, "person_id", None)
        if person_id is None or person_id in told or user.is_staff:
            continue
        told.add(person_id)
        if not may_act_for(user=user, person_id=transfer.person_id, scope=Scope.VIEW):
            continue
        notify(
            person=user.person,
            subject=gettext_noop("%(name)s的转移接续：%(subject)s"),
            body=body,
            # The body's parameters are never called name or subject.
            params={
                **params,
                "name": transfer.person.name,
                "subject": msg_phrase(subject, **params),
            },
            url=url,
        )


# --- Applicant -----------------------------------------------------------------------


@transaction.atomic
def transfer_apply(
    *,
    person_id: int,
    name: str,
    id_number: str,
    kind: str,
    outgoing_region_code: str,
    incoming_region_code: str,
    applicant=None,
    channel: str = Channel.ONLINE,
) -> Transfer:
    """Apply for a transfer (online, or by staff of either region at the counter)."""
    # The person row lock serialises two applications for the same person.
    person = person_lock(person_id=person_id)
    if (
        channel == Channel.COUNTER
        and applicant is not None
        and not applicant.is_superuser
    ):
        if not getattr(
            applicant, "is_region_staff", False
        ) or applicant.region_id not in (outgoing_region_code, incoming_region_code):
            raise DomainError(
                _("窗口申请只能由转出地或转入地的经办人员代为提交。"),
                code="wrong_region",
            )
    if (
        channel == Channel.ONLINE
        and applicant is not None
        and not applicant.is_superuser
    ):
        if not may_act_for(user=applicant, person_id=person.pk, scope=Scope.TRANSFER):
            raise DomainError(
                _("您只能为本人或已授权您代办转移接续的家人申请。"),
                code="not_family",
                field="person",
            )
        proxy_access_record(
            user=applicant,
            person=person,
            scope=Scope.TRANSFER,
            what=gettext_noop("申请医保关系转移接续"),
        )
    outgoing, incoming = transfer_check(
        person=person,
        name=name,
        id_number=id_number,
        kind=kind,
        outgoing_region_code=outgoing_region_code,
        incoming_region_code=incoming_region_code,
    )
    try:
        with transaction.atomic():
            transfer = Transfer.objects.create(
                person=person,
                kind=kind,
                outgoing_region_id=outgoing_region_code,
                incoming_region_id=incoming_region_code,
                applicant=applicant,
                channel=channel,
                outgoing_enrollment=outgoing,
                incoming_enrollment=incoming,
            )
    except IntegrityError:
        raise DomainError(
            _("您已有一笔正在办理的转移接续申请，请等待办结或撤销后再申请。"),
            code="transfer_open",
            field="kind",
        ) from None
    _event(
        transfer,
        step=EventStep.SUBMITTED,
        to_status=TransferStatus.SUBMITTED,
        side=Side.APPLICANT,
        actor=applicant,
        note=str(Channel(channel).label),
    )
    HandoffMessage.objects.create(
        transfer=transfer,
        kind=MessageKind.APPLICATION,
        from_region_id=incoming_region_code,
        to_region_id=outgoing_region_code,
        payload={
            "name": person.name,
            "id_number": person.id_number,
            "kind": kind,
            "outgoing_enrollment": outgoing.pk,
            "incoming_enrollment": incoming.pk,
        },
    )
    _schedule(transfer, Step.ACCEPT, auto=_region_auto(outgoing_region_code))
    transfer.save()
    # The outgoing region's 10 working days run from its acceptance (SPEC §8),
    # so no date can be promised yet.
    _notify(
        transfer,
        gettext_noop("转移接续申请已提交（%(reference)s）"),
        gettext_noop(
            "转出地受理后，将在 %(days)d 个工作日内出具参保信息表并转出个人账户；受理时会再通知您办理时限。"
        ),
        {"reference": transfer.reference, "days": OUTGOING_WORKING_DAYS},
    )
    return transfer


@transaction.atomic
def transfer_cancel(*, transfer_id: int, actor=None) -> Transfer:
    """The applicant withdraws the request, possible until the outgoing region accepts it."""
    transfer = _lock(transfer_id)
    if _done(transfer, "citizen_cancel"):
        return transfer
    if not _can(transfer, "citizen_cancel"):
        raise DomainError(
            _("转出地已受理，不能再撤销。如需终止，请联系转出地经办机构。"),
            code="already_accepted",
        )
    proxy_act(
        user=actor,
        person=transfer.person,
        scope=Scope.TRANSFER,
        what=gettext_noop("撤销转移接续申请"),
    )
    _move(
        transfer,
        action="citizen_cancel",
        step=EventStep.CANCELLED,
        side=Side.APPLICANT,
        actor=actor,
    )
    transfer.cancelled_at = timezone.now()
    _clear_schedule(transfer)
    transfer.save()
    HandoffMessage.objects.filter(
        transfer=transfer, kind=MessageKind.APPLICATION
    ).update(processed_at=timezone.now())
    _notify(
        transfer,
        gettext_noop("转移接续申请已撤销（%(reference)s）"),
        params={"reference": transfer.reference},
        actor=actor,
    )
    return transfer


# --- Outgoing region ---------------------------------------------------------------


def _recheck(transfer: Transfer, actor, *, arrears_only: bool = False) -> bool:
    """Check again the preconditions a step depends on; reject with the same
    reason code when one no longer holds. Returns whether the step may go on."""
    failed = None
    if arrears_only:
        if enrollment_has_arrears(
            person_id=transfer.person_id, region_code=transfer.outgoing_region_id
        ):
            failed = "outgoing_arrears"
    else:
        try:
            outgoing, incoming = transfer_enrollments_check(
                person_id=transfer.person_id,
                kind=transfer.kind,
                outgoing_region_code=transfer.outgoing_region_id,
                incoming_region_code=transfer.incoming_region_id,
            )
        except DomainError as error:
            failed = error.code
        else:
            # The rows found now are the ones the later steps act on.
            transfer.outgoing_enrollment = outgoing
            transfer.incoming_enrollment = incoming
    if failed is None:
        return True
    _reject(
        transfer,
        code=RECHECK_REJECT_REASONS[failed],
        text=_("出具信息表前复核") if arrears_only else _("受理时复核"),
        actor=actor,
    )
    return False


def _accept(transfer: Transfer, actor=None) -> bool:
    """Accept if the machine allows; False when the check again rejected it."""
    if not _can(transfer, "outgoing_accept"):
        return True
    _check_staff(actor, transfer.outgoing_region_id)
    # Arrears, suspension and the incoming enrollment may have changed since
    # the application (or since an earlier rejection that was applied for again).
    if not _recheck(transfer, actor):
        return False
    now = timezone.now()
    deadline = working_deadline(timezone.localdate(now), OUTGOING_WORKING_DAYS)
    _move(
        transfer,
        action="outgoing_accept",
        step=EventStep.ACCEPTED,
        side=Side.OUTGOING,
        actor=actor,
        deadline=deadline.date,
        estimated=deadline.estimated,
    )
    transfer.accepted_at = now
    transfer.outgoing_deadline = deadline.date
    transfer.outgoing_deadline_estimated = deadline.estimated
    HandoffMessage.objects.filter(
        transfer=transfer, kind=MessageKind.APPLICATION
    ).update(received_at=now, processed_at=now)
    _schedule(transfer, Step.ISSUE_SHEET, auto=_region_auto(transfer.outgoing_region))
    transfer.save()
    _notify(
        transfer,
        gettext_noop("转出地已受理您的转移接续申请"),
        gettext_noop("转出地将在 %(date)s 前出具参保信息表并转出个人账户。"),
        {"date": deadline.date},
    )
    return True


def _issue_sheet(transfer: Transfer, actor=None) -> None:
    if not _can(transfer, "outgoing_issue_sheet"):
        return
    _check_staff(actor, transfer.outgoing_region_id)
    # The balance leaves only while nothing is owed; a suspension is ensured
    # below, so only the arrears are checked again.
    if not _recheck(transfer, actor, arrears_only=True):
        return
    now = timezone.now()
    person = transfer.person
    outgoing = enrollment_ensure_suspended(
        enrollment_id=transfer.outgoing_enrollment_id,
        reason=_("转移接续：转出"),
        actor=actor,
    )
    # The account row lock holds the balance still until it is posted out below.
    account = account_lock(person_id=person.pk, region_code=transfer.outgoing_region_id)
    balance = to_money(account.balance) if account else ZERO
    months = months_totals(person_id=person.pk, region_code=transfer.outgoing_region_id)
    history_rows = enrollment_history(
        person_id=person.pk, region_code=transfer.outgoing_region_id
    )
    history = [
        {
            "year": e.year,
            "scheme": str(e.get_scheme_display()),
            "status": str(e.get_status_display()),
            "coverage_start": e.coverage_start.isoformat() if e.coverage_start else "",
            "coverage_end": e.coverage_end.isoformat() if e.coverage_end else "",
        }
        for e in history_rows
    ]
    starts = [e.coverage_start for e in history_rows if e.coverage_start] or [
        timezone.localdate(e.created_at) for e in history_rows
    ]
    sheet = _sheet_create(
        transfer=transfer,
        number=f"XXB{transfer.outgoing_region_id}{transfer.pk:08d}",
        name=person.name,
        id_number=person.id_number,
        scheme=outgoing.scheme,
        scheme_label=str(outgoing.get_scheme_display()),
        outgoing_region_code=transfer.outgoing_region_id,
        incoming_region_code=transfer.incoming_region_id,
        enrollment_start=min(starts) if starts else None,
        suspended_on=enrollment_suspended_on(enrollment_id=outgoing.pk) or _today(),
        actual_months=max(months[MonthsKind.ACTUAL], 0),
        deemed_months=max(months[MonthsKind.DEEMED], 0),
        contribution_history=history,
        account_balance=balance,
    )
    # Money and months leave the outgoing region once (unique references) and
    # are "in transit" on the transfer until the incoming region credits them.
    if balance > 0:
        account_post(
            account_id=account.pk,
            amount=-balance,
            kind=EntryKind.TRANSFER_OUT,
            reference=f"transfer:{transfer.pk}:out",
        )
    for kind, field in (
        (MonthsKind.ACTUAL, "transit_actual_months"),
        (MonthsKind.DEEMED, "transit_deemed_months"),
    ):
        if months[kind] > 0:
            months_add(
                person_id=person.pk,
                region_code=transfer.outgoing_region_id,
                kind=kind,
                months=-months[kind],
                reference=f"transfer:{transfer.pk}:out:{kind}",
            )
        setattr(transfer, field, max(months[kind], 0))
    transfer.transit_amount = balance
    HandoffMessage.objects.create(
        transfer=transfer,
        kind=MessageKind.SHEET,
        from_region_id=transfer.outgoing_region_id,
        to_region_id=transfer.incoming_region_id,
        payload={
            "sheet": sheet.number,
            "amount": str(balance),
            "actual_months": transfer.transit_actual_months,
            "deemed_months": transfer.transit_deemed_months,
            "scheme": outgoing.scheme,
        },
    )
    _leg_finish(
        transfer,
        leg="outgoing",
        action="outgoing_issue_sheet",
        step=EventStep.SHEET_ISSUED,
        side=Side.OUTGOING,
        actor=actor,
        now=now,
    )
    transfer.sheet_issued_at = now
    _schedule(transfer, Step.RECEIVE, auto=True)
    transfer.save()
    _notify(
        transfer,
        gettext_noop("转出地已出具参保人员基本医疗保险信息表"),
        gettext_noop("个人账户余额 %(amount)s 元已转出，正在转往转入地。"),
        {"amount": msg_money(balance, symbol=False)},
    )


def _sheet_create(**fields) -> InformationSheet:
    """The sheet with a fresh verification code (drawn again on a collision)
    and its signature over the fields as issued."""
    for _attempt in range(5):
        sheet = InformationSheet(
            **fields,
            verification_code="".join(
                secrets.choice(SHEET_CODE_ALPHABET) for _i in range(12)
            ),
        )
        sheet.signature = sheet.compute_signature()
        try:
            with transaction.atomic():
                sheet.save(force_insert=True)
        except IntegrityError:
            code = sheet.verification_code
            if InformationSheet.objects.filter(verification_code=code).exists():
                continue  # the code collided: draw again
            raise
        return sheet
    raise RuntimeError("could not draw a unique verification code")


# --- Incoming region ---------------------------------------------------------------


def _receive(transfer: Transfer, actor=None) -> None:
    if not _can(transfer, "incoming_receive"):
        return
    now = timezone.now()
    HandoffMessage.objects.filter(
        transfer=transfer, kind=MessageKind.SHEET, received_at__isnull=True
    ).update(received_at=now)
    deadline = working_deadline(timezone.localdate(now), INCOMING_WORKING_DAYS)
    _move(
        transfer,
        action="incoming_receive",
        step=EventStep.RECEIVED,
        side=Side.INCOMING,
        deadline=deadline.date,
        estimated=deadline.estimated,
    )
    transfer.received_at = now
    transfer.incoming_deadline = deadline.date
    transfer.incoming_deadline_estimated = deadline.estimated
    _schedule(transfer, Step.COMPLETE, auto=_region_auto(transfer.incoming_region))
    transfer.save()
    _notify(
        transfer,
        gettext_noop("转入地已收到您的参保信息表"),
        gettext_noop("转入地将在 %(date)s 前办结。"),
        {"date": deadline.date},
    )


def _complete(transfer: Transfer, actor=None) -> None:
    if not _can(transfer, "incoming_complete"):
        return
    _check_staff(actor, transfer.incoming_region_id)
    now = timezone.now()
    person = transfer.person
    # The incoming region knows the amounts from the sheet message only.
    message = HandoffMessage.objects.select_for_update().get(
        transfer=transfer, kind=MessageKind.SHEET
    )
    amount = to_money(message.payload.get("amount", "0"))
    if amount > 0:
        account = account_get_or_create(
            person_id=person.pk, region_code=transfer.incoming_region_id
        )
        account_post(
            account_id=account.pk,
            amount=amount,
            kind=EntryKind.TRANSFER_IN,
            reference=f"transfer:{transfer.pk}:in",
        )
    for kind, key in (
        (MonthsKind.ACTUAL, "actual_months"),
        (MonthsKind.DEEMED, "deemed_months"),
    ):
        if message.payload.get(key, 0) > 0:
            months_add(
                person_id=person.pk,
                region_code=transfer.incoming_region_id,
                kind=kind,
                months=message.payload[key],
                reference=f"transfer:{transfer.pk}:in:{kind}",
            )
    transfer.transit_amount = ZERO
    transfer.transit_actual_months = 0
    transfer.transit_deemed_months = 0
    message.processed_at = now
    message.save(update_fields=["processed_at"])
    HandoffMessage.objects.create(
        transfer=transfer,
        kind=MessageKind.COMPLETED,
        from_region_id=transfer.incoming_region_id,
        to_region_id=transfer.outgoing_region_id,
        payload={"amount": str(amount)},
    )
    if transfer.incoming_enrollment_id and transfer.incoming_enrollment.can_resume:
        enrollment_transition(
            enrollment_id=transfer.incoming_enrollment_id,
            action="resume",
            actor=actor,
            reason=_("转移接续：转入"),
        )
    person_region_set(
        person_id=person.pk, region_code=transfer.incoming_region_id, move=True
    )
    _leg_finish(
        transfer,
        leg="incoming",
        action="incoming_complete",
        step=EventStep.COMPLETED,
        side=Side.INCOMING,
        actor=actor,
        now=now,
    )
    transfer.completed_at = now
    _clear_schedule(transfer)
    transfer.save()
    _notify(
        transfer,
        gettext_noop("转移接续已办结"),
        gettext_noop(
            "您的医保关系已转入新的参保地，个人账户 %(amount)s 元和缴费月数已转入。"
        ),
        {"amount": msg_money(amount, symbol=False)},
    )


# --- Either region -----------------------------------------------------------------


def _reject(transfer: Transfer, *, code: str, text: str, actor=None) -> None:
    # Which side may refuse follows from which reject action the status allows.
    if _can(transfer, "outgoing_reject"):
        action, side, region, other = (
            "outgoing_reject",
            Side.OUTGOING,
            transfer.outgoing_region_id,
            transfer.incoming_region_id,
        )
    elif _can(transfer, "incoming_reject"):
        action, side, region, other = (
            "incoming_reject",
            Side.INCOMING,
            transfer.incoming_region_id,
            transfer.outgoing_region_id,
        )
    else:
        raise DomainError(_("该申请当前不能不予办理。"), code="cannot_reject")
    _check_staff(actor, region)
    if code not in RejectReason.values:
        raise DomainError(
            _("请选择不予办理的原因。"), code="reason_required", field="code"
        )
    if code == RejectReason.OTHER and not text.strip():
        raise DomainError(
            _("选择“其他原因”时请写明原因。"), code="reason_required", field="text"
        )
    now = timezone.now()
    _move(
        transfer,
        action=action,
        step=EventStep.REJECTED,
        side=side,
        actor=actor,
        note=f"{RejectReason(code).label} {text}".strip(),
    )
    if side == Side.OUTGOING:
        # The outgoing region has read the application it refuses.
        HandoffMessage.objects.filter(
            transfer=transfer, kind=MessageKind.APPLICATION, processed_at__isnull=True
        ).update(received_at=Coalesce("received_at", Value(now)), processed_at=now)
    transfer.rejected_at = now
    transfer.reject_side = side
    transfer.reject_code = code
    transfer.reject_text = text.strip()[:300]
    HandoffMessage.objects.create(
        transfer=transfer,
        kind=MessageKind.REJECTED,
        from_region_id=region,
        to_region_id=other,
        payload={
            "code": code,
            "text": transfer.reject_text,
            "amount": str(transfer.transit_amount),
            "actual_months": transfer.transit_actual_months,
            "deemed_months": transfer.transit_deemed_months,
        },
    )
    if (
        transfer.transit_amount > 0
        or transfer.transit_actual_months
        or transfer.transit_deemed_months
    ):
        # Rejected by the incoming region after the money left: it goes back.
        _schedule(transfer, Step.RETURN, auto=True)
    else:
        _clear_schedule(transfer)
    transfer.save()
    # As Transfer.reject_label and .next_action, kept untranslated.
    reason = msg_phrase(RejectReason(code).label)
    if transfer.reject_text:
        reason = msg_phrase(
            "%(label)s（%(text)s）", label=reason, text=transfer.reject_text
        )
    _notify(
        transfer,
        gettext_noop("转移接续申请未通过"),
        gettext_noop("原因：%(reason)s。%(next)s"),
        {"reason": reason, "next": msg_phrase(NEXT_ACTIONS.get(code, ""))},
    )


def _return(transfer: Transfer, actor=None) -> None:
    """The outgoing region takes back what an incoming rejection sent back."""
    # Not a transition (the status stays REJECTED, a final state): the step
    # only ever follows a rejection, and the unprocessed message makes it once.
    if transfer.status != TransferStatus.REJECTED:
        return
    message = (
        HandoffMessage.objects.select_for_update()
        .filter(transfer=transfer, kind=MessageKind.REJECTED, processed_at__isnull=True)
        .first()
    )
    if message is not None:
        now = timezone.now()
        amount = to_money(message.payload.get("amount", "0"))
        if amount > 0:
            account = account_get_or_create(
                person_id=transfer.person_id, region_code=transfer.outgoing_region_id
            )
            account_post(
                account_id=account.pk,
                amount=amount,
                kind=EntryKind.REFUND,
                reference=f"transfer:{transfer.pk}:return",
            )
        for kind, key in (
            (MonthsKind.ACTUAL, "actual_months"),
            (MonthsKind.DEEMED, "deemed_months"),
        ):
            if message.payload.get(key, 0) > 0:
                months_add(
                    person_id=transfer.person_id,
                    region_code=transfer.outgoing_region_id,
                    kind=kind,
                    months=message.payload[key],
                    reference=f"transfer:{transfer.pk}:return:{kind}",
                )
        message.received_at = message.received_at or now
        message.processed_at = now
        message.save(update_fields=["received_at", "processed_at"])
        _event(
            transfer,
            step=EventStep.RETURNED,
            to_status=transfer.status,
            side=Side.OUTGOING,
        )
        transfer.transit_amount = ZERO
        transfer.transit_actual_months = 0
        transfer.transit_deemed_months = 0
    _clear_schedule(transfer)
    transfer.save()


STEPS = {
    Step.ACCEPT: _accept,
    Step.ISSUE_SHEET: _issue_sheet,
    Step.RECEIVE: _receive,
    Step.COMPLETE: _complete,
    Step.RETURN: _return,
}


@transaction.atomic
def transfer_accept(*, transfer_id: int, actor=None) -> Transfer:
    """转出地受理: the outgoing region checks the preconditions again and
    accepts (its 10 working days start), or rejects with the reason code of
    the one that no longer holds; the transfer is returned either way."""
    transfer = _lock(transfer_id)
    if not (_can(transfer, "outgoing_accept") or _done(transfer, "outgoing_accept")):
        raise DomainError(_("该申请当前不能受理。"), code="cannot_accept")
    _accept(transfer, actor)
    return transfer


@transaction.atomic
def transfer_issue_sheet(*, transfer_id: int, actor=None) -> Transfer:
    """The outgoing region issues the information sheet and sends the balance and months out."""
    transfer = _lock(transfer_id)
    # Issuing a sheet for an application not yet accepted accepts it first;
    # a rejection by that acceptance's check stands (and is committed).
    if not _accept(transfer, actor):
        return transfer
    if not (
        _can(transfer, "outgoing_issue_sheet")
        or _done(transfer, "outgoing_issue_sheet")
    ):
        raise DomainError(_("该申请当前不能出具信息表。"), code="cannot_issue")
    _issue_sheet(transfer, actor)
    return transfer


@transaction.atomic
def transfer_complete(*, transfer_id: int, actor=None) -> Transfer:
    """The incoming region checks the sheet and completes the transfer-in."""
    transfer = _lock(transfer_id)
    # Staff may complete before the sheet message is delivered: receive it now.
    _receive(transfer)
    if not (
        _can(transfer, "incoming_complete") or _done(transfer, "incoming_complete")
    ):
        raise DomainError(_("该申请当前不能办结。"), code="cannot_complete")
    _complete(transfer, actor)
    return transfer


@transaction.atomic
def transfer_reject(
    *, transfer_id: int, code: str, text: str = "", actor=None
) -> Transfer:
    """Either region refuses the request with a reason; money already sent goes back."""
    transfer = _lock(transfer_id)
    if _done(transfer, "outgoing_reject") or _done(transfer, "incoming_reject"):
        return transfer
    _reject(transfer, code=code, text=text, actor=actor)
    return transfer


@transaction.atomic
def transfer_run_step(
    *, transfer_id: int, step: str | None = None, claimed: bool = False
) -> Transfer:
    """Run the transfer's next automatic step if it is due (or claimed by the
    scan). Safe to run twice: the second run finds the step already done."""
    transfer = _lock(transfer_id)
    if not transfer.next_step or transfer.due_at is None:
        return transfer
    if step and transfer.next_step != step:
        return transfer
    if not claimed and transfer.due_at > timezone.now():
        return transfer
    STEPS[transfer.next_step](transfer)
    return transfer


# --- The engine's scan ---------------------------------------------------------------


def transfers_claim_due(*, batch: int = 50) -> list[tuple[int, str]]:
    """Claim up to `batch` due steps, oldest first. Rows another scan holds are
    skipped (skip_locked); claimed rows get a lease (due_at pushed forward) so
    that a worker killed mid-step leaves them to be retried after the lease."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            Transfer.objects.select_for_update(skip_locked=True)
            .filter(due_at__lte=now)
            .order_by("due_at")
            .values_list("pk", "next_step")[:batch]
        )
        if rows:
            lease = dt.timedelta(seconds=settings.TRANSFER_CLAIM_LEASE_SECONDS)
            Transfer.objects.filter(pk__in=[pk for pk, _step in rows]).update(
                due_at=now + lease
            )
    return rows


def transfers_scan(*, batch: int = 50, time_budget: float = 8.0) -> int:
    """Run due steps in batches until none is due or the time budget is spent.
    Each step is its own transaction; one failing step does not stop the rest."""
    started = time.monotonic()
    done = 0
    while time.monotonic() - started < time_budget:
        claimed = transfers_claim_due(batch=batch)
        if not claimed:
            break
        for transfer_id, step in claimed:
            try:
                transfer_run_step(transfer_id=transfer_id, step=step, claimed=True)
            except Exception:  # noqa: BLE001 - left with its lease; retried when it expires
                log.exception(
                    "transfer %s step %s failed; will retry", transfer_id, step
                )
                continue
            done += 1
    return done


# --- The calendar ---------------------------------------------------------------


@transaction.atomic
def transfer_deadlines_recompute(*, year: int) -> int:
    """The State Council's schedule for `year` has been entered: deadlines of
    open transfers that were computed as estimates are computed again from the
    same starting days (acceptance; receipt of the sheet), now exactly where
    the calendar allows. Returns how many transfers changed."""
    changed = 0
    candidates = (
        Transfer.objects.select_for_update()
        .filter(status__in=OPEN_STATUSES)
        .filter(
            Q(outgoing_deadline_estimated=True) | Q(incoming_deadline_estimated=True)
        )
    )
    # (leg, the day its deadline counts from, working days, the event step)
    legs = (
        ("outgoing", "accepted_at", OUTGOING_WORKING_DAYS, EventStep.ACCEPTED),
        ("incoming", "received_at", INCOMING_WORKING_DAYS, EventStep.RECEIVED),
    )
    for transfer in candidates:
        fields = []
        for leg, started_field, days, step in legs:
            started = getattr(transfer, started_field)
            if not (
                getattr(transfer, f"{leg}_deadline_estimated")
                and started
                and getattr(transfer, f"{leg}_deadline").year >= year
            ):
                continue
            deadline = working_deadline(timezone.localdate(started), days)
            setattr(transfer, f"{leg}_deadline", deadline.date)
            setattr(transfer, f"{leg}_deadline_estimated", deadline.estimated)
            transfer.events.filter(step=step).update(
                deadline=deadline.date, estimated=deadline.estimated
            )
            fields += [f"{leg}_deadline", f"{leg}_deadline_estimated"]
        if fields:
            transfer.save(update_fields=fields)
            changed += 1
    return changed


# --- Figures for the conservation checks -------------------------------------------


def money_in_transit() -> object:
    return Transfer.objects.aggregate(total=Sum("transit_amount"))["total"] or ZERO
