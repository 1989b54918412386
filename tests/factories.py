"""factory_boy factories shared by every test module."""

import datetime as dt
import itertools

import factory
from django.utils import timezone

from core.identity import make_id_number
from core.models import Region
from enrollment.models import Enrollment, EnrollmentStatus, Scheme
from enrollment.policy_data import policy_seed, regions_seed
from people.models import (
    ALL_SCOPES,
    AuthorityBasis,
    AuthorityStatus,
    FamilyLink,
    Person,
    Relation,
    Role,
    SimRegistryRecord,
    User,
)

_sequence = itertools.count(1)


def id_number_for(
    birth: dt.date, *, region_code: str = "340104", sex: str = "M"
) -> str:
    """A fresh valid identity number (sequence parity gives the sex)."""
    n = next(_sequence) % 499
    seq = 2 * n + (1 if sex == "M" else 0)
    # Vary the county part too so numbers stay unique over many persons.
    county = (
        f"{region_code[:4]}{(int(region_code[4:]) + next(_sequence) // 499) % 100:02d}"
    )
    return make_id_number(county, birth, seq % 1000)


def region(code: str = "340100") -> Region:
    regions_seed()
    return Region.objects.get(code=code)


def policy(region_code: str = "340100", year: int = 2026):
    regions_seed()
    return policy_seed(region_code, year)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"测试{n}")
    birth_date = dt.date(1990, 1, 1)
    sex = "M"
    id_number = factory.LazyAttribute(lambda o: id_number_for(o.birth_date, sex=o.sex))
    region = None

    @factory.post_generation
    def _in_registry(obj, create, extracted, **kwargs):
        # Every test person exists in the simulated population registry, as
        # every real person does.
        if create:
            registry_person(name=obj.name, id_number=obj.id_number)


def registry_person(*, name: str, id_number: str, **extra) -> SimRegistryRecord:
    """A resident the simulated population registry knows (the real-name check
    passes for this name and number)."""
    record, _created = SimRegistryRecord.objects.update_or_create(
        id_number=id_number, defaults={"name": name, **extra}
    )
    return record


class UserFactory(factory.django.DjangoModelFactory):
    """A citizen with a login (password "pass-Word-123")."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    person = factory.SubFactory(PersonFactory)
    mobile = factory.Sequence(lambda n: f"139{n:08d}")
    username = factory.Sequence(lambda n: f"c{n:012x}")
    role = Role.CITIZEN
    email = ""
    # An address given to the factory counts as verified (the link was opened).
    email_verified_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.email else None
    )
    password = factory.PostGenerationMethodCall("set_password", "pass-Word-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    role = Role.CLERK
    is_staff = True
    region = factory.LazyFunction(lambda: region("340100"))
    password = factory.PostGenerationMethodCall("set_password", "pass-Word-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def family_link(
    owner: Person,
    relative: Person,
    relation: str = Relation.CHILD,
    *,
    status: str = AuthorityStatus.GRANTED,
    scopes=ALL_SCOPES,
    **extra,
) -> FamilyLink:
    """An authority `owner` holds over `relative` (granted with every scope
    unless told otherwise)."""
    granted = status == AuthorityStatus.GRANTED
    return FamilyLink.objects.create(
        owner=owner,
        relative=relative,
        relation=relation,
        status=status,
        basis=extra.pop("basis", AuthorityBasis.CONSENT if granted else ""),
        scopes=list(scopes) if granted else [],
        **extra,
    )


class EnrollmentFactory(factory.django.DjangoModelFactory):
    """A registered residents' enrollment (policy seeded for its region and year)."""

    class Meta:
        model = Enrollment
        skip_postgeneration_save = True

    person = factory.SubFactory(PersonFactory)
    region = factory.LazyFunction(lambda: region("340100"))
    scheme = Scheme.RESIDENT
    year = 2026
    category = "ordinary"
    status = EnrollmentStatus.REGISTERED

    @factory.post_generation
    def _policy(obj, create, extracted, **kwargs):
        if create:
            policy(obj.region_id, obj.year)
