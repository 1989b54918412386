"""The cases of `make bench`: what each measures, against which baseline, and
the target of issue 13 it is held to.

A case whose code is not there yet (a page not written, an endpoint missing)
records `note` and `errors` instead of a figure: nothing is faked.
"""

from __future__ import annotations

import secrets
import statistics
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path

from django.urls import NoReverseMatch, reverse

SESSIONS_PER_CASE = (
    64  # distinct logged-in sessions, so 32 connections do not queue on one session row
)


class NotReady(Exception):
    """The code a case drives does not exist (yet); the message says what is missing."""


@dataclass
class Context:
    base_url: str
    results_dir: Path
    tmp: Path
    services: object
    csrf: str = ""
    read_pk: int = 1
    family_sessions: list[str] = field(default_factory=list)
    clerk_sessions: list[str] = field(default_factory=list)
    family_owner_id: int = 0
    persons: int = 0
    owner_sessions: dict = field(default_factory=dict)

    def prepare(self):
        from django.contrib.auth import get_user_model

        from bench.management.commands.seed_bench import (
            BENCH_OWNER_USERNAME,
            BENCH_STAFF_USERNAME,
        )

        User = get_user_model()
        owner = User.objects.get(username=BENCH_OWNER_USERNAME)
        clerk = User.objects.get(username=BENCH_STAFF_USERNAME)
        self.read_pk = owner.person_id
        self.family_owner_id = owner.person_id
        self.csrf = secrets.token_hex(16)  # 32 characters: a valid unmasked CSRF secret
        self.family_sessions = [session_for(owner) for _ in range(SESSIONS_PER_CASE)]
        self.clerk_sessions = [session_for(clerk) for _ in range(SESSIONS_PER_CASE)]
        from people.models import Person

        self.persons = Person.objects.count()
        from django.db import connection

        connection.close()

    def headers(self, session: str | None = None) -> dict:
        cookie = f"csrftoken={self.csrf}"
        if session:
            cookie += f"; sessionid={session}"
        return {"Cookie": cookie, "X-CSRFToken": self.csrf}

    def requests_file(self, name: str, rows: list[tuple[str, str, dict, str]]) -> Path:
        """Write wrk's request file: one distinct request per line."""
        path = self.tmp / f"{name}.requests"
        with path.open("w") as out:
            for method, path_, headers, body in rows:
                header_text = "|".join(f"{k}: {v}" for k, v in headers.items())
                out.write(f"{method}\t{path_}\t{header_text}\t{body}\n")
        return path


def session_for(user) -> str:
    """A logged-in session, as django.contrib.auth.login would create it."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.set_expiry(4 * 3600)
    store.save(must_create=True)
    return store.session_key


def first_url(*names, **kwargs) -> str:
    for name in names:
        try:
            return reverse(name, **kwargs)
        except NoReverseMatch:
            continue
    raise NotReady(f"no URL named {' or '.join(names)}")


@dataclass
class Spec:
    """What wrk sends: one repeated request, or a file of distinct ones."""

    path: str
    method: str = "GET"
    body: str = ""
    headers: dict = field(default_factory=dict)
    rows: list | None = None  # [(method, path, headers, body)]
    expect: int | None = None


class WebCase:
    profilable = True
    method_post = False

    def __init__(
        self,
        name,
        *,
        baseline=None,
        rps_target=None,
        p99_target=None,
        build=None,
        describe="",
    ):
        self.name = name
        self.baseline = baseline
        self.rps_target = rps_target
        self.p99_target = p99_target
        self.build = build
        self.describe = describe
        self._spec = None
        self.method_post = build in (
            build_payment_submit,
            build_callback,
            build_baseline_insert,
        )

    def spec(self, ctx) -> Spec:
        if self._spec is None or self._spec.rows is not None:
            # Requests that consume state (each payment once) are built afresh.
            self._spec = self.build(ctx)
        return self._spec

    def run(self, ctx, duration, spec: Spec | None = None) -> dict:
        from bench.run import run_wrk

        spec = spec or self.spec(ctx)
        requests_file = ctx.requests_file(self.name, spec.rows) if spec.rows else None
        ctx.services.wait_idle()
        result = run_wrk(
            ctx.base_url + spec.path,
            duration=duration,
            headers=spec.headers,
            method=spec.method,
            body=spec.body,
            requests_file=requests_file,
            expect=spec.expect,
        )
        result["settle_seconds"] = ctx.services.wait_idle()
        if result["settle_seconds"] >= 30:
            ctx.services.restart_web()
            result["web_restarted"] = True
        return result

    def measure(self, ctx, duration) -> dict:
        result = {
            "name": self.name,
            "kind": "baseline" if self.baseline is None else "page",
            "describe": self.describe,
            "baseline": self.baseline,
            "rps_target": self.rps_target,
            "p99_target": self.p99_target,
        }
        try:
            spec = self.spec(ctx)
            preflight(ctx, spec)
        except NotReady as missing:
            result.update(
                rps=None, p50_ms=None, p99_ms=None, errors=None, note=str(missing)
            )
            return result
        if spec.rows is not None:
            # The preflight used the first row (a payment made, a callback
            # settled): the run sends the others, built once (the payment
            # cases' rows take minutes to build at a million persons).
            self._spec = None
            spec = replace(spec, rows=spec.rows[1:])
            if not spec.rows:
                result.update(
                    rps=None,
                    p50_ms=None,
                    p99_ms=None,
                    errors=None,
                    note="only one row to send: reseed (seed_bench --reset)",
                )
                return result
        result.update(self.run(ctx, duration, spec))
        if not result.get("requests"):
            result["errors"] = max(1, result.get("errors") or 0)
            result["note"] = (
                f"no request completed within the {duration:g} s run: each took longer "
                "(see the profile and bench/NOTES.md)"
            )
        if spec.method == "GET":
            result["queries"] = count_queries(ctx, spec)
        return result


def preflight(ctx, spec: Spec):
    """One request before the run: a wrong answer is a note, not a figure."""
    if spec.rows:
        method, path, headers, body = spec.rows[0]
    else:
        method, path, headers, body = spec.method, spec.path, spec.headers, spec.body
    request = urllib.request.Request(
        ctx.base_url + path,
        data=body.encode() if body else None,
        method=method,
        headers={
            **headers,
            "Content-Type": headers.get(
                "Content-Type", "application/x-www-form-urlencoded"
            ),
        },
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        response = opener.open(request, timeout=30)
        status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    wanted = spec.expect
    if (wanted and status != wanted) or (not wanted and not 200 <= status < 300):
        raise NotReady(
            f"{method} {path} answered {status} before the run (expected {wanted or '2xx'})"
        )


def count_queries(ctx, spec: Spec) -> int | None:
    """SQL queries of one request of the case, in-process (django.test.Client)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    method, path, headers, body = (
        spec.rows[0] if spec.rows else (spec.method, spec.path, spec.headers, spec.body)
    )
    client = Client(HTTP_HOST="127.0.0.1")
    for part in headers.get("Cookie", "").split(";"):
        if "=" in part:
            key, value = part.strip().split("=", 1)
            client.cookies[key] = value
    try:
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        return len(queries)
    finally:
        connection.close()


# --- the cases -----------------------------------------------------------------

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def build_baseline_read(ctx) -> Spec:
    return Spec(path=f"/bench/read/{ctx.read_pk}/")


def build_baseline_read_logged_in(ctx) -> Spec:
    rows = [
        ("GET", f"/bench/read/{ctx.read_pk}/", ctx.headers(s), "")
        for s in ctx.family_sessions
    ]
    return Spec(path=rows[0][1], rows=rows)


def build_chrome_logged_in(ctx) -> Spec:
    rows = [("GET", "/bench/chrome/", ctx.headers(s), "") for s in ctx.family_sessions]
    return Spec(path=rows[0][1], rows=rows)


def build_baseline_insert(ctx) -> Spec:
    return Spec(
        path="/bench/insert/",
        method="POST",
        body=f"person={ctx.read_pk}",
        headers={**ctx.headers(), **FORM},
    )


def build_coverage(ctx) -> Spec:
    path = first_url("enrollment:coverage")
    rows = [("GET", path, ctx.headers(s), "") for s in ctx.family_sessions]
    return Spec(path=path, rows=rows)


def build_history(ctx) -> Spec:
    path = first_url("payments:history")
    rows = [("GET", path, ctx.headers(s), "") for s in ctx.family_sessions]
    return Spec(path=path, rows=rows)


def build_admin_search(ctx) -> Spec:
    from people.models import Person

    path = first_url("admin:people_person_changelist")
    numbers = list(
        Person.objects.filter(region_id="340100")
        .order_by("?")
        .values_list("id_number", flat=True)[:500]
    )
    # The staff site takes a search by POST and keeps the term in the session
    # under a key (?qk=…): each clerk session holds its share of the numbers.
    from importlib import import_module

    from django.conf import settings

    from people.admin_base import SEARCH_SESSION_KEY

    engine = import_module(settings.SESSION_ENGINE)
    searches: dict[str, dict[str, str]] = {}
    rows = []
    for i, number in enumerate(numbers):
        session = ctx.clerk_sessions[i % len(ctx.clerk_sessions)]
        key = f"b{i}"
        searches.setdefault(session, {})[key] = number
        rows.append(("GET", f"{path}?qk={key}", ctx.headers(session), ""))
    for session, terms in searches.items():
        store = engine.SessionStore(session_key=session)
        store[SEARCH_SESSION_KEY] = terms
        store.save()
    from django.db import connection

    connection.close()
    return Spec(path=path, rows=rows)


def _owner_sessions(ctx, owner_person_ids) -> dict[int, str]:
    """A logged-in session per family owner (made once, reused by later passes)."""
    from django.contrib.auth import get_user_model

    missing = [pk for pk in owner_person_ids if pk not in ctx.owner_sessions]
    for user in get_user_model().objects.filter(person_id__in=missing):
        ctx.owner_sessions[user.person_id] = session_for(user)
    return ctx.owner_sessions


def build_payment_submit(ctx) -> Spec:
    """确认缴费 of a 2027 premium: one POST per still-unpaid enrollment, by the
    family owner's session, with the signed quote its pay page would have
    handed out (made here, before the run, so only the POST is measured):
    order + attempt + events + outbox row in one transaction."""
    from urllib.parse import urlencode

    from django.contrib.auth import get_user_model
    from django.db import connection

    from bench.seeding import YEAR_IN_FLIGHT, family_range
    from enrollment.models import Enrollment
    from payments import quotes, selectors, services

    path = first_url("payments:pay", kwargs={"enrollment_id": 1})
    first, last = family_range("submit", ctx.persons)
    pending = list(
        Enrollment.objects.filter(
            year=YEAR_IN_FLIGHT,
            status="registered",
            person__id__range=(first, last),
            orders__isnull=True,
        ).order_by("person_id")
    )
    if not pending:
        raise NotReady(
            "no unpaid 2027 enrollments left in the submit group: reseed (seed_bench --reset)"
        )
    owners = {(e.person_id - 1) // 3 * 3 + 1 for e in pending}
    sessions = _owner_sessions(ctx, owners)
    users = {
        user.person_id: user
        for user in get_user_model().objects.filter(person_id__in=owners)
    }
    bound = {
        owner: selectors.active_binding_relative_ids(person_id=owner)
        for owner in owners
    }
    rows = []
    for enrollment in pending:
        owner = (enrollment.person_id - 1) // 3 * 3 + 1
        # What payments.views.pay signs on the quote page, for this user.
        quote = quotes.quote_sign(
            user=users[owner],
            enrollment=enrollment,
            quote=services.quote_for_enrollment(enrollment=enrollment),
            months_ahead=1,
            repair_years=0,
            account_offered=enrollment.scheme == "resident"
            and enrollment.person_id in bound[owner],
        )
        body = urlencode(
            {
                "channel": "wechat",
                "months": 1,
                "idempotency_key": secrets.token_urlsafe(24),
                "quote": quote,
            }
        )
        rows.append(
            (
                "POST",
                path.replace("/1/", f"/{enrollment.pk}/"),
                {**ctx.headers(sessions[owner]), **FORM},
                body,
            )
        )
    connection.close()
    return Spec(path=rows[0][1], method="POST", rows=rows, expect=302)


def build_callback(ctx) -> Spec:
    """A channel's signed success callback for a submitted WeChat payment (settles
    it: paid period, enrollment activation, receipt, notification)."""
    import json
    import time

    from django.conf import settings
    from django.db import connection

    from bench.seeding import SUBMIT_REFERENCE
    from payments.models import Payment
    from payments.signing import sign

    path = first_url("payments:callback", kwargs={"channel": "wechat"})
    pending = list(
        Payment.objects.filter(
            status="submitted", channel="wechat", reference__startswith=SUBMIT_REFERENCE
        )
        .order_by("pk")
        .values_list("pk", "reference", "amount")
    )
    connection.close()
    if not pending:
        raise NotReady(
            "no submitted payments left for the callback case: reseed (seed_bench --reset)"
        )
    timestamp = str(int(time.time()))
    rows = []
    for pk, reference, amount in pending:
        body = json.dumps(
            {
                "amount": str(amount),
                "reference": reference,
                "seq": 2,
                "status": "success",
                "transaction_id": f"WXCB{pk:014d}",
                "reason": "",
            },
            sort_keys=True,
        )
        nonce = secrets.token_hex(16)
        signature = sign(
            secret=settings.PAYMENT_CALLBACK_SECRET,
            timestamp=timestamp,
            nonce=nonce,
            body=body.encode(),
        )
        headers = {
            "Content-Type": "application/json",
            "X-Timestamp": timestamp,
            "X-Nonce": nonce,
            "X-Signature": signature,
        }
        rows.append(("POST", path, headers, body))
    return Spec(path=path, method="POST", rows=rows, expect=200)


CASES = [
    WebCase(
        "baseline_read",
        build=build_baseline_read,
        describe="minimal view: one Person by primary key, small template, anonymous",
    ),
    WebCase(
        "baseline_insert",
        build=build_baseline_insert,
        describe="minimal POST: one row inserted in atomic(), CSRF-checked, anonymous",
    ),
    WebCase(
        "baseline_read_logged_in",
        baseline="baseline_read",
        build=build_baseline_read_logged_in,
        describe="the read baseline with a logged-in session (session load + user load + session save)",
    ),
    WebCase(
        "chrome_logged_in",
        baseline="baseline_read",
        build=build_chrome_logged_in,
        describe="a logged-in page rendering the empty base.html with one query: the chrome every page pays",
    ),
    WebCase(
        "history_page",
        baseline="baseline_read",
        rps_target=0.5,
        p99_target=3.0,
        build=build_history,
        describe="缴费记录 of a family with 10 years of payments",
    ),
    WebCase(
        "coverage_page",
        baseline="baseline_read",
        rps_target=0.5,
        p99_target=3.0,
        build=build_coverage,
        describe="参保信息 of a family with 10 years of enrollments and payments",
    ),
    WebCase(
        "admin_person_search",
        baseline="baseline_read",
        rps_target=0.3,
        build=build_admin_search,
        describe="staff changelist search by full identity number (a 合肥 clerk)",
    ),
    WebCase(
        "payment_submit",
        baseline="baseline_insert",
        rps_target=0.35,
        build=build_payment_submit,
        describe="order + payment creation by a logged-in citizen",
    ),
    WebCase(
        "payment_callback",
        baseline="baseline_insert",
        rps_target=0.3,
        build=build_callback,
        describe="signed channel callback settling a submitted payment",
    ),
]
BASELINES = ("baseline_read", "baseline_insert")


def second_baseline_pass(ctx, results: list[dict], duration: float):
    """Measure the baselines again and keep the mean of the two passes."""
    for case in CASES:
        if case.name not in BASELINES:
            continue
        first = next((r for r in results if r["name"] == case.name), None)
        if first is None or first.get("rps") is None:
            continue
        second = case.run(ctx, duration)
        first["passes"] = [
            {k: first[k] for k in ("rps", "p50_ms", "p99_ms", "errors")},
            {k: second[k] for k in ("rps", "p50_ms", "p99_ms", "errors")},
        ]
        for key in ("rps", "p50_ms", "p99_ms"):
            first[key] = round(statistics.mean(p[key] for p in first["passes"]), 2)
        first["errors"] = sum(p["errors"] for p in first["passes"])


def compute_ratios(results: list[dict]):
    by_name = {r["name"]: r for r in results}
    for result in results:
        base = by_name.get(result.get("baseline") or "")
        if base is None or not base.get("rps") or result.get("rps") is None:
            continue
        result["ratio"] = round(result["rps"] / base["rps"], 3)
        if result.get("p99_ms") is not None and base.get("p99_ms"):
            result["p99_ratio"] = round(result["p99_ms"] / base["p99_ms"], 2)
        met = result.get("errors") == 0
        if result.get("rps_target") is not None:
            met = met and result["ratio"] >= result["rps_target"]
        if result.get("p99_target") is not None:
            met = met and result.get("p99_ratio", 99) <= result["p99_target"]
        if result.get("rps_target") is not None or result.get("p99_target") is not None:
            result["target_met"] = met


# --- the transfer engine ---------------------------------------------------------


class TransferEngineCase:
    """Step transitions per second with one worker (concurrency 2), and the
    scan's time with 10× more not-yet-due transfers."""

    name = "transfer_engine"
    profilable = False

    def measure(self, ctx, duration) -> list[dict]:
        try:
            from bench import engine
        except ImportError as missing:
            note = f"transfer engine case unavailable: {missing}"
            return [
                self._note("transfer_engine", note),
                self._note("transfer_scan_10x", note),
            ]
        return engine.measure(ctx, duration)

    @staticmethod
    def _note(name, note):
        return {
            "name": name,
            "kind": "engine",
            "rps": None,
            "p50_ms": None,
            "p99_ms": None,
            "errors": None,
            "baseline": "pgbench_tpcb"
            if name == "transfer_engine"
            else "transfer_scan",
            "note": note,
        }


ENGINE_CASES = [TransferEngineCase()]
