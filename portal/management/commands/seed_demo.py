"""Demo data for `make run`: regions, policies for 2025–2027, staff of every
region, an auditor, a superuser, and citizens with families (a newborn, a
flexible worker, a gap in coverage, a category waiting for verification).

Idempotent: running it again adds nothing that is already there. Every
enrollment is made through the enrollment services, as a citizen would.

    python manage.py seed_demo
    python manage.py seed_demo --print-logins   # print the logins and exit
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from payments import demo as payments_demo
from portal import roles
from transfers import demo as transfers_demo

DEMO_PASSWORD = "Demo-2026-yibao"
STAFF_PREFIX = {"340100": "hf", "110000": "bj", "370200": "qd", "350100": "fz"}
YEARS = (2025, 2026, 2027)

# Citizens with a login: (mobile, name, birth county, birth date, sex sequence, region)
CITIZENS = [
    ("13800000001", "张伟", "340104", dt.date(1985, 3, 12), 131, "340100"),
    ("13800000002", "李娜", "110105", dt.date(1990, 8, 8), 242, "110000"),
    ("13800000003", "陈静", "370202", dt.date(1978, 11, 30), 364, "370200"),
    ("13800000004", "黄磊", "350102", dt.date(1995, 2, 14), 471, "350100"),
]
# Family members: (owner mobile, name, county, birth date, sequence, relation)
FAMILY = [
    ("13800000001", "王芳", "340103", dt.date(1987, 7, 2), 152, "spouse"),
    ("13800000001", "张小宇", "340104", dt.date(2015, 6, 1), 173, "child"),
    ("13800000001", "张建国", "340121", dt.date(1958, 1, 20), 195, "parent"),
    ("13800000003", "刘秀英", "370203", dt.date(1950, 4, 4), 382, "parent"),
]
NEWBORN = ("13800000001", "张小满", "340104", 216)
NEWBORN_CERTIFICATE = "Q340261888"
# Residents the simulated population registry knows who have no account yet:
# try sign-up with one of them (any mobile; the SMS code is printed on the
# console and shown at /dev/sms/). (name, county, birth date, sequence)
REGISTRY_ONLY = [
    ("赵雪", "340102", dt.date(1992, 3, 8), 322),
    ("钱进", "110108", dt.date(1988, 10, 1), 413),
    ("孙丽", "370212", dt.date(1975, 5, 20), 524),
]


def registry_only_residents() -> list[tuple[str, str]]:
    from core.identity import make_id_number

    return [
        (name, make_id_number(county, birth, seq))
        for name, county, birth, seq in REGISTRY_ONLY
    ]


def demo_logins() -> list[tuple[str, str]]:
    rows = [("admin", "超级管理员 superuser")]
    for code, prefix in STAFF_PREFIX.items():
        rows.append((f"{prefix}_clerk", f"经办员 clerk {code}"))
        rows.append((f"{prefix}_supervisor", f"主管 supervisor {code}"))
    rows.append(("auditor", "审计员 auditor (all regions, read-only)"))
    labels = {
        "13800000001": "张伟 合肥: family of 4 + a newborn; 2027 to pay; spouse's category awaits verification",
        "13800000002": "李娜 北京: flexible worker (灵活就业), each month paid",
        "13800000003": "陈静 青岛: a year's gap, so a waiting period; mother 刘秀英",
        "13800000004": "黄磊 福州: insured 2026",
    }
    rows.extend(
        (mobile, f"参保人 citizen {labels[mobile]}") for mobile, *_rest in CITIZENS
    )
    # Made by the apps' own demo modules (transfers/demo.py, payments/demo.py).
    rows.extend(
        [
            (
                transfers_demo.MOBILE,
                "参保人 citizen 周杰: his family's transfers (医保关系转移接续)"
                " in every state; his own (合肥→北京) starts moving when he first"
                " opens it, and advances while you watch",
            ),
            (
                payments_demo.DAUGHTER[0],
                f"参保人 citizen {payments_demo.DAUGHTER[1]} 合肥: flexible worker"
                " with a personal account; 家庭共济 pays her mother's premium",
            ),
            (
                payments_demo.MOTHER[0],
                f"参保人 citizen {payments_demo.MOTHER[1]} 合肥: bound by 家庭共济"
                " to her daughter; a counter receipt to verify",
            ),
        ]
    )
    return rows


class Command(BaseCommand):
    help = "Load the demo regions, policies, staff and citizens (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--print-logins", action="store_true", help="print the demo logins and exit"
        )

    def handle(self, *args, print_logins=False, **options):
        if print_logins:
            self.print_logins()
            return
        with transaction.atomic():
            self.seed_reference_data()
            self.seed_staff()
            users = self.seed_citizens()
        for person_seed in self.enrollments(users):
            with transaction.atomic():
                person_seed()
        payments_demo.seed()
        transfers_demo.seed()
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def print_logins(self):
        self.stdout.write(f"  Demo logins (password for all: {DEMO_PASSWORD})")
        for login, who in demo_logins():
            self.stdout.write(f"    {login:<16} {who}")
        self.stdout.write(
            "  Residents in the simulated population registry with no account yet"
            " (sign up as one; the SMS code appears on this console and at /dev/sms/):"
        )
        for name, number in registry_only_residents():
            self.stdout.write(f"    {name:<6} {number}")

    # --- reference data and staff --------------------------------------------------

    def seed_reference_data(self):
        from enrollment.policy_data import REGIONS, policy_seed, regions_seed

        regions_seed()
        for code, *_names in REGIONS:
            for year in YEARS:
                policy_seed(code, year)
        roles.role_groups_sync()

    def _staff(self, username, *, role, region_id=None, superuser=False):
        from people.models import User

        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                role=role,
                region_id=region_id,
                is_staff=True,
                is_superuser=superuser,
            )
            user.set_password(DEMO_PASSWORD)
            user.save()
        return user

    def seed_staff(self):
        from people.models import Role

        self._staff("admin", role=Role.CITIZEN, superuser=True)
        for code, prefix in STAFF_PREFIX.items():
            self._staff(f"{prefix}_clerk", role=Role.CLERK, region_id=code)
            self._staff(f"{prefix}_supervisor", role=Role.SUPERVISOR, region_id=code)
        self._staff("auditor", role=Role.AUDITOR)

    # --- citizens and families ------------------------------------------------------

    def seed_registry(self):
        """Everyone of the demo in the simulated population registry (the
        newborn with its birth certificate and father), and a few residents
        with no account yet."""
        from core.identity import make_id_number
        from people.demo import demo_registry_add

        for _mobile, name, county, birth, seq, _region in CITIZENS:
            demo_registry_add(name=name, id_number=make_id_number(county, birth, seq))
        for _owner, name, county, birth, seq, _relation in FAMILY:
            demo_registry_add(name=name, id_number=make_id_number(county, birth, seq))
        for name, number in registry_only_residents():
            demo_registry_add(name=name, id_number=number)
        owner_mobile, name, county, seq = NEWBORN
        father = next(c for c in CITIZENS if c[0] == owner_mobile)
        demo_registry_add(
            name=name,
            id_number=make_id_number(county, self.newborn_birth(), seq),
            birth_certificate=NEWBORN_CERTIFICATE,
            father_id_number=make_id_number(*father[2:5]),
        )

    def newborn_birth(self):
        return timezone.localdate() - dt.timedelta(days=40)

    def seed_citizens(self) -> dict:
        from core.identity import make_id_number
        from people import services
        from people.demo import demo_family_authority
        from people.models import User

        self.seed_registry()
        users = {}
        for mobile, name, county, birth, seq, region in CITIZENS:
            user = User.objects.filter(mobile=mobile).first()
            if user is None:
                user = services.user_signup(
                    name=name,
                    id_number=make_id_number(county, birth, seq),
                    mobile=mobile,
                    password=DEMO_PASSWORD,
                )
            services.person_region_set(person_id=user.person_id, region_code=region)
            users[mobile] = user
        regions = {mobile: region for mobile, *_rest, region in CITIZENS}
        for owner_mobile, name, county, birth, seq, relation in FAMILY:
            # Given as a family gives it: consent (or, for the child, the
            # household register) recorded at the region's counter.
            demo_family_authority(
                owner=users[owner_mobile].person,
                id_number=make_id_number(county, birth, seq),
                name=name,
                relation=relation,
                region_code=regions[owner_mobile],
            )
        return users

    def enrollments(self, users):
        """One callable per person (each runs in its own transaction)."""
        from core.errors import DomainError
        from core.identity import make_id_number
        from enrollment import services
        from enrollment.models import Enrollment, EnrollmentStatus
        from people.models import AuthorityStatus, FamilyLink

        today = timezone.localdate()

        def live(person, year):
            return Enrollment.objects.filter(
                person=person,
                year=year,
                status__in=(EnrollmentStatus.REGISTERED, EnrollmentStatus.ACTIVE),
            ).first()

        def resident(user, person, region, year, *, paid=True, category="ordinary"):
            if live(person, year) is not None:
                return
            registered_on = dt.date(year - 1, 10, 8)
            # Past years are registered as in their window; a year whose window
            # is open today is registered today (still to be paid).
            when = registered_on if paid else today
            try:
                enrollment = services.enrollment_register_resident(
                    actor=user,
                    person=person,
                    region=region,
                    year=year,
                    category=category,
                    today=when,
                )
            except DomainError as error:
                self.stdout.write(f"  skipped {person.name} {year}: {error.message}")
                return
            if paid:
                # Paid at the region's counter on the day of registration,
                # so the payment history and the receipt show it.
                paid_at_counter = payments_demo.counter_paid(
                    enrollment=enrollment,
                    on=registered_on,
                    key=f"DEMO-{person.pk}-{year}",
                )
                if paid_at_counter is None:
                    services.enrollment_activate(
                        enrollment_id=enrollment.pk,
                        paid_on=registered_on,
                        reference=f"DEMO-{person.pk}-{year}",
                    )

        def flexible(user, person, region, year, base, months):
            enrollment = live(person, year)
            if enrollment is None:
                enrollment = services.enrollment_register_flexible(
                    actor=user,
                    person=person,
                    region=region,
                    year=year,
                    base=base,
                    today=dt.date(year, 1, 5),
                )
            for month in months:
                period = f"{year}-{month:02d}"
                # Each month paid at the counter on the 10th: a payment, a
                # receipt and a line in the history, as for a real citizen.
                paid_at_counter = payments_demo.counter_paid(
                    enrollment=enrollment,
                    on=dt.date(year, month, 10),
                    key=f"DEMO-{person.pk}-{period}",
                )
                if paid_at_counter is None:  # no clerk, or paid before
                    services.enrollment_flexible_month_paid(
                        enrollment_id=enrollment.pk,
                        period=period,
                        paid_on=dt.date(year, month, 10),
                        reference=f"DEMO-{person.pk}-{period}",
                    )

        zhang = users["13800000001"]
        family = {
            link.relative.name: link.relative
            for link in FamilyLink.objects.filter(
                owner=zhang.person, status=AuthorityStatus.GRANTED
            ).select_related("relative")
        }
        window_2027_open = dt.date(2026, 9, 1) <= today <= dt.date(2026, 12, 31)

        def seed_zhang():
            for person in [zhang.person, *family.values()]:
                if person.name == NEWBORN[1]:
                    continue
                for year in (2025, 2026):
                    resident(zhang, person, "340100", year)
            if window_2027_open:
                resident(zhang, zhang.person, "340100", 2027, paid=False)
                if "王芳" in family:
                    resident(
                        zhang,
                        family["王芳"],
                        "340100",
                        2027,
                        paid=False,
                        category="monitored",
                    )

        def seed_newborn():
            owner_mobile, name, county, seq = NEWBORN
            if name in family:
                return
            try:
                services.enrollment_register_newborn(
                    actor=zhang,
                    owner=zhang.person,
                    name=name,
                    id_number=make_id_number(county, self.newborn_birth(), seq),
                    birth_certificate=NEWBORN_CERTIFICATE,
                    region="340100",
                    year=today.year,
                    today=today,
                )
            except DomainError as error:
                self.stdout.write(f"  skipped the newborn: {error.message}")

        li = users["13800000002"]

        def seed_li():
            flexible(li, li.person, "110000", 2025, Decimal("12000.00"), range(1, 13))
            flexible(
                li,
                li.person,
                "110000",
                2026,
                Decimal("12000.00"),
                range(1, min(today.month, 12) + 1)
                if today.year == 2026
                else range(1, 13),
            )

        chen = users["13800000003"]

        def seed_chen():
            mother = FamilyLink.objects.get(
                owner=chen.person,
                relative__name="刘秀英",
                status=AuthorityStatus.GRANTED,
            ).relative
            resident(chen, chen.person, "370200", 2025)  # then no 2026: a year's gap
            for year in (2025, 2026):
                resident(chen, mother, "370200", year)
            if window_2027_open:
                resident(chen, chen.person, "370200", 2027, paid=False)

        huang = users["13800000004"]

        def seed_huang():
            resident(huang, huang.person, "350100", 2026)

        return [seed_zhang, seed_newborn, seed_li, seed_chen, seed_huang]
