"""The regional dashboard: the panels each app registered (core.dashboard),
in their order; each one aggregated in the database with a fixed number of
queries whatever the number of rows."""

from __future__ import annotations

import datetime as dt

from core.dashboard import Panel, panels

# Every panel the staff site expects; an app that stops registering one is an
# error at start-up (portal.apps), not a dashboard that silently shrinks.
EXPECTED_PANELS = ("premiums", "enrollments", "transfers", "failed")


def dashboard(
    *, region_code: str | None, start: dt.date, end: dt.date, year: int
) -> list[Panel]:
    return [
        spec.build(region_code=region_code, start=start, end=end, year=year)
        for spec in panels()
    ]


def panel(
    key: str, *, region_code: str | None, start: dt.date, end: dt.date, year: int
) -> Panel | None:
    """One panel in full (the CSV download: no row limit)."""
    for spec in panels():
        if spec.key == key:
            return spec.build(
                region_code=region_code, start=start, end=end, year=year, limit=None
            )
    return None
