"""Every write of the records app, one transactional function each.

A filing (异地就医备案) is decided under the person's row lock, so two
requests cannot both find "no filing in force" and file twice (the database's
one-active-filing constraint holds it as well). Each change asks
FILING_MACHINE where its action leads and writes an event row. Temporary
filings carry their expiry in `due_at`; the beat scan (`filings_expire_due`)
claims due rows with skip_locked and expires each in its own transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.documents import (
    create_unique,
    document_number_new,
    verification_code_new,
)
from core.errors import DomainError
from core.models import Region
from enrollment.models import Enrollment
from enrollment.rules import add_months
from people.models import Person, Scope, msg_phrase, msg_place
from people.services import notify, person_lock, proxy_act

from . import selectors
from .destinations import Destination, destination_get
from .models import (
    ADVANCE_START_DAYS,
    EMERGENCY_BACKDATE_DAYS,
    FILING_MACHINE,
    KIND_OF_REASON,
    LONG_TERM_LOCK_MONTHS,
    TEMPORARY_VALID_MONTHS,
    Channel,
    Evidence,
    Filing,
    FilingEvent,
    FilingKind,
    FilingReason,
    FilingStatus,
    InsuranceCertificate,
)

log = logging.getLogger(__name__)

# How long the expiry scan holds a claimed filing before another scan may retry it.
CLAIM_LEASE = dt.timedelta(minutes=5)
PERMIT_RE = re.compile(r"^[0-9A-Z]{6,30}$")


def _day(day: dt.date) -> str:
    return date_format(day, "DATE_FORMAT")


# --- 异地就医备案 ------------------------------------------------------------------


@dataclass(frozen=True)
class FilingPlan:
    """A filing as it would be made, checked against every rule (nothing written)."""

    person: Person
    reason: str
    kind: str
    enrollment: Enrollment
    destination: Destination
    start_on: dt.date
    end_on: dt.date | None
    locked_until: dt.date | None
    evidence: str
    residence_permit_number: str

    @property
    def insured_region(self) -> Region:
        return self.enrollment.region


def _in_force(filing: Filing | None, today: dt.date) -> bool:
    """Whether a filing marked active still runs today (a temporary one past its
    end is only waiting for the expiry scan)."""
    if filing is None or filing.status != FilingStatus.ACTIVE:
        return False
    return filing.end_on is None or filing.end_on >= today


def filing_check(
    *,
    person: Person,
    reason: str,
    destination_code: str,
    start_on: dt.date,
    residence_permit_number: str = "",
    commitment: bool = False,
    today: dt.date | None = None,
) -> FilingPlan:
    """The rules of SPEC §9, each refusal beside the field to change:
    covered today, one filing in force, a destination outside the insured
    region, dates, and evidence for a long-term filing."""
    today = today or timezone.localdate()
    kind = KIND_OF_REASON.get(reason)
    if kind is None:
        raise DomainError(_("请选择备案人员类别。"), code="reason", field="reason")
    enrollment = selectors.covering_enrollment(person_id=person.pk, day=today)
    if enrollment is None:
        raise DomainError(
            _(
                "%(name)s 今天不在医保待遇享受期内，不能办理异地就医备案。"
                "请先参保缴费，待遇开始后再备案。"
            )
            % {"name": person.name},
            code="not_covered",
            field="person",
        )
    current = Filing.objects.filter(
        person_id=person.pk, status=FilingStatus.ACTIVE
    ).first()
    if _in_force(current, today):
        raise DomainError(
            _(
                "%(name)s 已有一项有效的异地就医备案（%(destination)s，备案编号"
                " %(number)s）。同一时间只能备案一个就医地，如需变更请先取消原备案。"
            )
            % {
                "name": person.name,
                "destination": current.destination_display,
                "number": current.number,
            },
            code="already_filed",
            field="destination",
        )
    destination = destination_get(destination_code)
    if destination is None:
        raise DomainError(
            _("请从列表中选择就医地（省份或城市）。"),
            code="destination",
            field="destination",
        )
    if destination.contains(enrollment.region_id):
        raise DomainError(
            _(
                "就医地不能是参保地%(region)s或其所在省份。"
                "请选择参保地以外、准备就医的省份或城市。"
            )
            % {"region": enrollment.region.display_name},
            code="destination_is_home",
            field="destination",
        )
    if start_on > today + dt.timedelta(days=ADVANCE_START_DAYS):
        raise DomainError(
            _("开始日期最晚为 %(date)s（可提前%(days)d天办理），请修改。")
            % {
                "date": _day(today + dt.timedelta(days=ADVANCE_START_DAYS)),
                "days": ADVANCE_START_DAYS,
            },
            code="start_too_late",
            field="start_on",
        )
    if start_on < today:
        if reason != FilingReason.EMERGENCY:
            raise DomainError(
                _("开始日期不能早于今天。只有急诊抢救可以在事后补办备案。"),
                code="start_in_past",
                field="start_on",
            )
        earliest = today - dt.timedelta(days=EMERGENCY_BACKDATE_DAYS)
        if start_on < earliest:
            raise DomainError(
                _("急诊抢救补办备案，开始日期最早为 %(date)s（%(days)d天内），请修改。")
                % {"date": _day(earliest), "days": EMERGENCY_BACKDATE_DAYS},
                code="start_too_early",
                field="start_on",
            )
    evidence, permit = Evidence.NONE, ""
    if kind == FilingKind.LONG_TERM:
        permit = "".join((residence_permit_number or "").split()).upper()
        if permit:
            if not PERMIT_RE.match(permit):
                raise DomainError(
                    _("居住证号应为6至30位数字或字母，请按居住证上的号码填写。"),
                    code="permit",
                    field="residence_permit_number",
                )
            evidence = Evidence.RESIDENCE_PERMIT
        elif commitment:
            evidence = Evidence.COMMITMENT
        else:
            raise DomainError(
                _("长期异地就医备案须填写居住证号，或勾选个人承诺书。"),
                code="evidence",
                field="residence_permit_number",
            )
    temporary = kind == FilingKind.TEMPORARY
    return FilingPlan(
        person=person,
        reason=reason,
        kind=kind,
        enrollment=enrollment,
        destination=destination,
        start_on=start_on,
        end_on=(
            add_months(start_on, TEMPORARY_VALID_MONTHS) - dt.timedelta(days=1)
            if temporary
            else None
        ),
        locked_until=None if temporary else add_months(start_on, LONG_TERM_LOCK_MONTHS),
        evidence=evidence,
        residence_permit_number=permit,
    )


def _due_at(end_on: dt.date) -> dt.datetime:
    """The first moment after a temporary filing's last day, local time."""
    return timezone.make_aware(
        dt.datetime.combine(end_on + dt.timedelta(days=1), dt.time.min)
    )


def _event(filing: Filing, *, action: str, actor=None, note: str = "") -> None:
    target = FILING_MACHINE.target(filing.status, action=action)
    FilingEvent.objects.create(
        filing=filing,
        action=action,
        from_status=filing.status,
        to_status=target,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        note=str(note)[:200],
    )
    filing.status = target


def _validity(filing: Filing) -> dict:
    """How long the filing holds, as a phrase read in the reader's language."""
    if filing.end_on is not None:
        return msg_phrase(
            gettext_noop("有效期 %(start)s 至 %(end)s。"),
            start=filing.start_on,
            end=filing.end_on,
        )
    return msg_phrase(
        gettext_noop("自 %(start)s 起长期有效，%(until)s 前不能变更或取消。"),
        start=filing.start_on,
        until=filing.locked_until,
    )


@transaction.atomic
def filing_create(
    *,
    actor,
    person_id: int,
    reason: str,
    destination_code: str,
    start_on: dt.date,
    residence_permit_number: str = "",
    commitment: bool = False,
    channel: str = Channel.ONLINE,
    today: dt.date | None = None,
) -> Filing:
    """异地就医备案 for the person, by themself or one holding their authority
    to enroll (recorded and told to them). Refusals as filing_check."""
    today = today or timezone.localdate()
    # Decisions for one person take turns: the check below sees every filing
    # committed before this one.
    person = person_lock(person_id=person_id)
    proxy_act(
        user=actor, person=person, scope=Scope.ENROLL, what=gettext_noop("异地就医备案")
    )
    # A temporary filing past its end that the scan has not reached yet ends now.
    for stale in Filing.objects.select_for_update().filter(
        person_id=person.pk, status=FilingStatus.ACTIVE, end_on__lt=today
    ):
        _expire(stale, today=today)
    plan = filing_check(
        person=person,
        reason=reason,
        destination_code=destination_code,
        start_on=start_on,
        residence_permit_number=residence_permit_number,
        commitment=commitment,
        today=today,
    )
    target = FILING_MACHINE.target(FilingStatus.NEW, action="file")

    def make() -> Filing:
        return Filing.objects.create(
            person=person,
            kind=plan.kind,
            reason=plan.reason,
            insured_region=plan.insured_region,
            destination_code=plan.destination.code,
            destination_name=plan.destination.name,
            destination_region=plan.destination.region,
            evidence=plan.evidence,
            residence_permit_number=plan.residence_permit_number,
            start_on=plan.start_on,
            end_on=plan.end_on,
            locked_until=plan.locked_until,
            status=target,
            channel=channel,
            applicant=actor if getattr(actor, "is_authenticated", False) else None,
            number=document_number_new("YD"),
            verification_code=verification_code_new(),
            due_at=_due_at(plan.end_on) if plan.end_on else None,
        )

    filing = create_unique(make)
    FilingEvent.objects.create(
        filing=filing,
        action="file",
        from_status=FilingStatus.NEW,
        to_status=target,
        actor=filing.applicant,
    )
    notify(
        person=person,
        subject=gettext_noop("异地就医备案成功：%(destination)s"),
        body=gettext_noop("备案编号 %(number)s，验证码 %(code)s。%(validity)s"),
        params={
            "destination": msg_place(filing.destination_code, filing.destination_name),
            "number": filing.number,
            "code": filing.verification_code,
            "validity": _validity(filing),
        },
        url=reverse("records:filing_detail", args=[filing.pk]),
    )
    return filing


@transaction.atomic
def filing_cancel(*, actor, filing_id: int, today: dt.date | None = None) -> Filing:
    """取消备案: a temporary filing at any time, a long-term one only after its
    first six months (local)."""
    today = today or timezone.localdate()
    filing = (
        Filing.objects.select_for_update().select_related("person").get(pk=filing_id)
    )
    if filing.status == FilingStatus.CANCELLED:
        return filing  # a repeated request: already done
    proxy_act(
        user=actor,
        person=filing.person,
        scope=Scope.ENROLL,
        what=gettext_noop("取消异地就医备案"),
    )
    if not FILING_MACHINE.can(filing.status, action="cancel") or not _in_force(
        filing, today
    ):
        raise DomainError(
            _("该备案已到期，无需取消。"), code="not_cancellable", field=None
        )
    if filing.locked_until is not None and today < filing.locked_until:
        raise DomainError(
            _(
                "长期异地就医备案自备案之日起%(months)d个月内不能变更或取消，"
                "%(date)s 起可以办理。"
            )
            % {"months": LONG_TERM_LOCK_MONTHS, "date": _day(filing.locked_until)},
            code="locked",
        )
    _event(filing, action="cancel", actor=actor)
    filing.cancelled_at = timezone.now()
    filing.due_at = None
    filing.save(update_fields=["status", "cancelled_at", "due_at", "updated_at"])
    notify(
        person=filing.person,
        subject=gettext_noop("异地就医备案已取消：%(destination)s"),
        body=gettext_noop(
            "备案编号 %(number)s。取消后在该地就医不能直接结算，需要时请重新备案。"
        ),
        params={
            "destination": msg_place(filing.destination_code, filing.destination_name),
            "number": filing.number,
        },
        url=reverse("records:filing_detail", args=[filing.pk]),
    )
    return filing


def _expire(filing: Filing, *, today: dt.date) -> bool:
    """End a locked temporary filing whose last day is past; False if not due."""
    if not FILING_MACHINE.can(filing.status, action="expire"):
        return False
    if filing.end_on is None or filing.end_on >= today:
        return False
    _event(filing, action="expire")
    filing.expired_at = timezone.now()
    filing.due_at = None
    filing.save(update_fields=["status", "expired_at", "due_at", "updated_at"])
    notify(
        person=filing.person,
        subject=gettext_noop("异地就医备案已到期：%(destination)s"),
        body=gettext_noop(
            "备案编号 %(number)s 的有效期已于 %(end)s 结束。仍需在该地就医请重新备案。"
        ),
        params={
            "destination": msg_place(filing.destination_code, filing.destination_name),
            "number": filing.number,
            "end": filing.end_on,
        },
        url=reverse("records:filing_detail", args=[filing.pk]),
    )
    return True


@transaction.atomic
def filing_expire(*, filing_id: int, today: dt.date | None = None) -> Filing:
    """A temporary filing's six months are over. Safe to run twice; a filing
    claimed before it is due gets its due time back."""
    today = today or timezone.localdate()
    filing = (
        Filing.objects.select_for_update().select_related("person").get(pk=filing_id)
    )
    if not _expire(filing, today=today) and filing.status == FilingStatus.ACTIVE:
        due = _due_at(filing.end_on) if filing.end_on else None
        if filing.due_at != due:
            filing.due_at = due
            filing.save(update_fields=["due_at", "updated_at"])
    return filing


def filings_claim_due(*, batch: int = 100) -> list[int]:
    """Claim up to `batch` filings due to expire, oldest first. Rows another
    scan holds are skipped (skip_locked); claimed rows get a lease (due_at
    pushed forward), so a worker killed mid-way leaves them to be retried."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Filing.objects.select_for_update(skip_locked=True)
            .filter(due_at__lte=now)
            .order_by("due_at")
            .values_list("pk", flat=True)[:batch]
        )
        if ids:
            Filing.objects.filter(pk__in=ids).update(due_at=now + CLAIM_LEASE)
    return ids


def filings_expire_due(*, batch: int = 100, time_budget: float = 8.0) -> int:
    """Expire due temporary filings in batches until none is due or the time
    budget is spent; each in its own transaction, one failure not stopping
    the rest."""
    started = time.monotonic()
    done = 0
    while time.monotonic() - started < time_budget:
        claimed = filings_claim_due(batch=batch)
        if not claimed:
            break
        for filing_id in claimed:
            try:
                filing = filing_expire(filing_id=filing_id)
            except Exception:  # noqa: BLE001 - left with its lease; retried when it ends
                log.exception("filing %s expiry failed; will retry", filing_id)
                continue
            done += filing.status == FilingStatus.EXPIRED
    return done


# --- 参保证明 ----------------------------------------------------------------------


@transaction.atomic
def certificate_issue(
    *, actor, person_id: int, today: dt.date | None = None
) -> InsuranceCertificate:
    """参保证明 of the person, for themself or one allowed to see their records
    (the look is recorded for them), with the facts as printed kept."""
    person = Person.objects.get(pk=person_id)
    proxy_act(
        user=actor, person=person, scope=Scope.VIEW, what=gettext_noop("开具参保证明")
    )
    facts = selectors.certificate_facts(person=person, today=today)
    if not facts["periods"] and not facts["months"]:
        raise DomainError(
            _("%(name)s 还没有已缴费的参保记录，暂时不能开具参保证明。")
            % {"name": person.name},
            code="nothing_to_certify",
            field="person",
        )

    def make() -> InsuranceCertificate:
        certificate = InsuranceCertificate(
            person=person,
            number=document_number_new("CBZM"),
            verification_code=verification_code_new(),
            issued_by=actor if getattr(actor, "is_authenticated", False) else None,
            facts=facts,
        )
        certificate.signature = certificate.compute_signature()
        certificate.save(force_insert=True)
        return certificate

    return create_unique(make)
