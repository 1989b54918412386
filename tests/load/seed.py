"""Citizens for the load run, written in bulk into the load database: each with
a login (one Argon2 hash shared by all: hashing is not what is measured);
four in five have a registered 2027 residents' enrollment to pay, the fifth is
ready to transfer (suspended employee insurance in 合肥 with a balance and
months, enrolled in 北京). Returns what the Locust users need, one row per citizen."""

import datetime as dt
from decimal import Decimal

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
PASSWORD = "Load-test-pass-2026"
OUT, IN = "340100", "110000"


def name_for(i: int) -> str:
    return (
        SURNAMES[i % len(SURNAMES)]
        + GIVEN[(i // len(SURNAMES)) % len(GIVEN)]
        + GIVEN[(i // (len(SURNAMES) * len(GIVEN))) % len(GIVEN)]
    )


def seed(count: int) -> list[dict]:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from core.identity import make_id_number
    from enrollment.models import (
        ContributionMonths,
        Enrollment,
        EnrollmentStatus,
        MonthsKind,
        Scheme,
    )
    from enrollment.policy_data import policy_seed, regions_seed
    from payments.models import AccountEntry, EntryKind, PersonalAccount
    from people.models import Person, Role, User

    regions_seed()
    for code in (OUT, IN):
        for year in (2026, 2027):
            policy_seed(code, year)
    encoded = make_password(PASSWORD)
    first_birth = dt.date(1960, 1, 1)
    with transaction.atomic():
        persons = Person.objects.bulk_create(
            Person(
                id_number=make_id_number(
                    "340104",
                    first_birth + dt.timedelta(days=i // 3),
                    (2 * i + 1) % 1000,
                ),
                name=name_for(i),
                sex="M",
                birth_date=first_birth + dt.timedelta(days=i // 3),
                region_id=OUT,
            )
            for i in range(count)
        )
        User.objects.bulk_create(
            User(
                username=f"m{13000000000 + i}",
                mobile=str(13000000000 + i),
                person=p,
                role=Role.CITIZEN,
                password=encoded,
            )
            for i, p in enumerate(persons)
        )
        # Every fifth citizen is moving (employee insurance, suspended here, active in
        # 北京) and has no residents' enrollment to pay; the others have one.
        movers = [p for i, p in enumerate(persons) if i % 5 == 0]
        payers = [p for i, p in enumerate(persons) if i % 5]
        enrollments = Enrollment.objects.bulk_create(
            Enrollment(
                person=p,
                region_id=OUT,
                scheme=Scheme.RESIDENT,
                year=2027,
                category="ordinary",
                status=EnrollmentStatus.REGISTERED,
            )
            for p in payers
        )
        enrollment_of = {e.person_id: e.pk for e in enrollments}
        Enrollment.objects.bulk_create(
            [
                Enrollment(
                    person=p,
                    region_id=OUT,
                    scheme=Scheme.EMPLOYEE,
                    year=2026,
                    status=EnrollmentStatus.SUSPENDED,
                )
                for p in movers
            ]
            + [
                Enrollment(
                    person=p,
                    region_id=IN,
                    scheme=Scheme.EMPLOYEE,
                    year=2026,
                    status=EnrollmentStatus.ACTIVE,
                )
                for p in movers
            ]
        )
        accounts = PersonalAccount.objects.bulk_create(
            PersonalAccount(person=p, region_id=OUT, balance=Decimal("500.00") + i)
            for i, p in enumerate(movers)
        )
        AccountEntry.objects.bulk_create(
            AccountEntry(
                account=a,
                amount=a.balance,
                kind=EntryKind.CONTRIBUTION,
                reference=f"seed:{a.person_id}",
                balance_after=a.balance,
            )
            for a in accounts
        )
        ContributionMonths.objects.bulk_create(
            ContributionMonths(
                person=p,
                region_id=OUT,
                kind=MonthsKind.ACTUAL,
                months=24,
                reference=f"seed:{p.pk}:actual",
            )
            for p in movers
        )
    mover_ids = {p.pk for p in movers}
    sessions = signed_in_sessions(list(User.objects.filter(person__in=persons)))
    return [
        {
            "username": str(13000000000 + i),
            "password": PASSWORD,
            "person_id": p.pk,
            "name": p.name,
            "id_number": p.id_number,
            "enrollment_id": enrollment_of.get(p.pk),
            "mover": p.pk in mover_ids,
            "session": sessions.get(p.pk),
        }
        for i, p in enumerate(persons)
    ]


def signed_in_sessions(users) -> dict[int, str]:
    """A signed-in session per citizen (person id -> session key), as a login would
    leave: most load users start signed in, so the run measures the citizen pages
    rather than a burst of Argon2 password checks (a share still logs in)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    keys = {}
    for user in users:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys[user.person_id] = session.session_key
    return keys
