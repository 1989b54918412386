"""The staff dashboard's panels: each app registers the panels of its own
records (in its AppConfig.ready()); the staff site (portal) shows them in
order. A panel is a function of (region_code, start, end, year) that returns
a Panel, aggregated in the database with a fixed number of queries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q


@dataclass
class Panel:
    """One list of the dashboard: its title, column headings and rows (all
    plain values, ready for a table, a CSV file or a chart)."""

    key: str
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    available: bool = True
    note: str = ""

    @property
    def labelled_rows(self) -> list[list[tuple[str, object]]]:
        """Each row's cells with their column's heading (on a phone each row
        is a card whose cells say what they are)."""
        return [list(zip(self.columns, row, strict=False)) for row in self.rows]


@dataclass(frozen=True)
class PanelSpec:
    key: str
    order: int
    build: Callable[..., Panel]


_PANELS: dict[str, PanelSpec] = {}


def panel_register(*, key: str, order: int, build: Callable[..., Panel]) -> None:
    """Called by an app's AppConfig.ready(). `build(region_code=, start=, end=,
    year=, limit=)` returns the Panel."""
    _PANELS[key] = PanelSpec(key=key, order=order, build=build)


def panels() -> list[PanelSpec]:
    return sorted(_PANELS.values(), key=lambda spec: spec.order)


def region_q(path: str, region_code: str | None) -> Q:
    return Q(**{path: region_code}) if region_code else Q()


def choices(model, field_name: str) -> dict:
    return {
        str(k): str(v) for k, v in (model._meta.get_field(field_name).choices or [])
    }
