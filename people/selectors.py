"""Reads of the shared records, scoped to the acting user."""

from .models import FamilyLink, Notification, Person, ProxyAccess, StaffAccess


def authorities_held(*, person_id: int):
    """Requests and authorities this person holds over others, open ones first."""
    return (
        FamilyLink.objects.filter(owner_id=person_id)
        .select_related("relative")
        .order_by("-created_at", "-id")[:50]
    )


def authorities_given(*, person_id: int):
    """Requests and authorities others hold over this person."""
    return (
        FamilyLink.objects.filter(relative_id=person_id)
        .select_related("owner")
        .order_by("-created_at", "-id")[:50]
    )


def proxy_accesses_for_person(*, person_id: int, limit: int = 50):
    return ProxyAccess.objects.filter(person_id=person_id).select_related("actor")[
        :limit
    ]


def notifications_for_person(*, person_id: int, limit: int = 50):
    return Notification.objects.filter(person_id=person_id)[:limit]


def staff_accesses_for_person(*, person_id: int, limit: int = 100):
    return StaffAccess.objects.filter(person_id=person_id).select_related(
        "staff", "staff__region"
    )[:limit]


def person_by_id_number(*, id_number: str) -> Person | None:
    """The person with this (normalised) identity number, by the unique index."""
    return Person.objects.filter(id_number=id_number).first()
