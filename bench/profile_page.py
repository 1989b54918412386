"""Profile one page in-process (cProfile + the SQL it runs), logged in as the
bench family (or the bench clerk with --clerk):

    .venv/bin/python bench/profile_page.py /payments/ [--clerk] [-n 20]
    .venv/bin/python bench/profile_page.py /admin/people/person/ --clerk --search 3401…

--search TERM: an admin list searched as the staff site does it (the term kept
in the session, the list asked for with ?qk=…). BENCH_DB picks the database
(portal_bench, or portal_bench_1m).
"""

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--clerk", action="store_true")
    parser.add_argument("-n", type=int, default=20)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--search", default="", help="an admin list's search term")
    args = parser.parse_args()
    from bench.run import ENV

    os.environ.update(ENV)
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.cases import session_for
    from bench.management.commands.seed_bench import (
        BENCH_OWNER_USERNAME,
        BENCH_STAFF_USERNAME,
    )
    from people.models import User

    user = User.objects.get(
        username=BENCH_STAFF_USERNAME if args.clerk else BENCH_OWNER_USERNAME
    )
    client = Client(HTTP_HOST="127.0.0.1")
    session_key = session_for(user)
    client.cookies["sessionid"] = session_key
    if args.search:
        from importlib import import_module

        from django.conf import settings

        from people.admin_base import SEARCH_SESSION_KEY

        store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        store[SEARCH_SESSION_KEY] = {"p": args.search}
        store.save()
        args.path += ("&" if "?" in args.path else "?") + "qk=p"
    response = client.get(args.path)
    print("status", response.status_code, "bytes", len(response.content))
    with CaptureQueriesContext(connection) as queries:
        client.get(args.path)
    sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    print(f"{len(queries)} queries, {sql_ms:.1f} ms of SQL (as timed by Django)")
    for q in queries.captured_queries:
        print(f"  {float(q['time']) * 1000:6.1f} ms  {q['sql'][:160]}")
    started = time.perf_counter()
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.n):
        client.get(args.path)
    profile.disable()
    print(
        f"{(time.perf_counter() - started) / args.n * 1000:.1f} ms per request (under cProfile)"
    )
    pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
