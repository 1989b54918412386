"""Reads the payment pages need, scoped to the acting user, in a fixed number of queries."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Max, Q
from django.db.models.functions import Substr
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError
from enrollment.models import Enrollment, Policy, Scheme
from people.access import person_ids_for_user
from people.models import Person, Scope

from . import pricing
from .models import (
    PAYABLE_ENROLLMENT_STATUSES,
    BindingStatus,
    FamilyBinding,
    Order,
    PaidPeriod,
    Payment,
    PersonalAccount,
    Receipt,
)


def _visible(user, scope: str = Scope.VIEW) -> Q | None:
    """Payments a citizen may see (or, with scope=PAY, pay again): for persons
    they hold that authority for, or paid by them."""
    ids = person_ids_for_user(user, scope=scope)
    if not ids:
        return None
    # The ids of the orders this person paid, fetched first: an OR across the
    # join to orders would make PostgreSQL scan every payment (bench/NOTES.md §1).
    paid_orders = list(
        Order.objects.filter(payer_id=user.person_id).values_list("pk", flat=True)
    )
    return Q(insured_id__in=ids) | Q(order_id__in=paid_orders)


def payment_get_for_user(*, user, pk, scope: str = Scope.VIEW) -> Payment:
    """The attempt `pk` if the user is its payer or acts for its insured person; else 404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    condition = _visible(user, scope)
    if condition is None:
        raise Http404
    payment = (
        Payment.objects.filter(condition, pk=pk)
        .select_related(
            "order",
            "order__insured",
            "order__payer",
            "order__region",
            "order__enrollment",
            "receipt",
            "refund",
        )
        .first()
    )
    if payment is None:
        raise Http404
    return payment


@dataclass
class HistoryPage:
    """What the 缴费记录 page shows."""

    persons: list[Person]  # the user's own person first
    person_id: int | None  # the person asked for, None for everyone
    years: list[int]  # newest first
    year: int | None  # the year shown, None for every year
    payments: list[Payment]
    payable: list[Enrollment]


def history_page_for_user(
    *,
    user,
    person_id: int | None = None,
    year: int | None = None,
    every_year: bool = False,
    today: dt.date | None = None,
) -> HistoryPage:
    """缴费记录 for the user and the family they act for: the persons, the
    years, one year's attempts (by default the year of the payment made last;
    `every_year` for all), and what can be paid now. A fixed number of
    statements for any family: the user's authority (once per request), the
    persons, the orders the user paid, the years, the attempts, the payable
    enrollments (and, when some are flexible, their paid months and policies)."""
    ids = person_ids_for_user(user)
    by_pk = {p.pk: p for p in Person.objects.filter(pk__in=ids).only("id", "name")}
    if person_id not in by_pk:
        person_id = None
    condition = _visible(user)
    years, newest = history_years_for_user(
        user=user, person_id=person_id, condition=condition
    )
    if year is None and not every_year:
        year = newest
    return HistoryPage(
        persons=[by_pk[pk] for pk in ids if pk in by_pk],
        person_id=person_id,
        years=years,
        year=year,
        payments=history_for_user(
            user=user, person_id=person_id, year=year, condition=condition
        ),
        payable=payable_enrollments_for_user(user=user, today=today),
    )


# The columns the history shows; the rest of the attempt, its order and its
# receipt stay in the database.
HISTORY_COLUMNS = (
    "id",
    "insured_id",
    "scheme",
    "period",
    "channel",
    "amount",
    "status",
    "created_at",
    "order",
    "order__months",
    "order__insured",
    "order__insured__name",
    "order__payer",
    "order__payer__name",
)


def history_for_user(
    *,
    user,
    person_id: int | None = None,
    year: int | None = None,
    limit: int = 200,
    condition: Q | None = None,
):
    """缴费记录: attempts for the people the user acts for and those they paid,
    newest first, with the order's months and the persons' names (one query;
    `condition`: _visible(user), when the caller has it already)."""
    condition = condition if condition is not None else _visible(user)
    if condition is None:
        return []
    qs = Payment.objects.filter(condition).exclude(status__in=["created"])
    if person_id is not None:
        qs = qs.filter(insured_id=person_id)
    if year is not None:
        qs = qs.filter(period__startswith=str(year))
    return list(
        qs.select_related("order", "order__insured", "order__payer")
        .only(*HISTORY_COLUMNS)
        .order_by("-created_at", "-id")[:limit]
    )


def history_years_for_user(
    *, user, person_id: int | None = None, condition: Q | None = None
) -> tuple[list[int], int | None]:
    """The years with payments the user may see, newest first, and the year
    of the payment made most recently (which need not be the newest year: a
    repaired gap year, a relative's earlier year), in one query (grouped by
    year alone: no default ordering joins the GROUP BY)."""
    condition = condition if condition is not None else _visible(user)
    if condition is None:
        return [], None
    qs = Payment.objects.filter(condition).exclude(status__in=["created"])
    if person_id is not None:
        qs = qs.filter(insured_id=person_id)
    rows = [
        (int(row["y"]), row["last"])
        for row in qs.annotate(y=Substr("period", 1, 4))
        .values("y")
        .annotate(last=Max("created_at"))
        .order_by()
        if row["y"] and row["y"].isdigit()
    ]
    if not rows:
        return [], None
    years = sorted({year for year, _last in rows}, reverse=True)
    return years, max(rows, key=lambda row: (row[1], row[0]))[0]


def payable_enrollments_for_user(*, user, today: dt.date | None = None):
    """Enrollments of the people the user acts for that can be paid now: a
    registered (unpaid) one, or a flexible worker's active one (months
    ahead). A residents' year already paid is not offered again; a flexible
    year with nothing left to pay is marked `nothing_due` (its page would only
    refuse), so the page says so instead of offering to pay.

    One query, and when some are flexible one more for their paid months and
    one for their policies (pricing.quote_for, the one home of the rule of
    what is due, prices them)."""
    ids = person_ids_for_user(user, scope=Scope.PAY)
    enrollments = list(
        Enrollment.objects.filter(person_id__in=ids)
        .filter(
            Q(status="registered", scheme__in=["resident", "flexible"])
            | Q(status="active", scheme="flexible")
        )
        .select_related("person", "region")
        .order_by("-year", "person_id")
    )
    flexible = [e for e in enrollments if e.scheme == Scheme.FLEXIBLE]
    paid = defaultdict(set)
    policies = {}
    if flexible:
        for insured_id, period in PaidPeriod.objects.filter(
            insured_id__in={e.person_id for e in flexible}, scheme=Scheme.FLEXIBLE
        ).values_list("insured_id", "period"):
            paid[insured_id].add(period)
        keys = Q()
        for region_id, year in {(e.region_id, e.year) for e in flexible}:
            keys |= Q(region_id=region_id, year=year)
        policies = {(p.region_id, p.year): p for p in Policy.objects.filter(keys)}
    today = today or timezone.localdate()
    for enrollment in enrollments:
        enrollment.nothing_due = False
        if enrollment.scheme != Scheme.FLEXIBLE:
            continue
        try:
            pricing.quote_for(
                enrollment=enrollment,
                paid_periods=paid[enrollment.person_id],
                today=today,
                policy=policies.get((enrollment.region_id, enrollment.year)),
            )
        except DomainError as error:
            enrollment.nothing_due = error.code == "already_paid"
    return enrollments


def enrollment_get_for_payment(*, user, pk, proxy_ids=()) -> Enrollment:
    """An enrollment the user may pay for: their own or family's, or one they
    found for 代缴 by identity number and name (kept in their session)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    enrollment = (
        Enrollment.objects.select_related("person", "region").filter(pk=pk).first()
    )
    if enrollment is None:
        raise Http404
    if (
        enrollment.person_id == user.person_id
        or pk in proxy_ids
        or enrollment.person_id in person_ids_for_user(user, scope=Scope.PAY)
    ):
        return enrollment
    raise Http404


def proxy_payable_enrollment(*, id_number: str, name: str, year: int) -> Enrollment:
    """代缴: anyone may pay a resident's premium (城乡居民医保) for a year, given
    the insured person's identity number and the name registered with it. The
    enrollment that may be paid, priced by the server on the pay page as for
    one's own; DomainError when the name does not match or there is no such
    enrollment."""
    person = Person.objects.filter(id_number=id_number).first()
    if person is None or person.name != name.strip():
        raise DomainError(
            _("身份证号与姓名不匹配，或该人员尚未参保登记，请核对。"),
            code="proxy_mismatch",
            field="name",
        )
    enrollment = Enrollment.objects.filter(
        person=person,
        year=year,
        scheme=Scheme.RESIDENT,
        status__in=PAYABLE_ENROLLMENT_STATUSES,
    ).first()
    if enrollment is None:
        raise DomainError(
            _("该人员在所选年度没有城乡居民医保参保登记，请先办理参保登记。"),
            code="proxy_no_enrollment",
            field="year",
        )
    return enrollment


def receipt_by_code(*, code: str) -> Receipt | None:
    code = (code or "").strip().upper()
    if not code or len(code) > 16:
        return None
    return Receipt.objects.filter(verification_code=code).first()


def bindings_for_person(*, person_id: int):
    """Both sides of 家庭共济: bindings this person made, and those awaiting their consent."""
    made = list(
        FamilyBinding.objects.filter(authoriser_id=person_id)
        .select_related("relative")
        .order_by("-created_at")
    )
    received = list(
        FamilyBinding.objects.filter(relative_id=person_id)
        .select_related("authoriser")
        .order_by("-created_at")
    )
    return made, received


def bindings_awaiting_guardian(*, user):
    """Pending bindings of minors the user is a parent of (they consent for them)."""
    ids = person_ids_for_user(user)[1:]
    return list(
        FamilyBinding.objects.filter(
            relative_id__in=ids, status=BindingStatus.PENDING
        ).select_related("authoriser", "relative")
    )


def may_bind_relatives(*, person_id: int) -> bool:
    """Whether the person may ask to bind relatives (家庭共济): insured as an
    employee (flexible workers included) in an active enrollment, with a
    personal account to pay from. The same condition binding_request
    enforces; the page offers the form only to them (one query)."""
    return (
        Person.objects.filter(pk=person_id)
        .filter(
            Q(
                pk__in=PersonalAccount.objects.filter(person_id=person_id).values(
                    "person_id"
                )
            ),
            Q(
                pk__in=Enrollment.objects.filter(
                    person_id=person_id,
                    scheme__in=[Scheme.EMPLOYEE, Scheme.FLEXIBLE],
                    status="active",
                ).values("person_id")
            ),
        )
        .exists()
    )


def accounts_for_person(*, person_id: int):
    return list(
        PersonalAccount.objects.filter(person_id=person_id).select_related("region")
    )


def active_binding_relative_ids(*, person_id: int) -> set[int]:
    return set(
        FamilyBinding.objects.filter(
            authoriser_id=person_id, status=BindingStatus.ACTIVE
        ).values_list("relative_id", flat=True)
    )
