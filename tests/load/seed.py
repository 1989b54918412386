"""Citizens for the load run, written in bulk into the load database: each with
a login (one Argon2 hash shared by all: hashing is not what is measured), a
registered 2027 residents' enrollment to pay, and every fifth one ready to
transfer (suspended employee insurance in 合肥 with a balance and months,
enrolled in 北京). Returns what the Locust users need, one row per citizen."""

import datetime as dt
from decimal import Decimal

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
PASSWORD = "Load-test-pass-2026"
OUT, IN = "340100", "110000"


def name_for(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)] + GIVEN[
        (i // (len(SURNAMES) * len(GIVEN))) % len(GIVEN)]


def seed(count: int) -> list[dict]:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from enrollment.models import ContributionMonths, Enrollment, EnrollmentStatus, MonthsKind, Scheme
    from enrollment.policy_data import policy_seed, regions_seed
    from payments.models import AccountEntry, EntryKind, PersonalAccount
    from portal.identity import make_id_number
    from portal.models import Person, Role, User

    regions_seed()
    for code in (OUT, IN):
        for year in (2026, 2027):
            policy_seed(code, year)
    encoded = make_password(PASSWORD)
    first_birth = dt.date(1960, 1, 1)
    with transaction.atomic():
        persons = Person.objects.bulk_create(
            Person(id_number=make_id_number("340104", first_birth + dt.timedelta(days=i // 3), (2 * i + 1) % 1000),
                   name=name_for(i), sex="M", birth_date=first_birth + dt.timedelta(days=i // 3), region_id=OUT)
            for i in range(count)
        )
        User.objects.bulk_create(
            User(username=f"m{13000000000 + i}", mobile=str(13000000000 + i), person=p, role=Role.CITIZEN,
                 password=encoded)
            for i, p in enumerate(persons)
        )
        enrollments = Enrollment.objects.bulk_create(
            Enrollment(person=p, region_id=OUT, scheme=Scheme.RESIDENT, year=2027, category="ordinary",
                       status=EnrollmentStatus.REGISTERED)
            for p in persons
        )
        movers = [p for i, p in enumerate(persons) if i % 5 == 0]
        Enrollment.objects.bulk_create(
            [Enrollment(person=p, region_id=OUT, scheme=Scheme.EMPLOYEE, year=2026,
                        status=EnrollmentStatus.SUSPENDED) for p in movers]
            + [Enrollment(person=p, region_id=IN, scheme=Scheme.EMPLOYEE, year=2026, status=EnrollmentStatus.ACTIVE)
               for p in movers]
        )
        accounts = PersonalAccount.objects.bulk_create(
            PersonalAccount(person=p, region_id=OUT, balance=Decimal("500.00") + i) for i, p in enumerate(movers)
        )
        AccountEntry.objects.bulk_create(
            AccountEntry(account=a, amount=a.balance, kind=EntryKind.CONTRIBUTION, reference=f"seed:{a.person_id}",
                         balance_after=a.balance) for a in accounts
        )
        ContributionMonths.objects.bulk_create(
            ContributionMonths(person=p, region_id=OUT, kind=MonthsKind.ACTUAL, months=24,
                               reference=f"seed:{p.pk}:actual") for p in movers
        )
    mover_ids = {p.pk for p in movers}
    return [
        {"username": str(13000000000 + i), "password": PASSWORD, "person_id": p.pk, "name": p.name,
         "id_number": p.id_number, "enrollment_id": e.pk, "mover": p.pk in mover_ids}
        for i, (p, e) in enumerate(zip(persons, enrollments, strict=True))
    ]
