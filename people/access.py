"""The one answer to "may this user do X for person P" (SPEC §1a).

A citizen may act for themself, and for another person only under a granted
authority (FamilyLink with status granted) whose scopes include X and which
has not ended (a guardian's authority over a minor ends on the 18th birthday).
A pending, declined or revoked request grants nothing. Anyone else's id gives
404, so a page never tells whether the person exists.

Staff act through the staff site, scoped by region (staff_region_filter).
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from .models import AuthorityBasis, AuthorityStatus, FamilyLink, Person, Scope


def _granted(user) -> dict[int, frozenset[str]]:
    """relative id → scopes the user holds today, memoised on the user object
    for the request (a page asks several times; grants change in other
    requests)."""
    today = timezone.localdate()
    memo = getattr(user, "_authority_memo", None)
    if memo is not None and memo[0] == today:
        return memo[1]
    rows = (
        FamilyLink.objects.filter(
            owner_id=user.person_id, status=AuthorityStatus.GRANTED
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=today))
        .values_list("relative_id", "scopes")
    )
    granted = {relative_id: frozenset(scopes or ()) for relative_id, scopes in rows}
    user._authority_memo = (today, granted)
    return granted


def person_ids_for_user(user, *, scope: str = Scope.VIEW) -> list[int]:
    """The persons the user may do `scope` for: themself first, then those
    whose authority they hold for it (one query per request)."""
    if not user.is_authenticated or getattr(user, "person_id", None) is None:
        return []
    others = [pid for pid, scopes in _granted(user).items() if scope in scopes]
    return [user.person_id, *sorted(others)]


def persons_for_user(user, *, scope: str = Scope.VIEW) -> list[tuple[Person, str]]:
    """The user's own person, then each person the user may do `scope` for,
    with the relation's label (two queries for any family size)."""
    if not user.is_authenticated or getattr(user, "person_id", None) is None:
        return []
    today = timezone.localdate()
    links = [
        link
        for link in FamilyLink.objects.filter(
            owner_id=user.person_id, status=AuthorityStatus.GRANTED
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=today))
        .select_related("relative", "relative__region")
        .order_by("created_at", "id")
        if scope in (link.scopes or ())
    ]
    me = Person.objects.select_related("region").get(pk=user.person_id)
    return [
        (me, ""),
        *((link.relative, link.get_relation_display()) for link in links),
    ]


def may_act_for(*, user, person_id: int, scope: str = Scope.VIEW) -> bool:
    """Whether the user may do `scope` for the person now. Asks the database
    afresh (one query), never a page's memo: an act must see an authority
    granted or revoked a moment ago."""
    return bool(may_act_for_many(pairs=[(user, person_id)], scope=scope))


def may_act_for_many(*, pairs, scope: str = Scope.VIEW) -> set[tuple[int, int]]:
    """may_act_for for many (user, person id) pairs at once, asking the
    database afresh in one query whatever their number (the transfer engine
    tells a batch's applicants): the (user id, person id) pairs allowed."""
    allowed: set[tuple[int, int]] = set()
    asked: dict[tuple[int, int], int] = {}  # (own person, relative) → user id
    for user, person_id in pairs:
        own = getattr(user, "person_id", None)
        if not getattr(user, "is_authenticated", False) or own is None:
            continue
        if person_id == own:
            allowed.add((user.pk, person_id))
        else:
            asked[(own, person_id)] = user.pk
    if not asked:
        return allowed
    today = timezone.localdate()
    rows = (
        FamilyLink.objects.filter(
            owner_id__in={own for own, _relative in asked},
            relative_id__in={relative for _own, relative in asked},
            status=AuthorityStatus.GRANTED,
        )
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=today))
        .values_list("owner_id", "relative_id", "scopes")
    )
    for own, relative, scopes in rows:
        if (own, relative) in asked and scope in (scopes or ()):
            allowed.add((asked[(own, relative)], relative))
    return allowed


def person_get_for_user(*, user, pk, scope: str = Scope.VIEW) -> Person:
    """The person `pk` if the user may do `scope` for them, else Http404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError, OverflowError):
        raise Http404 from None
    if not may_act_for(user=user, person_id=pk, scope=scope):
        raise Http404
    return Person.objects.get(pk=pk)


GUARDIAN_BASES = (AuthorityBasis.BIRTH_CERTIFICATE, AuthorityBasis.HOUSEHOLD_REGISTER)


def is_proven_guardian(*, user, person_id: int) -> bool:
    """Whether the user holds a parent's or guardian's proven authority over
    the minor `person_id` today (birth certificate or household register)."""
    if getattr(user, "person_id", None) is None:
        return False
    today = timezone.localdate()
    return FamilyLink.objects.filter(
        owner_id=user.person_id,
        relative_id=person_id,
        status=AuthorityStatus.GRANTED,
        basis__in=GUARDIAN_BASES,
        ends_on__gt=today,
    ).exists()


def is_acting_for_another(user, person_id: int) -> bool:
    return getattr(user, "person_id", None) != person_id


def staff_region_filter(user, field: str = "region") -> dict | None:
    """The filter that scopes a queryset to a staff member's region; None for
    all regions (superuser, auditor)."""
    if user.is_superuser or user.role == "auditor":
        return None
    if user.region_id is None:
        return {f"{field}__in": []}
    return {field: user.region_id}
