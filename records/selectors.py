"""Reads of the records pages, scoped to the acting user, each in a fixed
number of queries whatever the number of regions, entries or family members.

Some reads go straight to enrollment's and payments' rows where their
selectors answer per region only (one query per region): each such place
says so. They only read; every write goes through those apps' services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, Sum
from django.http import Http404
from django.utils import timezone

from core.documents import verification_code_normalise
from core.models import Region
from core.places import localized
from enrollment.models import (
    ContributionMonths,
    Enrollment,
    EnrollmentStatus,
    MonthsKind,
)
from payments.models import AccountEntry, EntryKind
from payments.selectors import accounts_for_person
from people.access import person_ids_for_user, persons_for_user
from people.models import Person, Scope

from .models import Filing, InsuranceCertificate, LifetimeRequirement

# An enrollment's paid cover runs while it is in force, and a suspension
# (暂停参保, before a transfer) keeps the cover already paid for (SPEC §5).
COVERING_STATUSES = (EnrollmentStatus.ACTIVE, EnrollmentStatus.SUSPENDED)


def family_persons(user, *, scope: str = Scope.VIEW) -> list[tuple[Person, str]]:
    """The user's person, then each person they may do `scope` for, with the
    relation's label ("" for themself); two queries."""
    return persons_for_user(user, scope=scope)


# --- Coverage ----------------------------------------------------------------------


def covering_enrollment(*, person_id: int, day: dt.date) -> Enrollment | None:
    """The enrollment that covers the person on `day` (paid, in force or
    suspended after paying, `day` inside its cover), newest first; one query.

    Read from Enrollment rows here: enrollment.selectors answers per region
    (enrollment_latest, enrollment_for_year), and the question is "covered
    anywhere today", whichever region that is."""
    return (
        Enrollment.objects.filter(
            person_id=person_id,
            status__in=COVERING_STATUSES,
            coverage_start__lte=day,
        )
        .filter(Q(coverage_end__isnull=True) | Q(coverage_end__gte=day))
        .select_related("region")
        .order_by("-year", "-id")
        .first()
    )


# --- Filings (异地就医备案) -------------------------------------------------------


def filings_for_user(*, user) -> list[Filing]:
    """Filings of the persons the user may see, newest first (one query)."""
    return list(
        Filing.objects.filter(person_id__in=person_ids_for_user(user))
        .select_related("person", "insured_region", "destination_region")
        .order_by("-filed_at", "-id")
    )


def filing_get_for_user(*, user, pk, scope: str = Scope.VIEW) -> Filing:
    """The filing if the user may do `scope` for its person; else Http404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError, OverflowError):
        raise Http404 from None
    ids = person_ids_for_user(user, scope=scope)
    filing = (
        Filing.objects.select_related("person", "insured_region", "destination_region")
        .filter(pk=pk, person_id__in=ids)
        .first()
    )
    if filing is None:
        raise Http404
    return filing


def filing_by_code(*, code: str) -> Filing | None:
    code = verification_code_normalise(code)
    if not code:
        return None
    return (
        Filing.objects.select_related("person", "insured_region", "destination_region")
        .filter(verification_code=code)
        .first()
    )


# --- Certificates of insurance (参保证明) ----------------------------------------


def certificates_for_user(*, user, limit: int = 20) -> list[InsuranceCertificate]:
    """The latest certificates issued for the persons the user may see (one query)."""
    return list(
        InsuranceCertificate.objects.filter(person_id__in=person_ids_for_user(user))
        .select_related("person")
        .order_by("-issued_at", "-id")[:limit]
    )


def certificate_get_for_user(*, user, pk) -> InsuranceCertificate:
    try:
        pk = int(pk)
    except (TypeError, ValueError, OverflowError):
        raise Http404 from None
    certificate = (
        InsuranceCertificate.objects.select_related("person")
        .filter(pk=pk, person_id__in=person_ids_for_user(user))
        .first()
    )
    if certificate is None:
        raise Http404
    return certificate


def certificate_by_code(*, code: str) -> InsuranceCertificate | None:
    code = verification_code_normalise(code)
    if not code:
        return None
    return InsuranceCertificate.objects.filter(verification_code=code).first()


@dataclass
class RegionMonths:
    region_code: str
    region_name: str
    actual: int = 0
    deemed: int = 0
    region_name_en: str = ""

    @property
    def total(self) -> int:
        return self.actual + self.deemed

    @property
    def display_name(self) -> str:
        return localized(self.region_name, self.region_name_en)


def months_by_region(*, person_id: int) -> list[RegionMonths]:
    """The person's contribution months per region by kind, in one query.

    enrollment.selectors.months_totals gives the same sums one region at a
    time (a query each); this groups the ledger by region at once, and the
    tests hold the two to the same figures."""
    rows = (
        ContributionMonths.objects.filter(person_id=person_id)
        .values("region_id", "region__name", "region__name_en", "kind")
        .annotate(total=Sum("months"))
        .order_by("region_id")
    )
    found: dict[str, RegionMonths] = {}
    for row in rows:
        line = found.setdefault(
            row["region_id"],
            RegionMonths(
                region_code=row["region_id"],
                region_name=row["region__name"],
                region_name_en=row["region__name_en"],
            ),
        )
        if row["kind"] == MonthsKind.ACTUAL:
            line.actual = row["total"] or 0
        elif row["kind"] == MonthsKind.DEEMED:
            line.deemed = row["total"] or 0
    # Months moved out by a transfer leave a region at zero: not a line to show.
    return [line for line in found.values() if line.actual or line.deemed]


def certificate_facts(*, person: Person, today: dt.date | None = None) -> dict:
    """What a 参保证明 prints (two queries): the person (number masked), each
    covered period (paid enrollments, newest first) and the contribution
    months per region and in total. Codes, not labels, so the page and the
    PDF show them in the reader's language.

    Enrollments are read here for the same reason as covering_enrollment:
    enrollment.selectors.enrollment_history answers one region at a time."""
    today = today or timezone.localdate()
    enrollments = (
        Enrollment.objects.filter(person_id=person.pk, coverage_start__isnull=False)
        .exclude(status__in=(EnrollmentStatus.CANCELLED, EnrollmentStatus.REGISTERED))
        .select_related("region")
        .order_by("-year", "-id")
    )
    periods = [
        {
            "year": e.year,
            "scheme": e.scheme,
            "region_code": e.region_id,
            "region_name": e.region.name,
            "status": e.status,
            "start": e.coverage_start.isoformat(),
            "end": e.coverage_end.isoformat() if e.coverage_end else "",
        }
        for e in enrollments
    ]
    months = months_by_region(person_id=person.pk)
    current = next(
        (
            p
            for p in periods
            if p["status"] in COVERING_STATUSES
            and p["start"] <= today.isoformat()
            and (not p["end"] or p["end"] >= today.isoformat())
        ),
        None,
    )
    return {
        "as_of": today.isoformat(),
        "name": person.name,
        "id_masked": person.id_masked,
        "covered_today": current is not None,
        "schemes": sorted({p["scheme"] for p in periods}),
        "periods": periods,
        "months": [
            {
                "region_code": m.region_code,
                "region_name": m.region_name,
                "actual": m.actual,
                "deemed": m.deemed,
            }
            for m in months
        ],
        "total_actual": sum(m.actual for m in months),
        "total_deemed": sum(m.deemed for m in months),
    }


# --- Personal account (个人账户) -----------------------------------------------------


@dataclass
class AccountLine:
    region: Region
    balance: Decimal
    entries: list = field(default_factory=list)


@dataclass
class AccountView:
    accounts: list[AccountLine]
    # Amounts that left a region's account in a transfer and have not yet
    # arrived at the other region (or come back): (entry, amount).
    in_transit: list[tuple[AccountEntry, Decimal]]

    @property
    def total(self) -> Decimal:
        return sum((a.balance for a in self.accounts), Decimal("0.00"))

    @property
    def transit_total(self) -> Decimal:
        return sum((amount for _e, amount in self.in_transit), Decimal("0.00"))


def _transfer_key(reference: str) -> tuple[str, str] | None:
    """("transfer:<id>", "out" | "in" | "return") from a transfer's entry reference."""
    parts = reference.split(":")
    if len(parts) == 3 and parts[0] == "transfer":
        return f"{parts[0]}:{parts[1]}", parts[2]
    return None


def account_for_person(*, person_id: int) -> AccountView:
    """The person's personal accounts, each region's balance and every entry,
    newest first, and what is in transit between regions (two queries).

    The accounts come from payments.selectors.accounts_for_person; their
    entries are read here in one query for all regions (payments offers no
    entry listing). A transfer posts "transfer:<id>:out" at the outgoing
    region and later "transfer:<id>:in" at the incoming one (or
    "transfer:<id>:return" back): an out without either is in transit."""
    accounts = accounts_for_person(person_id=person_id)
    lines = {
        account.pk: AccountLine(region=account.region, balance=account.balance)
        for account in accounts
    }
    entries = list(
        AccountEntry.objects.filter(account_id__in=list(lines)).order_by(
            "-created_at", "-id"
        )
    )
    settled = set()
    outs = []
    for entry in entries:
        lines[entry.account_id].entries.append(entry)
        key = _transfer_key(entry.reference)
        if key is None:
            continue
        if key[1] == "out" and entry.kind == EntryKind.TRANSFER_OUT:
            outs.append((key[0], entry))
        elif key[1] in ("in", "return"):
            settled.add(key[0])
    in_transit = [(entry, -entry.amount) for key, entry in outs if key not in settled]
    ordered = sorted(lines.values(), key=lambda line: line.region.code)
    return AccountView(accounts=ordered, in_transit=in_transit)


# --- Contribution years (缴费年限) ---------------------------------------------------


@dataclass
class YearsView:
    person: Person
    months: list[RegionMonths]
    region: Region | None
    requirement: LifetimeRequirement | None
    required_total: int = 0
    required_local_actual: int = 0
    local_actual: int = 0

    @property
    def total_actual(self) -> int:
        return sum(m.actual for m in self.months)

    @property
    def total_deemed(self) -> int:
        return sum(m.deemed for m in self.months)

    @property
    def total(self) -> int:
        return self.total_actual + self.total_deemed

    @property
    def remaining_total(self) -> int:
        return max(self.required_total - self.total, 0)

    @property
    def remaining_local_actual(self) -> int:
        return max(self.required_local_actual - self.local_actual, 0)

    @property
    def met(self) -> bool:
        return (
            self.region is not None
            and self.remaining_total == 0
            and self.remaining_local_actual == 0
        )


def retirement_region(*, person: Person) -> Region | None:
    """The region whose requirement applies: the person's 参保地 on record
    (Person.region, moved by a completed transfer), else the region of their
    newest enrollment (one query at most)."""
    if person.region_id is not None:
        return person.region
    enrollment = (
        Enrollment.objects.filter(person_id=person.pk)
        .exclude(status=EnrollmentStatus.CANCELLED)
        .select_related("region")
        .order_by("-year", "-id")
        .first()
    )
    return enrollment.region if enrollment is not None else None


def contribution_years(*, person: Person) -> YearsView:
    """缴费年限: months per region and in total, the retirement region's
    requirement for lifetime benefits by the person's sex, and what remains
    (three queries)."""
    months = months_by_region(person_id=person.pk)
    region = retirement_region(person=person)
    requirement = None
    if region is not None:
        requirement = (
            LifetimeRequirement.objects.filter(region=region).first()
            # A region without its own figures: the model's defaults (25 / 20
            # years, 10 of them paid in the region).
            or LifetimeRequirement(region=region)
        )
    view = YearsView(
        person=person, months=months, region=region, requirement=requirement
    )
    if requirement is not None:
        view.required_total = (
            requirement.men_months if person.sex == "M" else requirement.women_months
        )
        view.required_local_actual = requirement.local_actual_months
        view.local_actual = next(
            (m.actual for m in months if m.region_code == region.code), 0
        )
    return view
