"""Load a city's worth of data into PostgreSQL for `make bench`.

    python manage.py seed_bench --persons 1000000 -v 2     # -v 2: each statement's time
    python manage.py seed_bench --persons 20000 --reset

Persons (valid identity numbers), families of three (an owner with a login, a
spouse and a child, each under a granted authority of the owner), three
benefit years of residents' enrollments for everyone, paid (order, attempt,
event, paid period, receipt, contribution months, the enrollment's activation
event), one "bench family" with ten years of enrollments (the history and
coverage pages are measured on it), and the benefit year 2027 in flight for
the payment cases (bench/seeding.py).

One transaction, built for speed (findings in bench/NOTES.md):
- the portal's tables are truncated in it (a failed seed changes nothing);
- every row is generated on the server with INSERT … SELECT, persons
  included (identity numbers and their check characters computed in SQL): no
  row crosses the wire, where generating them in Python and sending them with
  COPY was bound by Python;
- foreign-key triggers are skipped for the transaction (`SET LOCAL
  session_replication_role = replica`): every foreign key value comes from a
  join on the referenced table; CHECK, UNIQUE and NOT NULL still hold
  (`--checked` keeps the triggers);
- the bulk tables' secondary indexes and unique constraints are dropped first
  and built again at the end (one sort each instead of millions of inserts
  into a b-tree); primary keys stay (ids are appended in order);
- ANALYZE of persons and enrollments before the joins, of everything after
  the commit.

Every column not set here gets the model field's default, so a new field with
a default does not break the seed; a new field without one stops it with the
field's name.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from decimal import Decimal
from pathlib import Path

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone

from core.identity import check_character

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

# The tables the seed fills in bulk: their secondary indexes are rebuilt after the load.
BULK_MODELS = (
    "people.Person",
    "people.User",
    "people.FamilyLink",
    "enrollment.Enrollment",
    "enrollment.EnrollmentEvent",
    "enrollment.ContributionMonths",
    "payments.Order",
    "payments.Payment",
    "payments.PaymentEvent",
    "payments.PaidPeriod",
    "payments.Receipt",
)
# Apps whose rows the seed owns (truncated first); the reference tables stay.
SEEDED_APPS = {
    "core",
    "people",
    "enrollment",
    "payments",
    "transfers",
    "records",
    "bench",
    "auditlog",
    "axes",
    "sessions",
}
REFERENCE_TABLES = {
    "core_region",
    "core_calendarday",
    "core_calendaryear",
    "enrollment_policy",
    "enrollment_policycategory",
    "records_lifetimerequirement",
}


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


def eighteenth_birthday(born: dt.date) -> dt.date:
    try:
        return born.replace(year=born.year + 18)
    except ValueError:  # 29 February
        return dt.date(born.year + 18, 3, 1)


class TimedCursor:
    """A cursor that says how long each statement took (-v 2)."""

    def __init__(self, cursor, command, *, show: bool):
        self.cursor, self.command, self.show = cursor, command, show

    def execute(self, sql, params=None):
        started = time.monotonic()
        self.cursor.execute(sql, params)
        if self.show:
            what = " ".join(sql.split())[:90]
            self.command.stdout.write(
                f"    {time.monotonic() - started:7.2f} s  {self.cursor.rowcount:>9}  {what}"
            )

    def __getattr__(self, name):
        return getattr(self.cursor, name)


class Command(BaseCommand):
    help = "Load persons, families, enrollments and payments for the benchmarks."

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
        if reset and "bench" not in db_name:
            raise CommandError(
                f"--reset truncates every table; refused on a database not named *bench* ({db_name})."
            )
        self.persons = persons
        self.phases: dict[str, float] = {}
        self.notes: dict[str, str] = {}
        self._reference_data()
        with transaction.atomic(), connection.cursor() as django_cursor:
            cursor = TimedCursor(django_cursor, self, show=options["verbosity"] >= 2)
            # Truncated inside the transaction: a seed that fails leaves the
            # database as it was.
            self._truncate(cursor)
            self._say("truncated", started)
            if not checked:
                # Foreign keys are checked by per-row triggers queued to commit:
                # millions of queued events dominate the load. Every foreign key
                # value here comes from a join on the referenced table, so the
                # triggers are skipped for this transaction only (CHECK, UNIQUE
                # and NOT NULL constraints still hold). --checked keeps them.
                cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute("SET LOCAL work_mem = '64MB'")
            dropped = self._drop_indexes(cursor)
            self._say(f"dropped {len(dropped)} indexes and constraints", started)
            self._persons(cursor, persons, seed)
            self._say(
                f"{persons} persons, {persons // 3} logins, {2 * (persons // 3)} family links",
                started,
            )
            self._enrollments(cursor)
            self._say("enrollments, their events and contribution months", started)
            from bench import seeding

            self.notes["payments"] = seeding.seed_payments(self, cursor)
            self._say(f"payments: {self.notes['payments']}", started)
            self._rebuild_indexes(cursor, dropped)
            self._say(f"rebuilt {len(dropped)} indexes and constraints", started)
            self._reset_sequences(cursor)
            self._bench_users()
        self._say("committed", started)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self._say(f"done: {persons} persons in {db_name}", started, final=True)

    # --- phases ------------------------------------------------------------------

    def _say(self, what: str, started: float, final: bool = False):
        elapsed = time.monotonic() - started
        self.phases[what.split(":")[0]] = round(elapsed, 1)
        cpu = self._cpu_seconds()
        self.stdout.write(
            f"seed_bench: {what} ({elapsed:.1f} s; CPU: this process "
            f"{time.process_time():.1f} s, its PostgreSQL backend {cpu:.1f} s)"
            if cpu is not None
            else f"seed_bench: {what} ({elapsed:.1f} s)"
        )
        if final:
            self.elapsed = elapsed

    def _cpu_seconds(self) -> float | None:
        """CPU time of this connection's PostgreSQL backend (local server on
        Linux only), so a seed on a busy machine still tells what it cost."""
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return None

    def _truncate(self, cursor):
        tables = []
        for model in apps.get_models(include_auto_created=True):
            if model._meta.app_label in SEEDED_APPS:
                if model._meta.managed and not model._meta.proxy:
                    tables.append(model._meta.db_table)
        tables = sorted(set(tables) - REFERENCE_TABLES)
        existing = set(connection.introspection.table_names(cursor))
        quoted = ", ".join(
            connection.ops.quote_name(t) for t in tables if t in existing
        )
        cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")

    def _reference_data(self):
        from enrollment.policy_data import REGIONS, policy_seed, regions_seed

        regions_seed()
        for code, *_names in REGIONS:
            for year in range(FAMILY_YEARS[0] - 1, RECENT_YEARS[-1] + 2):
                policy_seed(code, year)

    @staticmethod
    def _bulk_tables() -> list[str]:
        return [apps.get_model(label)._meta.db_table for label in BULK_MODELS]

    def _drop_indexes(self, cursor) -> list[tuple[str, str, str]]:
        """Drop the bulk tables' secondary indexes and unique constraints (not
        the primary keys, which the foreign keys depend on: their ids are
        appended in order, cheap to keep); return how to build them again:
        (table, constraint name or "", definition). Maintaining a b-tree row
        by row costs more than the insert itself; one sort per index at the
        end costs a fraction of that."""
        cursor.execute(
            """
            SELECT t.relname, i.relname, pg_get_indexdef(i.oid),
                   c.conname, pg_get_constraintdef(c.oid)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            LEFT JOIN pg_constraint c ON c.conindid = i.oid AND c.conrelid = t.oid
                AND c.contype IN ('p', 'u')
            WHERE t.relname = ANY(%s) AND t.relnamespace = 'public'::regnamespace
              AND NOT x.indisprimary
              AND NOT EXISTS (
                SELECT 1 FROM pg_constraint f
                WHERE f.contype = 'f' AND f.conindid = i.oid)
            ORDER BY t.relname, i.relname
            """,
            [self._bulk_tables()],
        )
        quote = connection.ops.quote_name
        dropped = []
        for table, index, index_def, constraint, constraint_def in cursor.fetchall():
            if constraint:
                cursor.execute(
                    f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(constraint)}"
                )
                dropped.append((table, constraint, constraint_def))
            else:
                cursor.execute(f"DROP INDEX {quote(index)}")
                dropped.append((table, "", index_def))
        return dropped

    def _rebuild_indexes(self, cursor, dropped):
        quote = connection.ops.quote_name
        for table, constraint, definition in dropped:
            if constraint:
                cursor.execute(
                    f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(constraint)} {definition}"
                )
            else:
                cursor.execute(definition)

    def _persons(self, cursor, count: int, seed: int):
        """Persons, the owners' logins and the family links, generated on the
        server: family f holds persons 3f+1 (the owner), 3f+2 (the spouse)
        and 3f+3 (a child); family 0 is the bench family."""
        from people.models import ALL_SCOPES, FamilyLink, Person, User

        families = -(-count // 3)
        counties = ", ".join(
            f"({i}, '{county}', '{city}')"
            for i, (county, city) in enumerate(BIRTH_COUNTIES)
        )
        cursor.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
        latest = LATEST_BIRTH.isoformat()
        cursor.execute(
            f"""
            CREATE TEMP TABLE bench_family ON COMMIT DROP AS
            SELECT f, c.county, c.city, owner_birth, owner_male,
                   owner_birth + spouse_offset AS spouse_birth,
                   CASE WHEN owner_birth + child_offset > date '{latest}'
                        THEN date '2000-01-01' + child_fallback
                        ELSE owner_birth + child_offset END AS child_birth,
                   child_male
            FROM (
                SELECT f,
                       CASE WHEN f = 0 THEN 2
                            ELSE floor(random() * {len(BIRTH_COUNTIES)})::int END AS ix,
                       date '1950-01-01' + floor(random() * 365 * 50)::int AS owner_birth,
                       random() < 0.5 AS owner_male,
                       floor(random() * 3000)::int - 1500 AS spouse_offset,
                       365 * 22 + floor(random() * 365 * 12)::int AS child_offset,
                       floor(random() * 365 * 25)::int AS child_fallback,
                       random() < 0.5 AS child_male
                FROM generate_series(0, %s) AS f
            ) fam
            JOIN (VALUES {counties}) AS c (ix, county, city) USING (ix)
            """,
            [families - 1],
        )
        # Identity numbers: county, birth date, a sequence number unique per
        # county, day and sex (odd for men), the ISO 7064 check character.
        weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
        checksum = " + ".join(
            f"substr(first17, {i + 1}, 1)::int * {w}" for i, w in enumerate(weights)
        )

        def pick(alphabet: str) -> str:
            return (
                f"substr('{alphabet}', 1 + floor(random() * {len(alphabet)})::int, 1)"
            )

        columns, values = self._select_list(
            Person,
            {
                "id": "id",
                "id_number": f"first17 || substr('10X98765432', mod({checksum}, 11) + 1, 1)",
                "name": f"{pick(SURNAMES)} || {pick(GIVEN)} "
                f"|| CASE WHEN random() < 0.5 THEN {pick(GIVEN)} ELSE '' END",
                "sex": "CASE WHEN male THEN 'M' ELSE 'F' END",
                "birth_date": "birth",
                "mobile": "'139' || lpad(id::text, 8, '0')",
                "region": "city",
                "created_at": "now()",
            },
        )
        cursor.execute(
            f"""
            INSERT INTO {Person._meta.db_table} ({columns})
            SELECT {values} FROM (
                SELECT id, city, birth, male,
                       county || to_char(birth, 'YYYYMMDD') || lpad((
                           2 * row_number() OVER (
                               PARTITION BY county, birth, male ORDER BY id)
                           - CASE WHEN male THEN 1 ELSE 2 END)::text, 3, '0') AS first17
                FROM (
                    SELECT 3 * f + k AS id, county, city,
                           CASE k WHEN 1 THEN owner_birth
                                  WHEN 2 THEN spouse_birth
                                  ELSE child_birth END AS birth,
                           CASE k WHEN 1 THEN owner_male
                                  WHEN 2 THEN NOT owner_male
                                  ELSE child_male END AS male
                    FROM bench_family CROSS JOIN generate_series(1, 3) AS k
                    WHERE 3 * f + k <= %s
                ) member
            ) numbered
            ORDER BY id
            """,
            [count],
        )
        # The check characters computed in SQL, held against core.identity's.
        cursor.execute(
            f"SELECT id_number FROM {Person._meta.db_table} WHERE mod(id, 997) = 1"
        )
        wrong = [n for (n,) in cursor.fetchall() if check_character(n[:17]) != n[17]]
        if wrong:
            raise CommandError(
                f"identity numbers with a wrong check character: {wrong[:3]}"
            )
        full = "FROM bench_family WHERE f < %s"
        columns, values = self._select_list(
            User,
            {
                "password": "%s",
                "username": f"CASE WHEN f = 0 THEN '{BENCH_OWNER_USERNAME}' "
                "ELSE '138' || lpad(f::text, 8, '0') END",
                "is_active": "TRUE",
                "date_joined": "now()",
                "person": "3 * f + 1",
                "mobile": "'138' || lpad(f::text, 8, '0')",
                "role": "'citizen'",
            },
        )
        cursor.execute(
            f"INSERT INTO {User._meta.db_table} ({columns}) SELECT {values} {full} ORDER BY f",
            [make_password(BENCH_PASSWORD), count // 3],
        )
        # Each owner holds a granted authority for the spouse (their consent)
        # and the child (an adult child's consent; a minor's proven by the
        # birth certificate, ending on the 18th birthday), for every scope.
        adult_on = (
            "CASE WHEN to_char(child_birth, 'MM-DD') = '02-29'"
            " THEN make_date(extract(year FROM child_birth)::int + 18, 3, 1)"
            " ELSE (child_birth + interval '18 years')::date END"
        )
        scopes = self._literal(list(ALL_SCOPES), None)
        for relative, relation, basis, ends_on in (
            (2, "spouse", "'consent'", "NULL::date"),
            (
                3,
                "child",
                f"CASE WHEN {adult_on} > %s THEN 'birth_certificate' ELSE 'consent' END",
                f"CASE WHEN {adult_on} > %s THEN {adult_on} END",
            ),
        ):
            columns, values = self._select_list(
                FamilyLink,
                {
                    "owner": "3 * f + 1",
                    "relative": f"3 * f + {relative}",
                    "relation": f"'{relation}'",
                    "status": "'granted'",
                    "basis": basis,
                    "scopes": scopes,
                    "ends_on": ends_on,
                    "created_at": "now()",
                    "decided_at": "now()",
                },
            )
            today = timezone.localdate()
            params = [today, today] if relative == 3 else []
            cursor.execute(
                f"INSERT INTO {FamilyLink._meta.db_table} ({columns}) "
                f"SELECT {values} {full} ORDER BY f",
                [*params, count // 3],
            )

    def _reset_sequences(self, cursor):
        from bench import seeding

        for label in BULK_MODELS:
            seeding.reset_sequence(cursor, apps.get_model(label))

    def _enrollments(self, cursor):
        """Three recent years for everyone, ten for the bench family, each paid
        in October of the year before (activated: benefit dates, paid_on), with
        its activation event and its twelve months in the
        contribution-months ledger; on the server."""
        from enrollment.models import ContributionMonths, Enrollment, EnrollmentEvent

        paid_at = "make_timestamptz(y - 1, 10, 15, 10, 0, 0)"
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
            "paid_on": "make_date(y - 1, 10, 15)",
            "created_at": "make_timestamptz(y - 1, 10, 1, 9, 0, 0)",
            "updated_at": paid_at,
        }
        columns, values = self._select_list(Enrollment, overrides)
        insert = f"INSERT INTO {Enrollment._meta.db_table} ({columns}) SELECT {values} FROM people_person p"
        older = [year for year in FAMILY_YEARS if year not in RECENT_YEARS]
        cursor.execute(
            insert + " CROSS JOIN unnest(%s::int[]) AS y WHERE p.id IN (1, 2, 3)",
            [older],
        )
        cursor.execute(
            insert + " CROSS JOIN unnest(%s::int[]) AS y", [list(RECENT_YEARS)]
        )
        # Statistics for the joins that follow (the tables were empty when
        # the transaction began: the planner would guess nested loops).
        cursor.execute("ANALYZE people_person, enrollment_enrollment")
        active = "FROM enrollment_enrollment e WHERE e.status = 'active'"
        # The activation's event (the registration's is left out: 3 million
        # rows that no page reads, at a million persons).
        for from_status, to_status, at, reason in (
            ("registered", "active", "e.updated_at", "缴费成功"),
        ):
            columns, values = self._select_list(
                EnrollmentEvent,
                {
                    "enrollment": "e.id",
                    "from_status": f"'{from_status}'",
                    "to_status": f"'{to_status}'",
                    "reason": f"'{reason}'",
                    "at": at,
                },
            )
            cursor.execute(
                f"INSERT INTO {EnrollmentEvent._meta.db_table} ({columns}) SELECT {values} {active}"
            )
        from bench.seeding import payment_reference

        columns, values = self._select_list(
            ContributionMonths,
            {
                "person": "e.person_id",
                "region": "e.region_id",
                "kind": "'actual'",
                "months": "12",
                "scheme": "'resident'",
                "first_month": "make_date(e.year, 1, 1)",
                "reference": payment_reference("e.id") + " || ':months'",
                "created_at": "e.updated_at",
            },
        )
        cursor.execute(
            f"INSERT INTO {ContributionMonths._meta.db_table} ({columns}) SELECT {values} {active}"
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
        unknown = set(overrides) - {f.name for f in model._meta.concrete_fields}
        if unknown:
            raise CommandError(
                f"seed_bench sets {model.__name__} fields that no longer exist: {sorted(unknown)}"
            )
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

    def _bench_users(self):
        """A clerk of 合肥 for the admin search case: a login like any clerk's,
        its permissions those of the clerks' group (portal.roles puts it there
        when it is saved)."""
        from people.models import User

        User.objects.get_or_create(
            username=BENCH_STAFF_USERNAME,
            defaults={
                "role": "clerk",
                "region_id": "340100",
                "is_staff": True,
                "password": make_password(BENCH_PASSWORD),
            },
        )
