"""A person ready to transfer: suspended at the outgoing region with a balance
and contribution months, enrolled normally at the incoming region."""

from decimal import Decimal

from core.models import Region
from enrollment.models import Enrollment, EnrollmentStatus, MonthsKind, Scheme
from enrollment.services import months_add
from payments.models import EntryKind
from payments.services import account_get_or_create, account_post
from tests import factories

OUT, IN = "340100", "110000"


def ready_person(
    *,
    kind="e2e",
    balance=Decimal("1234.56"),
    actual=36,
    deemed=12,
    out=OUT,
    into=IN,
    out_year=2026,
    in_year=None,
    out_status=EnrollmentStatus.SUSPENDED,
    in_status=EnrollmentStatus.ACTIVE,
    person=None,
):
    factories.region(out)
    factories.region(into)
    person = person or factories.PersonFactory(region_id=out)
    out_scheme = Scheme.RESIDENT if kind in ("r2r", "r2e") else Scheme.EMPLOYEE
    in_scheme = Scheme.RESIDENT if kind in ("r2r", "e2r") else Scheme.EMPLOYEE
    in_year = in_year or (out_year + 1 if kind == "r2r" else out_year)
    factories.policy(out, out_year)
    factories.policy(into, in_year)
    category = {"category": "ordinary"}
    outgoing = Enrollment.objects.create(
        person=person,
        region_id=out,
        scheme=out_scheme,
        year=out_year,
        status=out_status,
        **(category if out_scheme == Scheme.RESIDENT else {}),
    )
    incoming = Enrollment.objects.create(
        person=person,
        region_id=into,
        scheme=in_scheme,
        year=in_year,
        status=in_status,
        **(category if in_scheme == Scheme.RESIDENT else {}),
    )
    if balance:
        account = account_get_or_create(person_id=person.pk, region_code=out)
        account_post(
            account_id=account.pk,
            amount=balance,
            kind=EntryKind.CONTRIBUTION,
            reference=f"seed:{person.pk}",
        )
    if actual:
        months_add(
            person_id=person.pk,
            region_code=out,
            kind=MonthsKind.ACTUAL,
            months=actual,
            reference=f"seed:{person.pk}:actual",
        )
    if deemed:
        months_add(
            person_id=person.pk,
            region_code=out,
            kind=MonthsKind.DEEMED,
            months=deemed,
            reference=f"seed:{person.pk}:deemed",
        )
    return person, outgoing, incoming


def apply_args(person, *, kind="e2e", out=OUT, into=IN):
    return {
        "person_id": person.pk,
        "name": person.name,
        "id_number": person.id_number,
        "kind": kind,
        "outgoing_region_code": out,
        "incoming_region_code": into,
    }


def set_processing(code, mode):
    Region.objects.filter(code=code).update(transfer_processing=mode)


def bulk_ready(count: int, *, first_birth=None) -> list:
    """`count` persons ready to transfer e2e from OUT to IN, written in bulk (fast
    set-up for the engine tests): person i has a balance of 100 + i yuan,
    12 + i % 7 actual and i % 3 deemed months at OUT."""
    import datetime as dt

    from core.identity import make_id_number
    from enrollment.models import ContributionMonths
    from payments.models import AccountEntry, PersonalAccount
    from people.models import Person

    factories.region(OUT)
    factories.region(IN)
    factories.policy(OUT, 2026)
    factories.policy(IN, 2026)
    first_birth = first_birth or dt.date(1970, 1, 1)
    persons = Person.objects.bulk_create(
        Person(
            id_number=make_id_number(
                "340104", first_birth + dt.timedelta(days=i), (2 * i + 1) % 1000
            ),
            name=f"转移{i}",
            sex="M",
            birth_date=first_birth + dt.timedelta(days=i),
            region_id=OUT,
        )
        for i in range(count)
    )
    Enrollment.objects.bulk_create(
        [
            Enrollment(
                person=p,
                region_id=OUT,
                scheme=Scheme.EMPLOYEE,
                year=2026,
                status=EnrollmentStatus.SUSPENDED,
            )
            for p in persons
        ]
        + [
            Enrollment(
                person=p,
                region_id=IN,
                scheme=Scheme.EMPLOYEE,
                year=2026,
                status=EnrollmentStatus.ACTIVE,
            )
            for p in persons
        ]
    )
    accounts = PersonalAccount.objects.bulk_create(
        PersonalAccount(person=p, region_id=OUT, balance=Decimal("100.00") + i)
        for i, p in enumerate(persons)
    )
    AccountEntry.objects.bulk_create(
        AccountEntry(
            account=a,
            amount=a.balance,
            kind=EntryKind.CONTRIBUTION,
            reference=f"seed:{a.person_id}",
            balance_after=a.balance,
        )
        for a in accounts
    )
    ContributionMonths.objects.bulk_create(
        [
            ContributionMonths(
                person=p,
                region_id=OUT,
                kind=MonthsKind.ACTUAL,
                months=12 + i % 7,
                reference=f"seed:{p.pk}:actual",
            )
            for i, p in enumerate(persons)
        ]
        + [
            ContributionMonths(
                person=p,
                region_id=OUT,
                kind=MonthsKind.DEEMED,
                months=i % 3,
                reference=f"seed:{p.pk}:deemed",
            )
            for i, p in enumerate(persons)
            if i % 3
        ]
    )
    return persons


def bulk_submitted(people, *, due_at=None) -> list:
    """A submitted transfer OUT → IN (e2e) for each of `people` (from
    bulk_ready), written in bulk as transfer_apply leaves it (its event and
    application message), due at `due_at` (now by default)."""
    from django.utils import timezone

    from transfers.models import (
        EventStep,
        HandoffMessage,
        MessageKind,
        Side,
        Step,
        Transfer,
        TransferEvent,
        TransferStatus,
    )

    enrollments = {
        (e.person_id, e.region_id): e.pk
        for e in Enrollment.objects.filter(person__in=people)
    }
    due_at = due_at or timezone.now()
    transfers = Transfer.objects.bulk_create(
        Transfer(
            person=p,
            kind="e2e",
            outgoing_region_id=OUT,
            incoming_region_id=IN,
            outgoing_enrollment_id=enrollments[(p.pk, OUT)],
            incoming_enrollment_id=enrollments[(p.pk, IN)],
            next_step=Step.ACCEPT,
            due_at=due_at,
        )
        for p in people
    )
    TransferEvent.objects.bulk_create(
        TransferEvent(
            transfer=t,
            step=EventStep.SUBMITTED,
            to_status=TransferStatus.SUBMITTED,
            side=Side.APPLICANT,
        )
        for t in transfers
    )
    HandoffMessage.objects.bulk_create(
        HandoffMessage(
            transfer=t,
            kind=MessageKind.APPLICATION,
            from_region_id=IN,
            to_region_id=OUT,
            payload={},
        )
        for t in transfers
    )
    return transfers
