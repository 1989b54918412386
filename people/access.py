"""Who may see whose records: a citizen sees their own person and the family
members they have added; anyone else's id gives 404."""

from django.http import Http404

from .models import Person


def person_ids_for_user(user) -> list[int]:
    """The persons a citizen may act for: themself first, then family (one query)."""
    if not user.is_authenticated or user.person_id is None:
        return []
    ids = list(
        Person.objects.filter(linked_by__owner_id=user.person_id).values_list(
            "pk", flat=True
        )
    )
    return [user.person_id, *ids]


def person_get_for_user(*, user, pk) -> Person:
    """The person `pk` if the user may act for them, else Http404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    if pk not in person_ids_for_user(user):
        raise Http404
    return Person.objects.get(pk=pk)


def staff_region_filter(user, field: str = "region") -> dict | None:
    """The filter that scopes a queryset to a staff member's region; None for
    all regions (superuser, auditor)."""
    if user.is_superuser or user.role == "auditor":
        return None
    if user.region_id is None:
        return {f"{field}__in": []}
    return {field: user.region_id}
