"""Check the money and record invariants on a database after a load run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_load .venv/bin/python tests/load/check.py

Prints JSON (violations per invariant, totals) and exits 1 if any invariant is broken."""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")
    import django

    django.setup()
    from tests.load.invariants import broken, totals, violations

    found = violations()
    print(
        json.dumps(
            {"broken": broken(found), "checked": sorted(found), "totals": totals()},
            ensure_ascii=False,
            indent=2,
        )
    )
    return 1 if broken(found) else 0


if __name__ == "__main__":
    sys.exit(main())
