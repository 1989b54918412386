"""Every write of the transfers app, one transactional function each.

The two regions' offices talk only through HandoffMessage rows. Each step
(accept, issue the sheet, receive, complete, reject, return) is one function
that takes a batch of locked transfers: it asks TRANSFER_MACHINE, row by row,
where its action leads from each transfer's status (or whether it may act at
all), then writes the whole batch at once: one INSERT of its event rows
(unique per step), one UPDATE of the transfers, one of each kind of message,
money, months and notification, whatever the number of transfers. The
engine's scan (`transfers_scan`) claims due rows with a lease and runs each
step's claimed transfers as one batch in one transaction; a staff member's
act on one transfer (`transfer_accept` …) is the same step on a batch of one.
Money and months move with unique references, so a step that runs twice, or
is retried after a worker died in the middle of it, moves them once.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import secrets
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from auditlog.context import disable_auditlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
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
    arrears_among,
    enrollments_at,
    latest_among,
    months_totals_at,
    suspended_on_of,
)
from enrollment.services import enrollments_transition_allowed, months_add_many
from payments.models import EntryKind
from payments.services import (
    account_get_or_create,
    accounts_lock,
    accounts_post_many,
)
from people.access import may_act_for, may_act_for_many
from people.models import Person, Scope, msg_money, msg_phrase
from people.pagecache import family_changed
from people.services import (
    notify_many,
    person_lock,
    person_region_set,
    persons_region_move,
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
# Loaded with every locked transfer, so that a batch reads no row twice: the
# person with their login (the e-mail of a notification), both regions (is
# the office automatic?), the applicant with their person (told of each step).
LOCK_RELATED = (
    "person__account",
    "outgoing_region",
    "incoming_region",
    "applicant__person",
)


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
    found = enrollments_at(
        pairs=[(person_id, outgoing_region_code), (person_id, incoming_region_code)]
    )
    return _enrollments_check(
        found,
        person_id=person_id,
        kind=kind,
        outgoing_region_code=outgoing_region_code,
        incoming_region_code=incoming_region_code,
    )


def _enrollments_check(
    found: dict[tuple[int, str], list[Enrollment]],
    *,
    person_id: int,
    kind: str,
    outgoing_region_code: str,
    incoming_region_code: str,
) -> tuple[Enrollment, Enrollment]:
    """transfer_enrollments_check on rows already read (enrollment.selectors.
    enrollments_at), so that a batch asks the database once."""
    out_side, in_side = KIND_SIDES[kind]
    at_outgoing = found[(person_id, outgoing_region_code)]
    at_incoming = found[(person_id, incoming_region_code)]
    if arrears_among(at_outgoing):
        raise DomainError(
            _(
                "您在转出地有已登记但未缴费的参保记录（欠费），请先缴清费用或撤销该登记后再申请。"
            ),
            code="outgoing_arrears",
            field="outgoing_region",
        )
    outgoing = latest_among(at_outgoing, schemes=SCHEMES_OF_SIDE[out_side])
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
    incoming = latest_among(
        at_incoming,
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


def _locking(*, skip_locked: bool = False):
    # Only the transfer rows are locked; what LOCK_RELATED names is read along.
    return Transfer.objects.select_for_update(
        of=("self",), skip_locked=skip_locked
    ).select_related(*LOCK_RELATED)


def _lock(transfer_id: int) -> Transfer:
    return _locking().get(pk=transfer_id)


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


def _schedule(transfer: Transfer, step: str, *, auto: bool, now=None) -> None:
    """Set the next step; due now for message deliveries, after a simulated
    delay for an automatic office, never (staff act) for a manual one. A
    batch passes its `now`, so that its rows due at once share one value."""
    now = now or timezone.now()
    transfer.next_step = step
    if step in (Step.RECEIVE, Step.RETURN):
        transfer.due_at = now
    elif auto:
        transfer.due_at = now + _simulated_delay(step)
    else:
        transfer.due_at = None


def _clear_schedule(transfer: Transfer) -> None:
    transfer.next_step = ""
    transfer.due_at = None


SCHEDULE_FIELDS = ["next_step", "due_at"]
TRANSIT_FIELDS = ["transit_amount", "transit_actual_months", "transit_deemed_months"]


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
    """The transfer's event row for `step`, not yet saved (a batch inserts its
    events in one statement)."""
    region_id = {
        Side.OUTGOING: transfer.outgoing_region_id,
        Side.INCOMING: transfer.incoming_region_id,
    }.get(side)
    return TransferEvent(
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


def _move(transfer: Transfer, *, action: str, **event) -> TransferEvent:
    """Take `action` (where the machine says it leads from the transfer's
    status; TransitionNotAllowed elsewhere) and return its event row, unsaved."""
    target = TRANSFER_MACHINE.target(transfer.status, action=action)
    row = _event(transfer, to_status=target, **event)
    transfer.status = target
    return row


def _leg_start(
    transfer, *, leg: str, action: str, step, side, actor, now, deadline, next_step
) -> TransferEvent:
    """The step that starts a leg (the outgoing region accepts; the incoming
    region receives the sheet): its working-day deadline set from today, its
    event carries it, and the leg's next step is scheduled."""
    event = _move(
        transfer,
        action=action,
        step=step,
        side=side,
        actor=actor,
        deadline=deadline.date,
        estimated=deadline.estimated,
    )
    stamp = "accepted_at" if leg == "outgoing" else "received_at"
    setattr(transfer, stamp, now)
    setattr(transfer, f"{leg}_deadline", deadline.date)
    setattr(transfer, f"{leg}_deadline_estimated", deadline.estimated)
    _schedule(
        transfer,
        next_step,
        auto=_region_auto(getattr(transfer, f"{leg}_region")),
        now=now,
    )
    return event


def _leg_finish(
    transfer, *, leg: str, action: str, step, side, actor, now
) -> TransferEvent:
    """The step that ends a leg (the sheet issued; the transfer completed): its
    event carries the leg's deadline, and says so when the step came late."""
    deadline = getattr(transfer, f"{leg}_deadline")
    late = deadline is not None and timezone.localdate(now) > deadline
    return _move(
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


def _save(transfers: Sequence[Transfer], fields: Iterable[str], *, actor) -> None:
    """Write these fields of locked transfers. A person's act (staff, a
    citizen) saves its transfer as a model, so that the audit log records a
    staff member's change; the system's batch is one UPDATE (_update_rows)."""
    if not transfers:
        return
    fields = [*fields, "updated_at"]
    if actor is not None:
        for transfer in transfers:
            transfer.save(update_fields=fields)
        return
    now = timezone.now()
    for transfer in transfers:
        transfer.updated_at = now
    _update_rows(transfers, fields)


def _update_rows(rows: Sequence[Transfer], fields: Iterable[str]) -> None:
    """One UPDATE for many transfers: a field with the same value on every row
    is set once, one that differs by row through a CASE on the id. Written
    out here because Django's Case(When(pk=…)) resolves one filter per row,
    which costs more Python than the statement saves."""
    quote = connection.ops.quote_name
    casted = connection.features.requires_casted_case_in_updates
    pk = quote(Transfer._meta.pk.column)
    assignments, params = [], []
    for name in fields:
        field = Transfer._meta.get_field(name)
        values = [
            field.get_db_prep_save(getattr(row, field.attname), connection)
            for row in rows
        ]
        if all(value == values[0] for value in values[1:]):
            assignments.append(f"{quote(field.column)} = %s")
            params.append(values[0])
            continue
        case = f"CASE {pk} {' '.join(['WHEN %s THEN %s'] * len(rows))} END"
        if casted:
            case = f"CAST({case} AS {field.cast_db_type(connection)})"
        assignments.append(f"{quote(field.column)} = {case}")
        for row, value in zip(rows, values, strict=True):
            params += [row.pk, value]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(Transfer._meta.db_table)} SET {', '.join(assignments)} "
            f"WHERE {pk} IN ({', '.join(['%s'] * len(rows))})",
            [*params, *(row.pk for row in rows)],
        )


def _detail_urls():
    """transfers:detail of any transfer from one reverse() (a batch would
    otherwise resolve the URL once per message)."""
    marker = 918273645546372819
    url = reverse("transfers:detail", args=[marker])
    head, tail = url.split(str(marker))
    return lambda pk: f"{head}{pk}{tail}"


def _notify(
    transfer: Transfer, subject: str, body: str = "", params=None, actor=None
) -> None:
    _notify_many([(transfer, subject, body, params, actor)])


def _notify_many(items) -> None:
    """For each `(transfer, subject, body, params, actor)`: tell the person
    concerned, and whoever acted for them (the applicant, and the citizen who
    took this step) while they may still see the person's records: a family
    member who applied hears of every step. `subject` and `body` are
    untranslated templates filled with `params` (people.services.notify).
    One INSERT for the batch, and one question to people.access for those
    acting for someone else."""
    notes, asks = [], []
    detail_url = _detail_urls()
    for transfer, subject, body, params, actor in items:
        params = params or {}
        url = detail_url(transfer.pk)
        notes.append(
            {
                "person": transfer.person,
                "subject": subject,
                "body": body,
                "params": params,
                "url": url,
            }
        )
        told = {transfer.person_id}
        for user in (transfer.applicant, actor):
            person_id = getattr(user, "person_id", None)
            if person_id is None or person_id in told or user.is_staff:
                continue
            told.add(person_id)
            asks.append((user, transfer, subject, body, params, url))
    allowed = may_act_for_many(
        pairs=[(user, transfer.person_id) for user, transfer, *_rest in asks],
        scope=Scope.VIEW,
    )
    for user, transfer, subject, body, params, url in asks:
        if (user.pk, transfer.person_id) not in allowed:
            continue
        notes.append(
            {
                "person": user.person,
                "subject": gettext_noop("%(name)s的转移接续：%(subject)s"),
                "body": body,
                # The body's parameters are never called name or subject.
                "params": {
                    **params,
                    "name": transfer.person.name,
                    "subject": msg_phrase(subject, **params),
                },
                "url": url,
            }
        )
    notify_many(notes=notes)


def _pages_changed(transfers: Iterable[Transfer]) -> None:
    """The batch wrote with UPDATE and bulk INSERTs (no model signals): the
    pages that show these persons go stale (people.pagecache)."""
    family_changed(person_ids=[transfer.person_id for transfer in transfers])


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
    ).save()
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
    _pages_changed([transfer])
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
    ).save()
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
    _pages_changed([transfer])
    return transfer


# --- Outgoing region ---------------------------------------------------------------


def _recheck(
    transfers: list[Transfer], actor, *, arrears_only: bool = False
) -> tuple[list[Transfer], dict]:
    """Check again, for a batch, the preconditions a step depends on; reject
    each transfer where one no longer holds, with the same reason code.
    Returns the transfers that may go on, and the enrollments read (by person
    and region: enrollment.selectors.enrollments_at) for the step to use; a
    full check also points each transfer at the enrollments it found now."""
    if not transfers:
        return [], {}
    pairs = [(t.person_id, t.outgoing_region_id) for t in transfers]
    if not arrears_only:
        pairs += [(t.person_id, t.incoming_region_id) for t in transfers]
    found = enrollments_at(pairs=pairs)
    failed = {}
    for transfer in transfers:
        if arrears_only:
            at_outgoing = found[(transfer.person_id, transfer.outgoing_region_id)]
            if arrears_among(at_outgoing):
                failed[transfer.pk] = "outgoing_arrears"
            continue
        try:
            outgoing, incoming = _enrollments_check(
                found,
                person_id=transfer.person_id,
                kind=transfer.kind,
                outgoing_region_code=transfer.outgoing_region_id,
                incoming_region_code=transfer.incoming_region_id,
            )
        except DomainError as error:
            failed[transfer.pk] = error.code
        else:
            # The rows found now are the ones the later steps act on.
            transfer.outgoing_enrollment = outgoing
            transfer.incoming_enrollment = incoming
    if failed:
        text = _("出具信息表前复核") if arrears_only else _("受理时复核")
        _reject(
            [
                (transfer, RECHECK_REJECT_REASONS[failed[transfer.pk]], text)
                for transfer in transfers
                if transfer.pk in failed
            ],
            actor=actor,
        )
    return [t for t in transfers if t.pk not in failed], found


def _accept(transfers: list[Transfer], actor=None) -> list[Transfer]:
    """转出地受理 for a batch: each transfer the machine lets accept is checked
    again and accepted (its 10 working days start), or rejected with the
    reason code of the check that failed. Returns the transfers that go on
    (accepted now or before), the rejected left out."""
    acting = [t for t in transfers if _can(t, "outgoing_accept")]
    for transfer in acting:
        _check_staff(actor, transfer.outgoing_region_id)
    before = {
        t.pk: (t.outgoing_enrollment_id, t.incoming_enrollment_id) for t in acting
    }
    # Arrears, suspension and the incoming enrollment may have changed since
    # the application (or since an earlier rejection that was applied for again).
    passed, _found = _recheck(acting, actor)
    if passed:
        now = timezone.now()
        deadline = working_deadline(timezone.localdate(now), OUTGOING_WORKING_DAYS)
        events = []
        for transfer in passed:
            events.append(
                _leg_start(
                    transfer,
                    leg="outgoing",
                    action="outgoing_accept",
                    step=EventStep.ACCEPTED,
                    side=Side.OUTGOING,
                    actor=actor,
                    now=now,
                    deadline=deadline,
                    next_step=Step.ISSUE_SHEET,
                )
            )
        TransferEvent.objects.bulk_create(events)
        HandoffMessage.objects.filter(
            transfer_id__in=[t.pk for t in passed], kind=MessageKind.APPLICATION
        ).update(received_at=now, processed_at=now)
        # The enrollments are written only where the check found others.
        found_others = [
            t
            for t in passed
            if before[t.pk] != (t.outgoing_enrollment_id, t.incoming_enrollment_id)
        ]
        _save(
            passed,
            [
                "status",
                "accepted_at",
                "outgoing_deadline",
                "outgoing_deadline_estimated",
                *SCHEDULE_FIELDS,
            ],
            actor=actor,
        )
        _save(found_others, ["outgoing_enrollment", "incoming_enrollment"], actor=actor)
        _notify_many(
            [
                (
                    transfer,
                    gettext_noop("转出地已受理您的转移接续申请"),
                    gettext_noop(
                        "转出地将在 %(date)s 前出具参保信息表并转出个人账户。"
                    ),
                    {"date": deadline.date},
                    None,
                )
                for transfer in passed
            ]
        )
    rejected = {t.pk for t in acting} - {t.pk for t in passed}
    return [t for t in transfers if t.pk not in rejected]


def _issue_sheet(transfers: list[Transfer], actor=None) -> None:
    """转出地出具信息表 for a batch: the outgoing enrollment suspended where it
    is not yet, the sheet issued, the balance and months sent out (in transit
    on the transfer until the incoming region credits them)."""
    acting = [t for t in transfers if _can(t, "outgoing_issue_sheet")]
    for transfer in acting:
        _check_staff(actor, transfer.outgoing_region_id)
    # The balance leaves only while nothing is owed; a suspension is ensured
    # below, so only the arrears are checked again.
    acting, found = _recheck(acting, actor, arrears_only=True)
    if not acting:
        return
    now = timezone.now()
    pairs = [(t.person_id, t.outgoing_region_id) for t in acting]
    outgoing_rows = enrollments_transition_allowed(
        enrollment_ids=[t.outgoing_enrollment_id for t in acting],
        action="suspend",
        actor=actor,
        reason=_("转移接续：转出"),
    )
    # The account row locks hold the balances still until they are posted out below.
    accounts = accounts_lock(pairs=pairs)
    months_at = months_totals_at(pairs=pairs)
    suspended_on = suspended_on_of(enrollment_ids=list(outgoing_rows))
    sheets, postings, month_rows, messages, events = [], [], [], [], []
    for transfer in acting:
        person = transfer.person
        pair = (transfer.person_id, transfer.outgoing_region_id)
        outgoing = outgoing_rows[transfer.outgoing_enrollment_id]
        account = accounts.get(pair)
        balance = to_money(account.balance) if account else ZERO
        months = months_at[pair]
        # As read for the arrears check, the outgoing row as it is now (suspended).
        history_rows = [outgoing_rows.get(e.pk, e) for e in found[pair]]
        history = [
            {
                "year": e.year,
                "scheme": str(e.get_scheme_display()),
                "status": str(e.get_status_display()),
                "coverage_start": e.coverage_start.isoformat()
                if e.coverage_start
                else "",
                "coverage_end": e.coverage_end.isoformat() if e.coverage_end else "",
            }
            for e in history_rows
        ]
        starts = [e.coverage_start for e in history_rows if e.coverage_start] or [
            timezone.localdate(e.created_at) for e in history_rows
        ]
        sheet = InformationSheet(
            transfer=transfer,
            number=f"XXB{transfer.outgoing_region_id}{transfer.pk:08d}",
            name=person.name,
            id_number=person.id_number,
            scheme=outgoing.scheme,
            scheme_label=str(outgoing.get_scheme_display()),
            outgoing_region_code=transfer.outgoing_region_id,
            incoming_region_code=transfer.incoming_region_id,
            enrollment_start=min(starts) if starts else None,
            suspended_on=suspended_on.get(outgoing.pk) or _today(),
            actual_months=max(months[MonthsKind.ACTUAL], 0),
            deemed_months=max(months[MonthsKind.DEEMED], 0),
            contribution_history=history,
            account_balance=balance,
        )
        sheets.append(sheet)
        # Money and months leave the outgoing region once (unique references)
        # and are "in transit" on the transfer until the incoming region
        # credits them.
        if balance > 0:
            postings.append(
                (
                    account.pk,
                    -balance,
                    EntryKind.TRANSFER_OUT,
                    f"transfer:{transfer.pk}:out",
                )
            )
        for kind, field in (
            (MonthsKind.ACTUAL, "transit_actual_months"),
            (MonthsKind.DEEMED, "transit_deemed_months"),
        ):
            if months[kind] > 0:
                month_rows.append(
                    {
                        "person_id": transfer.person_id,
                        "region_code": transfer.outgoing_region_id,
                        "kind": kind,
                        "months": -months[kind],
                        "reference": f"transfer:{transfer.pk}:out:{kind}",
                    }
                )
            setattr(transfer, field, max(months[kind], 0))
        transfer.transit_amount = balance
        messages.append(
            HandoffMessage(
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
        )
        events.append(
            _leg_finish(
                transfer,
                leg="outgoing",
                action="outgoing_issue_sheet",
                step=EventStep.SHEET_ISSUED,
                side=Side.OUTGOING,
                actor=actor,
                now=now,
            )
        )
        transfer.sheet_issued_at = now
        _schedule(transfer, Step.RECEIVE, auto=True, now=now)
    _sheets_create(sheets)
    if postings:
        accounts_post_many(postings=postings)
    if month_rows:
        months_add_many(rows=month_rows)
    HandoffMessage.objects.bulk_create(messages)
    TransferEvent.objects.bulk_create(events)
    _save(
        acting,
        ["status", "sheet_issued_at", *TRANSIT_FIELDS, *SCHEDULE_FIELDS],
        actor=actor,
    )
    _notify_many(
        [
            (
                transfer,
                gettext_noop("转出地已出具参保人员基本医疗保险信息表"),
                gettext_noop("个人账户余额 %(amount)s 元已转出，正在转往转入地。"),
                {"amount": msg_money(transfer.transit_amount, symbol=False)},
                None,
            )
            for transfer in acting
        ]
    )


def _sheet_code(*, avoid: set[str]) -> str:
    while True:
        code = "".join(secrets.choice(SHEET_CODE_ALPHABET) for _i in range(12))
        if code not in avoid:
            return code


def _sheets_create(sheets: list[InformationSheet]) -> None:
    """Insert the sheets in one statement, each with a fresh verification code
    (drawn again on a collision) and its signature over the fields as issued."""
    codes: set[str] = set()
    for sheet in sheets:
        sheet.verification_code = _sheet_code(avoid=codes)
        codes.add(sheet.verification_code)
    for _attempt in range(5):
        for sheet in sheets:
            sheet.signature = sheet.compute_signature()
        try:
            with transaction.atomic():
                InformationSheet.objects.bulk_create(sheets)
        except IntegrityError:
            taken = set(
                InformationSheet.objects.filter(
                    verification_code__in=codes
                ).values_list("verification_code", flat=True)
            )
            if not taken:
                raise
            for sheet in sheets:  # a code collided: draw again
                if sheet.verification_code in taken:
                    sheet.verification_code = _sheet_code(avoid=codes | taken)
                    codes.add(sheet.verification_code)
            continue
        return
    raise RuntimeError("could not draw unique verification codes")


# --- Incoming region ---------------------------------------------------------------


def _receive(transfers: list[Transfer], actor=None) -> None:
    """转入地接收信息表 for a batch: the sheet message delivered, the incoming
    region's 5 working days start. A delivery, not an act of the incoming
    region: its event names no one; `actor` is the clerk whose completion
    delivered it first (the audit log records the change as theirs)."""
    acting = [t for t in transfers if _can(t, "incoming_receive")]
    if not acting:
        return
    now = timezone.now()
    HandoffMessage.objects.filter(
        transfer_id__in=[t.pk for t in acting],
        kind=MessageKind.SHEET,
        received_at__isnull=True,
    ).update(received_at=now)
    deadline = working_deadline(timezone.localdate(now), INCOMING_WORKING_DAYS)
    events = []
    for transfer in acting:
        events.append(
            _leg_start(
                transfer,
                leg="incoming",
                action="incoming_receive",
                step=EventStep.RECEIVED,
                side=Side.INCOMING,
                actor=None,
                now=now,
                deadline=deadline,
                next_step=Step.COMPLETE,
            )
        )
    TransferEvent.objects.bulk_create(events)
    _save(
        acting,
        [
            "status",
            "received_at",
            "incoming_deadline",
            "incoming_deadline_estimated",
            *SCHEDULE_FIELDS,
        ],
        actor=actor,
    )
    _notify_many(
        [
            (
                transfer,
                gettext_noop("转入地已收到您的参保信息表"),
                gettext_noop("转入地将在 %(date)s 前办结。"),
                {"date": deadline.date},
                None,
            )
            for transfer in acting
        ]
    )


def _credit(
    transfers: list[Transfer],
    messages: dict[int, HandoffMessage],
    *,
    region_field: str,
    entry_kind: str,
    leg: str,
    actor=None,
) -> dict[int, object]:
    """Post what each transfer's message carries (balance, actual and deemed
    months) to the person at the region in `region_field`, once per
    reference (`transfer:<id>:<leg>`). Returns each transfer's amount."""
    amounts = {
        t.pk: to_money(messages[t.pk].payload.get("amount", "0")) for t in transfers
    }
    paying = [t for t in transfers if amounts[t.pk] > 0]
    pairs = [(t.person_id, getattr(t, region_field)) for t in paying]
    if actor is not None:
        # A person's act: an account it opens is saved as a model, so that
        # the audit log records it.
        for person_id, region_code in pairs:
            account_get_or_create(person_id=person_id, region_code=region_code)
    accounts = accounts_lock(pairs=pairs, create=actor is None)
    postings = [
        (
            accounts[(t.person_id, getattr(t, region_field))].pk,
            amounts[t.pk],
            entry_kind,
            f"transfer:{t.pk}:{leg}",
        )
        for t in paying
    ]
    month_rows = [
        {
            "person_id": t.person_id,
            "region_code": getattr(t, region_field),
            "kind": kind,
            "months": messages[t.pk].payload[key],
            "reference": f"transfer:{t.pk}:{leg}:{kind}",
        }
        for t in transfers
        for kind, key in (
            (MonthsKind.ACTUAL, "actual_months"),
            (MonthsKind.DEEMED, "deemed_months"),
        )
        if messages[t.pk].payload.get(key, 0) > 0
    ]
    if postings:
        accounts_post_many(postings=postings)
    if month_rows:
        months_add_many(rows=month_rows)
    return amounts


def _complete(transfers: list[Transfer], actor=None) -> None:
    """转入地办结 for a batch: the balance and months credited at the incoming
    region, its enrollment resumed where it was suspended, the person's
    region moved there."""
    acting = [t for t in transfers if _can(t, "incoming_complete")]
    for transfer in acting:
        _check_staff(actor, transfer.incoming_region_id)
    if not acting:
        return
    now = timezone.now()
    # The incoming region knows the amounts from the sheet message only.
    messages = {
        message.transfer_id: message
        for message in HandoffMessage.objects.select_for_update()
        .filter(transfer_id__in=[t.pk for t in acting], kind=MessageKind.SHEET)
        .order_by("pk")
    }
    missing = [t.reference for t in acting if t.pk not in messages]
    if missing:
        raise HandoffMessage.DoesNotExist(f"no sheet message for {missing}")
    amounts = _credit(
        acting,
        messages,
        region_field="incoming_region_id",
        entry_kind=EntryKind.TRANSFER_IN,
        leg="in",
        actor=actor,
    )
    HandoffMessage.objects.filter(pk__in=[m.pk for m in messages.values()]).update(
        processed_at=now
    )
    HandoffMessage.objects.bulk_create(
        [
            HandoffMessage(
                transfer=transfer,
                kind=MessageKind.COMPLETED,
                from_region_id=transfer.incoming_region_id,
                to_region_id=transfer.outgoing_region_id,
                payload={"amount": str(amounts[transfer.pk])},
            )
            for transfer in acting
        ]
    )
    enrollments_transition_allowed(
        enrollment_ids=[
            t.incoming_enrollment_id for t in acting if t.incoming_enrollment_id
        ],
        action="resume",
        actor=actor,
        reason=_("转移接续：转入"),
    )
    if actor is None:
        persons_region_move(regions={t.person_id: t.incoming_region_id for t in acting})
    else:
        # A person's act: saved as a model, so that the audit log records it.
        for transfer in acting:
            person_region_set(
                person_id=transfer.person_id,
                region_code=transfer.incoming_region_id,
                move=True,
            )
    events = []
    for transfer in acting:
        events.append(
            _leg_finish(
                transfer,
                leg="incoming",
                action="incoming_complete",
                step=EventStep.COMPLETED,
                side=Side.INCOMING,
                actor=actor,
                now=now,
            )
        )
        transfer.completed_at = now
        transfer.transit_amount = ZERO
        transfer.transit_actual_months = 0
        transfer.transit_deemed_months = 0
        _clear_schedule(transfer)
    TransferEvent.objects.bulk_create(events)
    _save(
        acting,
        ["status", "completed_at", *TRANSIT_FIELDS, *SCHEDULE_FIELDS],
        actor=actor,
    )
    _notify_many(
        [
            (
                transfer,
                gettext_noop("转移接续已办结"),
                gettext_noop(
                    "您的医保关系已转入新的参保地，个人账户 %(amount)s 元和缴费月数已转入。"
                ),
                {"amount": msg_money(amounts[transfer.pk], symbol=False)},
                None,
            )
            for transfer in acting
        ]
    )


# --- Either region -----------------------------------------------------------------


def _reject(items: list[tuple[Transfer, str, str]], actor=None) -> None:
    """不予办理 for a batch of `(transfer, reason code, text)`: the side whose
    turn it is refuses; money already sent goes back (the return step)."""
    plans = []
    for transfer, code, text in items:
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
                _("选择“其他原因”时请写明原因。"),
                code="reason_required",
                field="text",
            )
        plans.append((transfer, code, text, action, side, region, other))
    if not plans:
        return
    now = timezone.now()
    events, messages = [], []
    for transfer, code, text, action, side, region, other in plans:
        events.append(
            _move(
                transfer,
                action=action,
                step=EventStep.REJECTED,
                side=side,
                actor=actor,
                note=f"{RejectReason(code).label} {text}".strip(),
            )
        )
        transfer.rejected_at = now
        transfer.reject_side = side
        transfer.reject_code = code
        transfer.reject_text = text.strip()[:300]
        messages.append(
            HandoffMessage(
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
        )
        if (
            transfer.transit_amount > 0
            or transfer.transit_actual_months
            or transfer.transit_deemed_months
        ):
            # Rejected by the incoming region after the money left: it goes back.
            _schedule(transfer, Step.RETURN, auto=True, now=now)
        else:
            _clear_schedule(transfer)
    read = [plan[0].pk for plan in plans if plan[4] == Side.OUTGOING]
    if read:
        # The outgoing region has read the applications it refuses.
        HandoffMessage.objects.filter(
            transfer_id__in=read,
            kind=MessageKind.APPLICATION,
            processed_at__isnull=True,
        ).update(received_at=Coalesce("received_at", Value(now)), processed_at=now)
    TransferEvent.objects.bulk_create(events)
    HandoffMessage.objects.bulk_create(messages)
    refused = [plan[0] for plan in plans]
    _save(
        refused,
        [
            "status",
            "rejected_at",
            "reject_side",
            "reject_code",
            "reject_text",
            *SCHEDULE_FIELDS,
        ],
        actor=actor,
    )
    notes = []
    for transfer in refused:
        # As Transfer.reject_label and .next_action, kept untranslated.
        reason = msg_phrase(RejectReason(transfer.reject_code).label)
        if transfer.reject_text:
            reason = msg_phrase(
                "%(label)s（%(text)s）", label=reason, text=transfer.reject_text
            )
        notes.append(
            (
                transfer,
                gettext_noop("转移接续申请未通过"),
                gettext_noop("原因：%(reason)s。%(next)s"),
                {
                    "reason": reason,
                    "next": msg_phrase(NEXT_ACTIONS.get(transfer.reject_code, "")),
                },
                None,
            )
        )
    _notify_many(notes)


def _return(transfers: list[Transfer], actor=None) -> None:
    """The outgoing region takes back what an incoming rejection sent back."""
    # Not a transition (the status stays REJECTED, a final state): the step
    # only ever follows a rejection, and the unprocessed message makes it once.
    acting = [t for t in transfers if t.status == TransferStatus.REJECTED]
    if not acting:
        return
    messages = {
        message.transfer_id: message
        for message in HandoffMessage.objects.select_for_update()
        .filter(
            transfer_id__in=[t.pk for t in acting],
            kind=MessageKind.REJECTED,
            processed_at__isnull=True,
        )
        .order_by("pk")
    }
    returning = [t for t in acting if t.pk in messages]
    if returning:
        now = timezone.now()
        _credit(
            returning,
            messages,
            region_field="outgoing_region_id",
            entry_kind=EntryKind.REFUND,
            leg="return",
            actor=actor,
        )
        HandoffMessage.objects.filter(pk__in=[m.pk for m in messages.values()]).update(
            received_at=Coalesce("received_at", Value(now)), processed_at=now
        )
        TransferEvent.objects.bulk_create(
            [
                _event(
                    transfer,
                    step=EventStep.RETURNED,
                    to_status=transfer.status,
                    side=Side.OUTGOING,
                )
                for transfer in returning
            ]
        )
        for transfer in returning:
            transfer.transit_amount = ZERO
            transfer.transit_actual_months = 0
            transfer.transit_deemed_months = 0
    for transfer in acting:
        _clear_schedule(transfer)
    _save(acting, [*TRANSIT_FIELDS, *SCHEDULE_FIELDS], actor=actor)


STEPS = {
    Step.ACCEPT: _accept,
    Step.ISSUE_SHEET: _issue_sheet,
    Step.RECEIVE: _receive,
    Step.COMPLETE: _complete,
    Step.RETURN: _return,
}


# --- One transfer: staff and the step tasks ------------------------------------------
#
# Each is a step (or two) on a batch of one: the same code as the engine's.


@transaction.atomic
def transfer_accept(*, transfer_id: int, actor=None) -> Transfer:
    """转出地受理: the outgoing region checks the preconditions again and
    accepts (its 10 working days start), or rejects with the reason code of
    the one that no longer holds; the transfer is returned either way."""
    transfer = _lock(transfer_id)
    if not (_can(transfer, "outgoing_accept") or _done(transfer, "outgoing_accept")):
        raise DomainError(_("该申请当前不能受理。"), code="cannot_accept")
    _accept([transfer], actor)
    _pages_changed([transfer])
    return transfer


@transaction.atomic
def transfer_issue_sheet(*, transfer_id: int, actor=None) -> Transfer:
    """The outgoing region issues the information sheet and sends the balance and months out."""
    transfer = _lock(transfer_id)
    # Issuing a sheet for an application not yet accepted accepts it first;
    # a rejection by that acceptance's check stands (and is committed).
    going_on = _accept([transfer], actor)
    _pages_changed([transfer])
    if not going_on:
        return transfer
    if not (
        _can(transfer, "outgoing_issue_sheet")
        or _done(transfer, "outgoing_issue_sheet")
    ):
        raise DomainError(_("该申请当前不能出具信息表。"), code="cannot_issue")
    _issue_sheet([transfer], actor)
    return transfer


@transaction.atomic
def transfer_complete(*, transfer_id: int, actor=None) -> Transfer:
    """The incoming region checks the sheet and completes the transfer-in."""
    transfer = _lock(transfer_id)
    # Staff may complete before the sheet message is delivered: receive it now.
    _receive([transfer], actor)
    if not (
        _can(transfer, "incoming_complete") or _done(transfer, "incoming_complete")
    ):
        raise DomainError(_("该申请当前不能办结。"), code="cannot_complete")
    _complete([transfer], actor)
    _pages_changed([transfer])
    return transfer


@transaction.atomic
def transfer_reject(
    *, transfer_id: int, code: str, text: str = "", actor=None
) -> Transfer:
    """Either region refuses the request with a reason; money already sent goes back."""
    transfer = _lock(transfer_id)
    if _done(transfer, "outgoing_reject") or _done(transfer, "incoming_reject"):
        return transfer
    _reject([(transfer, code, text)], actor=actor)
    _pages_changed([transfer])
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
    STEPS[transfer.next_step]([transfer])
    _pages_changed([transfer])
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


@transaction.atomic
def transfers_run_batch(*, step: str, transfer_ids: Sequence[int]) -> int:
    """Run one step for claimed transfers as one batch, in one transaction and
    a fixed number of statements whatever their number. A transfer another
    transaction holds (a clerk acting on it) is skipped: it keeps its lease and
    is claimed again when the lease ends; one whose next step is no longer
    `step` has moved on. Returns how many transfers the step ran for."""
    transfers = list(
        _locking(skip_locked=True)
        .filter(pk__in=list(transfer_ids), next_step=step, due_at__isnull=False)
        .order_by("pk")
    )
    if transfers:
        STEPS[step](transfers)
        _pages_changed(transfers)
    return len(transfers)


# Transfers per claim. A batch's statements are fixed, so a bigger batch
# spreads them (and its two commits) over more steps: one worker of two
# processes ran about 830 steps/s with batches of 50 and 1,100 with 200
# (tests/integration/engine_rate.py). A batch holds its rows for a fraction of
# a second, which is all a clerk acting on one of them waits.
SCAN_BATCH = 200


def transfers_scan(*, batch: int = SCAN_BATCH, time_budget: float = 8.0) -> int:
    """Run due steps in batches until none is due or the time budget is spent.
    Each step's claimed transfers run as one batch (transfers_run_batch); when
    a batch fails, its transfers run one by one, so that one failing transfer
    does not hold up the rest (it keeps its lease and is retried)."""
    started = time.monotonic()
    done = 0
    # The system acts for no staff member, so auditlog has nothing to record:
    # switched off, it does not re-read a row before each save.
    with disable_auditlog():
        while time.monotonic() - started < time_budget:
            claimed = transfers_claim_due(batch=batch)
            if not claimed:
                break
            by_step: dict[str, list[int]] = {}
            for transfer_id, step in claimed:
                by_step.setdefault(step, []).append(transfer_id)
            for step, transfer_ids in by_step.items():
                done += _run_claimed(step, transfer_ids)
    return done


def _run_claimed(step: str, transfer_ids: list[int]) -> int:
    try:
        transfers_run_batch(step=step, transfer_ids=transfer_ids)
    except Exception:  # noqa: BLE001 - rolled back whole; each transfer tried alone below
        log.warning(
            "transfer batch of %d %s steps failed; running them one by one",
            len(transfer_ids),
            step,
            exc_info=True,
        )
    else:
        return len(transfer_ids)
    done = 0
    for transfer_id in transfer_ids:
        try:
            transfer_run_step(transfer_id=transfer_id, step=step, claimed=True)
        except Exception:  # noqa: BLE001 - left with its lease; retried when it expires
            log.exception("transfer %s step %s failed; will retry", transfer_id, step)
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
