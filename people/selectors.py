"""Reads of the shared records, scoped to the acting user."""

from .models import FamilyLink, Notification, StaffAccess


def family_links_for_person(*, person_id: int):
    return (
        FamilyLink.objects.filter(owner_id=person_id)
        .select_related("relative")
        .order_by("created_at")
    )


def notifications_for_person(*, person_id: int, limit: int = 50):
    return Notification.objects.filter(person_id=person_id)[:limit]


def staff_accesses_for_person(*, person_id: int, limit: int = 100):
    return StaffAccess.objects.filter(person_id=person_id).select_related(
        "staff", "staff__region"
    )[:limit]
