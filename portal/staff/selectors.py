"""Reads of the counter workspace, scoped to the staff member's region
(auditors and the superuser: every region), in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from enrollment.models import Enrollment, Policy, Scheme
from enrollment.selectors import open_years
from payments.models import Channel, DayClose, Payment, PaymentStatus, Receipt
from people.access import staff_region_filter
from people.models import Person, Role, User
from people.selectors import authorities_given, authorities_held
from records.models import Filing
from transfers.models import Transfer

# Enrollment.reference: "CB" + benefit year + region code + id (8 digits or more).
ENROLLMENT_NUMBER = re.compile(r"^CB(?P<year>\d{4})(?P<region>\d{6})(?P<pk>\d{8,})$")
# Receipt numbers start with the day of issue (20YYMMDD); no identity number
# starts with "20" (not a province code), so the two never look alike.
RECEIPT_NUMBER = re.compile(r"^20\d{16}$")


def normalise_reference(value) -> str:
    """A number as typed at a counter: full-width letters and digits to
    ASCII, spaces anywhere dropped, upper case."""
    text = unicodedata.normalize("NFKC", str(value or ""))
    return re.sub(r"\s+", "", text).upper()


def _person_scope(user) -> Q:
    scope = staff_region_filter(user, "region")
    return Q(**scope) if scope is not None else Q()


def enrollment_by_number(*, user, number: str) -> Enrollment | None:
    """The enrollment whose 参保登记编号 is `number`, if it is of a person the
    user may see (the enrollment's own region must be the user's, too)."""
    match = ENROLLMENT_NUMBER.match(normalise_reference(number))
    if match is None:
        return None
    enrollment_scope = staff_region_filter(user, "region")
    return (
        Enrollment.objects.select_related("person", "region")
        .filter(
            pk=int(match["pk"]),
            year=int(match["year"]),
            region_id=match["region"],
            **(enrollment_scope or {}),
        )
        .filter(person__in=Person.objects.filter(_person_scope(user)))
        .first()
    )


def persons_found(*, user, kind: str, value, birth_date=None) -> list[Person]:
    """Persons of the user's region for one counter search: by identity number
    (exact, normalised), enrollment number, receipt number, or name and birth
    date (several may share them)."""
    persons = Person.objects.filter(_person_scope(user)).select_related("region")
    if kind == "id_number":
        return list(persons.filter(id_number=value)[:1])
    if kind == "enrollment":
        enrollment = enrollment_by_number(user=user, number=value)
        return [enrollment.person] if enrollment else []
    if kind == "receipt":
        insured_id = (
            Receipt.objects.filter(number=value)
            .values_list("payment__insured_id", flat=True)
            .first()
        )
        return list(persons.filter(pk=insured_id)) if insured_id else []
    if kind == "name":
        return list(
            persons.filter(name=value, birth_date=birth_date).order_by("id")[:20]
        )
    return []


def persons_by_ids(*, user, ids) -> list[Person]:
    """Persons of an earlier search, still only those the user may see."""
    return list(
        Person.objects.filter(_person_scope(user))
        .filter(pk__in=list(ids)[:20])
        .select_related("region")
        .order_by("id")
    )


def person_for_staff(*, user, pk) -> Person:
    """A person of the user's region (any region for auditors and the
    superuser); 404 for anyone else's, whether or not it exists."""
    person = (
        Person.objects.filter(_person_scope(user))
        .select_related("region", "account")
        .filter(pk=pk)
        .first()
    )
    if person is None:
        raise Http404
    return person


@dataclass
class PersonRecord:
    """Everything the counter shows about one person."""

    person: Person
    enrollments: list = field(default_factory=list)
    payments: list = field(default_factory=list)
    transfers: list = field(default_factory=list)
    filings: list = field(default_factory=list)
    authorities_given: list = field(default_factory=list)
    authorities_held: list = field(default_factory=list)


def person_record(*, person: Person) -> PersonRecord:
    """The person's enrollments, payments (with receipt and tender), transfers,
    filings (异地就医备案) and authorities: six queries whatever their number."""
    return PersonRecord(
        person=person,
        enrollments=list(
            Enrollment.objects.filter(person=person)
            .select_related("region")
            .order_by("-year", "-id")[:50]
        ),
        payments=list(
            Payment.objects.filter(insured=person)
            .select_related("order", "order__region", "receipt", "tender")
            .order_by("-created_at", "-id")[:50]
        ),
        transfers=list(
            Transfer.objects.filter(person=person)
            .select_related("outgoing_region", "incoming_region")
            .order_by("-submitted_at", "-id")[:20]
        ),
        filings=list(
            Filing.objects.filter(person=person)
            .select_related("insured_region")
            .order_by("-filed_at", "-id")[:20]
        ),
        authorities_given=list(authorities_given(person_id=person.pk)),
        authorities_held=list(authorities_held(person_id=person.pk)),
    )


def counter_enrollment_years(*, region_code: str | None, today=None) -> list[int]:
    """The benefit years a resident may be registered for today at the
    region's counter: the open years (enrollment.selectors.open_years) for
    which the region has published a policy. Newest first."""
    if not region_code:
        return []
    years = open_years(today)
    published = set(
        Policy.objects.filter(region_id=region_code, year__in=years).values_list(
            "year", flat=True
        )
    )
    return [year for year in years if year in published]


def enrollment_for_staff(*, user, pk) -> Enrollment:
    """A residents' enrollment of the user's region, of a person the user may
    see; 404 otherwise."""
    scope = staff_region_filter(user, "region")
    enrollment = (
        Enrollment.objects.select_related("person", "region", "registered_by")
        .filter(pk=pk, scheme=Scheme.RESIDENT, **(scope or {}))
        .filter(person__in=Person.objects.filter(_person_scope(user)))
        .first()
    )
    if enrollment is None:
        raise Http404
    return enrollment


def policy_of(enrollment: Enrollment) -> Policy | None:
    """The policy an enrollment is priced and timed by (its region and year)."""
    return Policy.objects.filter(
        region_id=enrollment.region_id, year=enrollment.year
    ).first()


def filing_for_staff(*, user, pk) -> Filing:
    """An 异地就医备案 made with the user's region as the insured region (any
    region for auditors and the superuser); 404 otherwise."""
    scope = staff_region_filter(user, "insured_region")
    filing = (
        Filing.objects.select_related(
            "person", "insured_region", "destination_region", "applicant"
        )
        .filter(pk=pk, **(scope or {}))
        .first()
    )
    if filing is None:
        raise Http404
    return filing


def payment_for_staff(*, user, pk) -> Payment:
    """A successful payment of the user's region with its receipt; 404 otherwise."""
    scope = staff_region_filter(user, "order__region")
    payment = (
        Payment.objects.select_related(
            "order", "order__enrollment", "insured", "receipt", "tender", "created_by"
        )
        .filter(pk=pk, status=PaymentStatus.SUCCESS, **(scope or {}))
        .first()
    )
    if payment is None or getattr(payment, "receipt", None) is None:
        raise Http404
    return payment


def counter_payments_of(*, clerk_id: int, day: dt.date) -> list[Payment]:
    """The clerk's counter payments settled on `day` (local), newest first."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return list(
        Payment.objects.filter(
            channel=Channel.COUNTER,
            created_by_id=clerk_id,
            status=PaymentStatus.SUCCESS,
            settled_at__gte=start,
            settled_at__lt=start + dt.timedelta(days=1),
        )
        .select_related("insured", "receipt", "tender")
        .order_by("-settled_at", "-id")
    )


def counter_clerks_of(*, region_code: str, day: dt.date) -> list[User]:
    """The region's clerks and supervisors who took counter payments on
    `day` or whose day is closed, by username."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    took = Payment.objects.filter(
        channel=Channel.COUNTER,
        status=PaymentStatus.SUCCESS,
        order__region_id=region_code,
        settled_at__gte=start,
        settled_at__lt=start + dt.timedelta(days=1),
    ).values("created_by_id")
    closed = DayClose.objects.filter(region_id=region_code, day=day).values("clerk_id")
    return list(
        User.objects.filter(
            Q(pk__in=took) | Q(pk__in=closed),
            role__in=[Role.CLERK, Role.SUPERVISOR],
            region_id=region_code,
        ).order_by("username")
    )


def day_closes_of(*, region_code: str, day: dt.date) -> dict[int, DayClose]:
    return {
        close.clerk_id: close
        for close in DayClose.objects.filter(
            region_id=region_code, day=day
        ).select_related("closed_by")
    }
