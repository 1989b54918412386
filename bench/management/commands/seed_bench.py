"""Load a city's worth of data into PostgreSQL for `make bench`.

    python manage.py seed_bench --persons 1000000
    python manage.py seed_bench --persons 20000 --reset

Persons (valid identity numbers), families of three (an owner with a login, a
spouse and a child), three benefit years of residents' enrollments for
everyone, and one "bench family" with ten years of enrollments (the history and
coverage pages are measured on it). Payments and transfers in flight are added
when those apps' models exist (see `_optional_seeders`).

Persons, logins and family links go in with COPY (psycopg 3 `cursor.copy`);
enrollments with one INSERT … SELECT on the server. Every column not set here
gets the model field's default, so a new field with a default does not break
the seed.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from decimal import Decimal

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone

from core.identity import make_id_number

# County-level codes (the first six digits of an identity number) and the city
# (pooling region) that insures people born there. Hefei gets most people.
BIRTH_COUNTIES = [
    ("340102", "340100"),
    ("340103", "340100"),
    ("340104", "340100"),
    ("340111", "340100"),
    ("340121", "340100"),
    ("340122", "340100"),
    ("340123", "340100"),
    ("340124", "340100"),
    ("110101", "110000"),
    ("110102", "110000"),
    ("110105", "110000"),
    ("110108", "110000"),
    ("370202", "370200"),
    ("370203", "370200"),
    ("370211", "370200"),
    ("350102", "350100"),
    ("350103", "350100"),
    ("350104", "350100"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红鹏辉建国建华文斌宇浩然欣怡子涵梓萱雨桐思远嘉懿俊杰博文晨阳一诺"
BENCH_OWNER_USERNAME = "bench_family"
BENCH_STAFF_USERNAME = "bench_clerk"
BENCH_PASSWORD = "bench-password-2026"
RECENT_YEARS = (2024, 2025, 2026)
LATEST_BIRTH = dt.date(2025, 12, 31)
FAMILY_YEARS = tuple(range(2017, 2027))  # the bench family: ten years


def _field_default(field: models.Field):
    if field.has_default():
        return field.get_default()
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return timezone.now()
    if field.null:
        return None
    if isinstance(field, (models.CharField, models.TextField)) and field.blank:
        return ""
    raise CommandError(
        f"seed_bench does not know a value for {field.model.__name__}.{field.name}"
    )


def _columns(model, values: dict) -> tuple[list[str], list]:
    """Every concrete column of `model` with the value given or the field's default."""
    names, defaults = [], []
    for field in model._meta.concrete_fields:
        if (
            field.primary_key
            and field.name not in values
            and field.attname not in values
        ):
            continue
        names.append(field.column)
        if field.name in values:
            defaults.append(values[field.name])
        elif field.attname in values:
            defaults.append(values[field.attname])
        else:
            defaults.append(_field_default(field))
    return names, defaults


class Copier:
    """COPY rows of one model, columns in model order, defaults filled in once."""

    def __init__(self, cursor, model, fields: list[str]):
        template = dict.fromkeys(fields)
        self.columns, self.defaults = _columns(model, template)
        by_name = {f.name: f.column for f in model._meta.concrete_fields} | {
            f.attname: f.column for f in model._meta.concrete_fields
        }
        self.positions = [self.columns.index(by_name[name]) for name in fields]
        cols = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        self.copy = cursor.copy(f"COPY {model._meta.db_table} ({cols}) FROM STDIN")
        self.count = 0

    def __enter__(self):
        self._cm = self.copy.__enter__()
        return self

    def write(self, *values):
        row = list(self.defaults)
        for position, value in zip(self.positions, values, strict=True):
            row[position] = value
        self._cm.write_row(row)
        self.count += 1

    def __exit__(self, *exc):
        return self.copy.__exit__(*exc)


class Command(BaseCommand):
    help = "Load persons, families and enrollments (and payments/transfers when they exist) for the benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=20000)
        parser.add_argument(
            "--reset",
            action="store_true",
            help="truncate the portal's data first (bench databases only)",
        )
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--checked",
            action="store_true",
            help="keep foreign-key triggers on while loading (slower; the same data)",
        )

    def handle(
        self,
        *args,
        persons: int,
        reset: bool,
        seed: int,
        checked: bool = False,
        **options,
    ):
        fast = not checked
        if connection.vendor != "postgresql":
            raise CommandError(
                "seed_bench needs PostgreSQL (DATABASE_URL=postgres://…)."
            )
        if persons < 30:
            raise CommandError("--persons must be at least 30.")
        from people.models import Person, User

        db_name = connection.settings_dict["NAME"]
        started = time.monotonic()
        existing = Person.objects.count()
        if existing and not reset:
            seeded = User.objects.filter(username=BENCH_OWNER_USERNAME).exists()
            if seeded and existing >= persons:
                self.stdout.write(
                    f"seed_bench: {db_name} already holds {existing} persons; nothing to do."
                )
                return
            raise CommandError(
                f"{db_name} already holds {existing} persons. Rerun with --reset to truncate and load {persons}."
            )
        if reset:
            if "bench" not in db_name:
                raise CommandError(
                    f"--reset truncates every table; refused on a database not named *bench* ({db_name})."
                )
            self._truncate()
            self._say("truncated", started)

        rng = random.Random(seed)
        self.persons = persons
        self.notes = {}
        self._reference_data()
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg 3 cursor, for COPY
            if fast:
                # Foreign keys are checked by per-row triggers queued to commit:
                # millions of queued events dominate the load. Every foreign key
                # value here comes from a join on the referenced table, so the
                # triggers are skipped for this transaction only (CHECK, UNIQUE
                # and NOT NULL constraints still hold). --checked keeps them.
                cursor.execute("SET LOCAL session_replication_role = replica")
            self._persons(raw, persons, rng)
            self._say(
                f"{persons} persons, {persons // 3} logins, {2 * (persons // 3)} family links",
                started,
            )
            self._enrollments(cursor)
            self._say("enrollments", started)
            for name, seeder in self._optional_seeders():
                note = seeder(cursor, raw, rng)
                self.notes[name] = note
                self._say(f"{name}: {note}", started)
            self._bench_users(cursor)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self._say(f"done: {persons} persons in {db_name}", started, final=True)

    # --- phases ------------------------------------------------------------------

    def _say(self, what: str, started: float, final: bool = False):
        elapsed = time.monotonic() - started
        self.stdout.write(f"seed_bench: {what} ({elapsed:.1f} s)")
        if final:
            self.elapsed = elapsed

    def _truncate(self):
        tables = []
        for model in apps.get_models(include_auto_created=True):
            app = model._meta.app_label
            if app in {
                "core",
                "people",
                "enrollment",
                "payments",
                "transfers",
                "bench",
                "auditlog",
                "axes",
                "sessions",
            }:
                if model._meta.managed and not model._meta.proxy:
                    tables.append(model._meta.db_table)
        keep = {
            "core_region",
            "core_calendarday",
            "core_calendaryear",
            "enrollment_policy",
            "enrollment_policycategory",
        }
        tables = sorted(set(tables) - keep)
        with connection.cursor() as cursor:
            existing = set(connection.introspection.table_names(cursor))
            quoted = ", ".join(
                connection.ops.quote_name(t) for t in tables if t in existing
            )
            cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")

    def _reference_data(self):
        from enrollment.policy_data import REGIONS, policy_seed, regions_seed

        regions_seed()
        for code, _name, _province in REGIONS:
            for year in range(FAMILY_YEARS[0] - 1, RECENT_YEARS[-1] + 2):
                policy_seed(code, year)

    def _persons(self, raw, count: int, rng: random.Random):
        from people.models import FamilyLink, Person, User

        now = timezone.now()
        password = make_password(BENCH_PASSWORD)
        next_seq: dict[tuple[str, dt.date], list[int]] = {}
        base = dt.date(1950, 1, 1)

        def id_for(county: str, birth: dt.date, male: bool) -> str:
            counters = next_seq.setdefault(
                (county, birth), [1, 0]
            )  # next odd, next even
            slot = 0 if male else 1
            seq = counters[slot]
            if seq > 999:
                raise CommandError("ran out of sequence numbers; lower --persons")
            counters[slot] += 2
            return make_id_number(county, birth, seq)

        def name() -> str:
            return rng.choice(SURNAMES) + "".join(
                rng.choice(GIVEN) for _ in range(rng.randint(1, 2))
            )

        families = count // 3
        with Copier(
            raw,
            Person,
            [
                "id",
                "id_number",
                "name",
                "sex",
                "birth_date",
                "mobile",
                "region",
                "created_at",
            ],
        ) as persons:
            pk = 0
            for family in range(families + (1 if count % 3 else 0)):
                county, city = (
                    BIRTH_COUNTIES[rng.randrange(len(BIRTH_COUNTIES))]
                    if family
                    else BIRTH_COUNTIES[2]
                )
                owner_birth = base + dt.timedelta(days=rng.randrange(365 * 50))
                members = [
                    (owner_birth, rng.random() < 0.5),
                    (owner_birth + dt.timedelta(days=rng.randrange(-1500, 1500)), None),
                    (
                        owner_birth
                        + dt.timedelta(days=365 * 22 + rng.randrange(365 * 12)),
                        rng.random() < 0.5,
                    ),
                ]
                owner_male = members[0][1]
                members[1] = (members[1][0], not owner_male)
                for birth, male in members:
                    if pk >= count:
                        break
                    if (
                        birth > LATEST_BIRTH
                    ):  # a child not born yet: born some day this century
                        birth = dt.date(2000, 1, 1) + dt.timedelta(
                            days=rng.randrange(365 * 25)
                        )
                    pk += 1
                    persons.write(
                        pk,
                        id_for(county, birth, male),
                        name(),
                        "M" if male else "F",
                        birth,
                        f"139{pk:08d}",
                        city,
                        now,
                    )
        with Copier(
            raw,
            User,
            [
                "password",
                "username",
                "is_active",
                "date_joined",
                "person",
                "mobile",
                "role",
                "region",
            ],
        ) as users:
            for family in range(families):
                owner = family * 3 + 1
                mobile = f"138{family:08d}"
                username = BENCH_OWNER_USERNAME if family == 0 else mobile
                users.write(
                    password, username, True, now, owner, mobile, "citizen", None
                )
        with Copier(
            raw, FamilyLink, ["owner", "relative", "relation", "created_at"]
        ) as links:
            for family in range(families):
                owner = family * 3 + 1
                links.write(owner, owner + 1, "spouse", now)
                links.write(owner, owner + 2, "child", now)
        for model in (Person, User, FamilyLink):
            self._reset_sequence(model)

    def _reset_sequence(self, model):
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)",
                [table],
            )

    def _enrollments(self, cursor):
        """Three recent years for everyone, ten for the bench family, on the server."""
        from enrollment.models import Enrollment

        overrides = {
            "person": "p.id",
            "region": "p.region_id",
            "scheme": "'resident'",
            "year": "y",
            "status": "'active'",
            "category": "'ordinary'",
            "verification": "'not_needed'",
            "coverage_start": "make_date(y, 1, 1)",
            "coverage_end": "make_date(y, 12, 31)",
            "created_at": "make_timestamptz(y - 1, 10, 15, 10, 0, 0)",
            "updated_at": "make_timestamptz(y - 1, 10, 15, 10, 0, 0)",
        }
        columns, values = self._select_list(Enrollment, overrides)
        insert = f"INSERT INTO {Enrollment._meta.db_table} ({columns}) SELECT {{select}} FROM people_person p"
        cursor.execute(
            insert.format(select=values) + " CROSS JOIN unnest(%s::int[]) AS y",
            [list(RECENT_YEARS)],
        )
        older = [year for year in FAMILY_YEARS if year not in RECENT_YEARS]
        cursor.execute(
            insert.format(select=values)
            + " CROSS JOIN unnest(%s::int[]) AS y WHERE p.id IN (1, 2, 3)",
            [older],
        )

    def _select_list(self, model, overrides: dict[str, str]) -> tuple[str, str]:
        """Column names and a SELECT list: SQL expressions for `overrides`, the
        field defaults (as literals) for the rest."""
        names, exprs = [], []
        for field in model._meta.concrete_fields:
            if field.primary_key and field.name not in overrides:
                continue
            names.append(connection.ops.quote_name(field.column))
            if field.name in overrides:
                exprs.append(overrides[field.name])
            else:
                exprs.append(self._literal(_field_default(field), field))
        return ", ".join(names), ", ".join(exprs)

    @staticmethod
    def _literal(value, field) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, (int, Decimal, float)):
            return str(value)
        if isinstance(value, dt.datetime):
            return f"'{value.isoformat()}'::timestamptz"
        if isinstance(value, dt.date):
            return f"'{value.isoformat()}'::date"
        if isinstance(value, (list, dict)):
            import json

            return "'" + json.dumps(value).replace("'", "''") + "'::jsonb"
        return "'" + str(value).replace("'", "''") + "'"

    def _optional_seeders(self):
        """Payments and transfers, once their apps define the models (None until then)."""
        found = []
        from bench import seeding as optional

        for name in ("payments", "transfers"):
            seeder = getattr(optional, f"seed_{name}")
            if optional.available(name):
                found.append(
                    (
                        name,
                        lambda cursor, raw, rng, seeder=seeder: optional.guarded(
                            seeder, self, cursor
                        ),
                    )
                )
            else:
                self.stdout.write(f"seed_bench: {name}: models not there yet, skipped")
        return found

    def _bench_users(self, cursor):
        """A clerk of 合肥 who may view and change every model (the admin search case)."""
        from django.contrib.auth.models import Permission

        from people.models import User

        clerk, _ = User.objects.get_or_create(
            username=BENCH_STAFF_USERNAME,
            defaults={
                "role": "clerk",
                "region_id": "340100",
                "is_staff": True,
                "password": make_password(BENCH_PASSWORD),
            },
        )
        clerk.user_permissions.set(
            Permission.objects.filter(codename__regex=r"^(view|change)_")
        )
