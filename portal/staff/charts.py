"""Small bar charts drawn on the server as SVG (no chart library, no script):
each bar carries its value as text and a <title>, so nothing is told by
colour alone, and the table beside the chart holds the same figures."""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import mark_safe

# Colour-blind-safe palette (Okabe–Ito), contrast ≥ 3:1 against white.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]


def _number(value) -> float:
    return float(value) if isinstance(value, (int, float, Decimal)) else 0.0


def _label(value) -> str:
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def _text_width(text: str, size: int) -> float:
    """About how wide `text` is drawn, in px: a Chinese character one em,
    other characters about 0.6 em."""
    return sum(size if ord(ch) >= 0x2E80 else size * 0.6 for ch in text)


def horizontal_bars(
    items: list[tuple[str, object]], *, title: str, unit: str = "", max_value=None
) -> str:
    """One labelled bar per (label, value): the label on its own line above
    the bar, so a long label (in English) is never cut off on the left."""
    if not items:
        return ""
    row, bar_w = 46, 360
    top = max(_number(v) for _, v in items) if max_value is None else _number(max_value)
    top = top or 1.0
    height = row * len(items) + 10
    longest = max(_text_width(str(label), 13) for label, _ in items)
    total_w = int(max(bar_w + 120, longest + 8))
    parts = [
        f'<svg class="staff-chart" role="img" aria-label="{escape(title)}" width="{total_w}" '
        f'viewBox="0 0 {total_w} {height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for index, (label, value) in enumerate(items):
        y = 5 + index * row
        width = max(1.0, bar_w * _number(value) / top)
        text = f"{_label(value)}{unit}"
        parts.append(
            f'<text x="0" y="{y + 14}" font-size="13" fill="#212529">'
            f"{escape(label)}</text>"
            f'<rect x="0" y="{y + 20}" width="{width:.1f}" height="18" fill="{PALETTE[0]}">'
            f"<title>{escape(label)}：{escape(text)}</title></rect>"
            f'<text x="{width + 6:.1f}" y="{y + 34}" font-size="13" fill="#212529">{escape(text)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def stacked_columns(rows: list[tuple[str, str, object]], *, title: str) -> str:
    """Columns per x label (a day), stacked by series (a channel), with a legend."""
    if not rows:
        return ""
    xs: OrderedDict[str, dict[str, float]] = OrderedDict()
    series: list[str] = []
    for x, name, value in rows:
        xs.setdefault(str(x), {})
        xs[str(x)][name] = xs[str(x)].get(name, 0.0) + _number(value)
        if name not in series:
            series.append(name)
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(series)}
    col_w, gap, chart_h, left, bottom = 28, 10, 200, 70, 60
    top = max(sum(v.values()) for v in xs.values()) or 1.0
    width = left + len(xs) * (col_w + gap) + 20
    legend_y = chart_h + bottom
    height = legend_y + 22 * len(series) + 10
    parts = [
        f'<svg class="staff-chart" role="img" aria-label="{escape(title)}" width="{max(width, 420)}" '
        f'viewBox="0 0 {max(width, 420)} {height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{chart_h + 10}" x2="{width}" y2="{chart_h + 10}" stroke="#6c757d"/>',
        f'<text x="{left - 6}" y="20" text-anchor="end" font-size="12" fill="#212529">'
        f"{escape(_label(Decimal(str(round(top, 2)))))}</text>",
        f'<text x="{left - 6}" y="{chart_h + 10}" text-anchor="end" font-size="12" fill="#212529">0</text>',
    ]
    for index, (x, values) in enumerate(xs.items()):
        cx = left + 6 + index * (col_w + gap)
        y = chart_h + 10
        for name in series:
            value = values.get(name, 0.0)
            if not value:
                continue
            h = chart_h * value / top
            y -= h
            parts.append(
                f'<rect x="{cx}" y="{y:.1f}" width="{col_w}" height="{h:.1f}" fill="{colours[name]}">'
                f"<title>{escape(x)} {escape(name)}：{value:,.2f}</title></rect>"
            )
        parts.append(
            f'<text x="{cx + col_w / 2}" y="{chart_h + 26}" font-size="11" text-anchor="end" fill="#212529" '
            f'transform="rotate(-45 {cx + col_w / 2} {chart_h + 26})">{escape(x[5:] if len(x) == 10 else x)}</text>'
        )
    for index, name in enumerate(series):
        ly = legend_y + index * 22
        parts.append(
            f'<rect x="{left}" y="{ly}" width="14" height="14" fill="{colours[name]}"/>'
            f'<text x="{left + 20}" y="{ly + 12}" font-size="13" fill="#212529">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))
