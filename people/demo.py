"""Demo data of the people app, used by the demo commands of every app: the
simulated population registry's residents, and family authorities given the
way a real family gives them (the relative's consent, recorded at a counter by
a demo clerk, or a guardian's household register checked there)."""

from __future__ import annotations

from django.utils import timezone

from .models import AuthorityBasis, AuthorityStatus, FamilyLink, Person, Role, User
from .services import authority_record_at_counter, person_get_or_create


def demo_registry_add(*, name: str, id_number: str, **extra) -> None:
    from .models import SimRegistryRecord

    SimRegistryRecord.objects.update_or_create(
        id_number=id_number, defaults={"name": name, **extra}
    )


def demo_clerk(region_code: str | None) -> User | None:
    queryset = User.objects.filter(role=Role.CLERK, is_active=True)
    if region_code:
        queryset = queryset.filter(region_id=region_code)
    return queryset.order_by("pk").first()


def demo_family_authority(
    *, owner: Person, id_number: str, name: str, relation: str, region_code: str | None
) -> FamilyLink:
    """The owner's authority over a relative, as a clerk records it at the
    counter (idempotent: an existing granted authority is kept)."""
    demo_registry_add(name=name, id_number=id_number)
    relative = person_get_or_create(id_number=id_number, name=name)
    existing = FamilyLink.objects.filter(
        owner=owner, relative=relative, status=AuthorityStatus.GRANTED
    ).first()
    if existing is not None:
        return existing
    minor = relative.age_on(timezone.localdate()) < 18
    clerk = demo_clerk(region_code) or demo_clerk(None)
    return authority_record_at_counter(
        staff=clerk,
        owner=owner,
        relative=relative,
        relation=relation,
        basis=(
            AuthorityBasis.HOUSEHOLD_REGISTER
            if minor
            else AuthorityBasis.COUNTER_CONSENT
        ),
        evidence="户口本（演示数据）" if minor else "身份证当面核验（演示数据）",
    )
