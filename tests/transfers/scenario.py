"""A person ready to transfer: suspended at the outgoing region with a balance
and contribution months, enrolled normally at the incoming region."""

from decimal import Decimal

from enrollment.models import Enrollment, EnrollmentStatus, MonthsKind, Scheme
from enrollment.services import months_add
from payments.models import EntryKind
from payments.services import account_get_or_create, account_post
from portal.models import Region
from tests import factories

OUT, IN = "340100", "110000"


def ready_person(*, kind="e2e", balance=Decimal("1234.56"), actual=36, deemed=12, out=OUT, into=IN,
                 out_year=2026, in_year=None, out_status=EnrollmentStatus.SUSPENDED,
                 in_status=EnrollmentStatus.ACTIVE, person=None):
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
        person=person, region_id=out, scheme=out_scheme, year=out_year, status=out_status,
        **(category if out_scheme == Scheme.RESIDENT else {}),
    )
    incoming = Enrollment.objects.create(
        person=person, region_id=into, scheme=in_scheme, year=in_year, status=in_status,
        **(category if in_scheme == Scheme.RESIDENT else {}),
    )
    if balance:
        account = account_get_or_create(person_id=person.pk, region_code=out)
        account_post(account_id=account.pk, amount=balance, kind=EntryKind.CONTRIBUTION, reference=f"seed:{person.pk}")
    if actual:
        months_add(person_id=person.pk, region_code=out, kind=MonthsKind.ACTUAL, months=actual,
                   reference=f"seed:{person.pk}:actual")
    if deemed:
        months_add(person_id=person.pk, region_code=out, kind=MonthsKind.DEEMED, months=deemed,
                   reference=f"seed:{person.pk}:deemed")
    return person, outgoing, incoming


def apply_args(person, *, kind="e2e", out=OUT, into=IN):
    return {"person_id": person.pk, "name": person.name, "id_number": person.id_number, "kind": kind,
            "outgoing_region_code": out, "incoming_region_code": into}


def set_processing(code, mode):
    Region.objects.filter(code=code).update(transfer_processing=mode)
