"""Demo transfers for `make run` (called by seed_demo): a citizen, 周杰
(login 13800000005), and family whose transfers are in different states — his
own just submitted, held until he first opens its timeline, from when the
simulated offices move it along while you watch (`watch_start`), one
completed, one rejected when its acceptance found arrears that arose after the
application (applying again is refused until they are paid), and one waiting in
福州's staff queue
(福州 processes transfers by hand in the demo).

Idempotent: a person who already has a transfer is left alone. Everything is
made through the services, as citizens and staff would, but the hold on the
watched transfer: the demo's own switch on its `due_at`, which no citizen or
office has (`_hold`, `watch_start`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

MOBILE = "13800000005"
PASSWORD = "Demo-2026-yibao"
# (name, birth county, birth date, sequence, relation or "" for the citizen, outgoing, incoming, what happens)
PEOPLE = [
    ("周杰", "340102", dt.date(1988, 5, 20), 111, "", "340100", "110000", "watch"),
    (
        "郑洁",
        "340102",
        dt.date(1989, 9, 9),
        122,
        "spouse",
        "340100",
        "370200",
        "completed",
    ),
    (
        "周国强",
        "340102",
        dt.date(1960, 2, 2),
        133,
        "parent",
        "110000",
        "340100",
        "rejected",
    ),
    (
        "吴兰",
        "340102",
        dt.date(1962, 3, 3),
        142,
        "parent",
        "340100",
        "350100",
        "manual",
    ),
]


def _watched_number() -> str:
    from core.identity import make_id_number

    _name, county, birth, seq, *_rest = PEOPLE[0]
    return make_id_number(county, birth, seq)


def _hold(transfer) -> None:
    """Keep the watched transfer where it is until its citizen opens it: a
    newcomer reaches its timeline minutes after start-up, when the simulated
    offices (a few minutes in all) would already have finished."""
    from .models import Transfer

    Transfer.objects.filter(pk=transfer.pk).update(due_at=None)


def watch_start(*, transfer, user) -> bool:
    """The citizen opens the held demo transfer's timeline: its next step
    falls due now, and the simulated offices take it from there (each later
    step scheduled by the engine as usual). True when it started; anything
    else (another transfer, someone else looking, already moving) is left
    alone."""
    from django.utils import timezone

    from .models import Transfer, TransferStatus

    if (
        transfer.due_at is not None
        or not transfer.next_step
        or transfer.status != TransferStatus.SUBMITTED
        or user.person_id != transfer.person_id
        or transfer.person.id_number != _watched_number()
    ):
        return False
    # One conditional UPDATE: two tabs opening it at once start it once.
    return bool(
        Transfer.objects.filter(
            pk=transfer.pk,
            due_at__isnull=True,
            next_step=transfer.next_step,
            status=TransferStatus.SUBMITTED,
        ).update(due_at=timezone.now())
    )


def _ready(person, out: str, into: str, year: int, index: int) -> None:
    """Flexible-worker insurance suspended at `out` with months and a balance,
    and enrolled normally at `into`."""
    from enrollment import services as enrollment
    from enrollment.selectors import enrollment_for_year
    from payments.models import EntryKind
    from payments.services import account_get_or_create, account_post

    base = Decimal("8000.00")
    out_enrollment = enrollment_for_year(
        person_id=person.pk, region_code=out, year=year
    )
    if out_enrollment is None:
        out_enrollment = enrollment.enrollment_register_flexible(
            actor=None,
            person=person,
            region=out,
            year=year,
            base=base,
            today=dt.date(year, 1, 5),
        )
    for month in range(1, 7):
        period = f"{year}-{month:02d}"
        enrollment.enrollment_flexible_month_paid(
            enrollment_id=out_enrollment.pk,
            period=period,
            paid_on=dt.date(year, month, 10),
            reference=f"DEMO-XFER-{person.pk}-{period}",
        )
    enrollment.enrollment_ensure_suspended(
        enrollment_id=out_enrollment.pk, reason="离职停保（演示）"
    )
    account = account_get_or_create(person_id=person.pk, region_code=out)
    account_post(
        account_id=account.pk,
        amount=Decimal("1000.00") + 345 * index,
        kind=EntryKind.CONTRIBUTION,
        reference=f"DEMO-XFER-{person.pk}-account",
    )
    in_enrollment = enrollment_for_year(
        person_id=person.pk, region_code=into, year=year
    )
    if in_enrollment is None:
        in_enrollment = enrollment.enrollment_register_flexible(
            actor=None,
            person=person,
            region=into,
            year=year,
            base=base,
            today=dt.date(year, 7, 5),
        )
    enrollment.enrollment_flexible_month_paid(
        enrollment_id=in_enrollment.pk,
        period=f"{year}-07",
        paid_on=dt.date(year, 7, 10),
        reference=f"DEMO-XFER-{person.pk}-{year}-07",
    )


def _arrears(person, region: str, year: int) -> None:
    """A registration at `region` for `year` that is not paid (欠费)."""
    from enrollment import services as enrollment

    enrollment.enrollment_register_flexible(
        actor=None, person=person, region=region, year=year, base=Decimal("8000.00")
    )


def seed() -> None:
    from core.errors import DomainError
    from core.identity import make_id_number
    from core.models import Region
    from people import services as portal_services
    from people.demo import demo_family_authority, demo_registry_add
    from people.models import User

    from . import services
    from .models import Transfer

    year = timezone.localdate().year
    with transaction.atomic():
        if not Transfer.objects.exists():
            # 福州 handles transfer steps by hand in the demo: staff see its queue.
            Region.objects.filter(code="350100").update(transfer_processing="manual")
        user = User.objects.filter(mobile=MOBILE).first()
        if user is None:
            name, county, birth, seq, *_rest = PEOPLE[0]
            demo_registry_add(name=name, id_number=make_id_number(county, birth, seq))
            user = portal_services.user_signup(
                name=name,
                id_number=make_id_number(county, birth, seq),
                mobile=MOBILE,
                password=PASSWORD,
            )
        owner = user.person
    for index, (name, county, birth, seq, relation, out, into, outcome) in enumerate(
        PEOPLE
    ):
        number = make_id_number(county, birth, seq)
        try:
            with transaction.atomic():
                if relation:
                    # The relative's consent, recorded at the outgoing region's
                    # counter (idempotent).
                    person = demo_family_authority(
                        owner=owner,
                        id_number=number,
                        name=name,
                        relation=relation,
                        region_code=out,
                    ).relative
                else:
                    person = owner
                if Transfer.objects.filter(person=person).exists():
                    continue
                portal_services.person_region_set(person_id=person.pk, region_code=out)
                _ready(person, out, into, year, index)
                transfer = services.transfer_apply(
                    person_id=person.pk,
                    name=name,
                    id_number=number,
                    kind="e2e",
                    outgoing_region_code=out,
                    incoming_region_code=into,
                    applicant=user,
                )
                if outcome == "watch":
                    _hold(transfer)
                elif outcome == "completed":
                    services.transfer_complete(
                        transfer_id=services.transfer_issue_sheet(
                            transfer_id=transfer.pk
                        ).pk
                    )
                elif outcome == "rejected":
                    # Arrears that arose after applying (next year registered
                    # at the outgoing region, not paid): the acceptance checks
                    # again and rejects, and applying again is refused until
                    # the registration is paid or cancelled.
                    _arrears(person, out, year + 1)
                    services.transfer_accept(transfer_id=transfer.pk)
                elif outcome == "manual":
                    services.transfer_issue_sheet(transfer_id=transfer.pk)
        except DomainError as error:
            print(f"  transfers demo: skipped {name}: {error.message}")  # noqa: T201
    print(f"  transfers demo login: {MOBILE} (周杰, password {PASSWORD})")  # noqa: T201
