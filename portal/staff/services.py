"""Writes made at a staff counter (窗口经办)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.identity import normalise_id_number
from people.models import Person, StaffAccess
from people.services import person_get_or_create, person_region_set


@transaction.atomic
def person_register_at_counter(
    *, staff, id_number: str, name: str, mobile: str = ""
) -> tuple[Person, bool]:
    """Register a person without an account at a region's counter.

    Returns (person, created). A person new to the portal is placed in the
    staff member's region so the counter can go on with their enrollment; a
    person already insured in another region is refused (their record belongs
    to that region's staff; a transfer moves it)."""
    if staff.region_id is None:
        raise DomainError(
            _("您的账号未分配统筹区，不能办理窗口业务。"), code="no_region"
        )
    existed = Person.objects.filter(id_number=normalise_id_number(id_number)).exists()
    person = person_get_or_create(id_number=id_number, name=name, mobile=mobile)
    # Locks the row: a simultaneous enrollment may be setting the region.
    person = person_region_set(person_id=person.pk, region_code=staff.region_id)
    if person.region_id != staff.region_id:
        raise DomainError(
            _("此人的参保关系在其他统筹区，请由参保地经办或办理转移接续。"),
            code="other_region",
            field="id_number",
        )
    StaffAccess.objects.create(
        person=person,
        staff=staff,
        action=StaffAccess.Action.CHANGE if not existed else StaffAccess.Action.VIEW,
        what=_("窗口登记"),
    )
    return person, not existed
