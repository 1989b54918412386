"""Reads of the transfers app, scoped to the acting user, with fixed query counts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.workdays import working_days_left
from people.access import person_ids_for_user
from people.models import Role, Scope

from .models import OPEN_STATUSES, InformationSheet, Side, Transfer, TransferStatus


def transfers_for_user(*, user):
    """Transfers of the persons the citizen may act for, newest first (one query)."""
    return list(
        Transfer.objects.filter(person_id__in=person_ids_for_user(user))
        .select_related("person", "outgoing_region", "incoming_region")
        .order_by("-submitted_at", "-id")
    )


def transfer_get_for_user(*, user, pk, scope: str = Scope.VIEW) -> Transfer:
    """The transfer if the citizen may do `scope` for its person, else Http404."""
    transfer = (
        Transfer.objects.select_related("person", "outgoing_region", "incoming_region")
        .filter(pk=pk, person_id__in=person_ids_for_user(user, scope=scope))
        .first()
    )
    if transfer is None:
        raise Http404
    return transfer


def transfer_get_for_sheet(*, user, pk) -> Transfer:
    """The transfer whose information sheet the user may open: the citizen
    (and family acting for them), staff of either region, auditors."""
    transfer = (
        Transfer.objects.select_related(
            "person", "outgoing_region", "incoming_region", "sheet"
        )
        .filter(pk=pk)
        .first()
    )
    if transfer is None or not hasattr(transfer, "sheet"):
        raise Http404
    if not user.is_authenticated:
        raise Http404
    if transfer.person_id in person_ids_for_user(user):
        return transfer
    if user.is_superuser or user.role == Role.AUDITOR:
        return transfer
    if user.is_staff and user.region_id in (
        transfer.outgoing_region_id,
        transfer.incoming_region_id,
    ):
        return transfer
    raise Http404


@dataclass
class TimelineStep:
    key: str
    title: str
    side: str
    side_label: str
    at: dt.datetime | None
    deadline: dt.date | None = None
    estimated: bool = False
    state: str = "pending"  # done / current / failed / pending
    days_left: int | None = None
    note: str = ""

    @property
    def overdue(self) -> bool:
        return self.days_left is not None and self.days_left < 0

    @property
    def overdue_days(self) -> int:
        return -self.days_left if self.overdue else 0


def transfer_timeline(
    transfer: Transfer, *, today: dt.date | None = None
) -> list[TimelineStep]:
    """The steps of SPEC §8 with their times and deadlines; the current one marked."""
    today = today or timezone.localdate()
    steps = [
        TimelineStep(
            "submitted",
            _("提交申请"),
            Side.APPLICANT,
            _("申请人"),
            transfer.submitted_at,
        ),
        # The outgoing region's 10 working days start at acceptance (SPEC §8):
        # the deadline belongs to the sheet, and is known once accepted.
        TimelineStep(
            "accepted",
            _("转出地受理"),
            Side.OUTGOING,
            _("转出地"),
            transfer.accepted_at,
            note=""
            if transfer.accepted_at
            else _("转出地受理后，10个工作日内出具信息表；办理时限从受理之日起算。"),
        ),
        TimelineStep(
            "sheet_issued",
            _("转出地出具参保信息表、转出个人账户"),
            Side.OUTGOING,
            _("转出地"),
            transfer.sheet_issued_at,
            transfer.outgoing_deadline,
            transfer.outgoing_deadline_estimated,
        ),
        TimelineStep(
            "received",
            _("转入地接收信息表"),
            Side.INCOMING,
            _("转入地"),
            transfer.received_at,
        ),
        TimelineStep(
            "completed",
            _("转入地审核办结"),
            Side.INCOMING,
            _("转入地"),
            transfer.completed_at,
            transfer.incoming_deadline,
            transfer.incoming_deadline_estimated,
        ),
    ]
    open_ = transfer.status in OPEN_STATUSES
    current_marked = False
    for step in steps:
        if step.at is not None:
            step.state = "done"
        elif open_ and not current_marked:
            step.state = "current"
            current_marked = True
            if step.deadline:
                step.days_left = working_days_left(step.deadline, today)
    if transfer.status == TransferStatus.REJECTED:
        done = [s for s in steps if s.state == "done"]
        steps = done + [
            TimelineStep(
                "rejected",
                _("不予办理"),
                transfer.reject_side,
                _("转入地") if transfer.reject_side == Side.INCOMING else _("转出地"),
                transfer.rejected_at,
                state="failed",
                note=transfer.reject_label,
            )
        ]
    elif transfer.status == TransferStatus.CANCELLED:
        done = [s for s in steps if s.state == "done"]
        steps = done + [
            TimelineStep(
                "cancelled",
                _("申请已撤销"),
                Side.APPLICANT,
                _("申请人"),
                transfer.cancelled_at,
                state="failed",
            )
        ]
    return steps


def sheet_by_code(*, code: str):
    """The information sheet with this verification code (the public
    verification page), with its transfer's regions; None if there is none."""
    code = code.strip().upper()
    if not code or len(code) > 16:
        return None
    return (
        InformationSheet.objects.select_related(
            "transfer__outgoing_region", "transfer__incoming_region"
        )
        .filter(verification_code=code)
        .first()
    )
