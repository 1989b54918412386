"""docs/PERFORMANCE.md and docs/performance.svg from bench/results/latest.json.

.venv/bin/python bench/report.py      # rewrite both from the last run
"""

from __future__ import annotations

import json
import sys
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "PERFORMANCE.md"
SVG = ROOT / "docs" / "performance.svg"
NOTES = ROOT / "bench" / "NOTES.md"  # findings written by hand, appended to the report


def _fmt(value, digits=1):
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def targets(results: list[dict]) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for each target of issue 7."""
    by = {r["name"]: r for r in results}
    run = by.get("_run", {})
    rows = []

    def verdict(ok):
        return "missing" if ok is None else ("PASS" if ok else "FAIL")

    def ratio_row(name, target, label):
        r = by.get(name, {})
        ratio = r.get("ratio")
        ok = None if ratio is None else ratio >= target
        measured = (
            f"{ratio:.2f}×" if ratio is not None else (r.get("note") or "not measured")
        )
        rows.append(
            (f"{label} ≥ {target}× {r.get('baseline') or ''}", measured, verdict(ok))
        )

    def p99_row(name, target):
        r = by.get(name, {})
        ratio = r.get("p99_ratio")
        ok = None if ratio is None else ratio <= target
        measured = (
            f"{ratio:.2f}× ({_fmt(r.get('p99_ms'))} ms)"
            if ratio is not None
            else (r.get("note") or "not measured")
        )
        rows.append(
            (f"{name} p99 ≤ {target}× its baseline's p99", measured, verdict(ok))
        )

    ratio_row("payment_submit", 0.5, "payment submission rate")
    ratio_row("history_page", 0.6, "history page rate")
    ratio_row("coverage_page", 0.6, "coverage page rate")
    p99_row("history_page", 2.5)
    p99_row("coverage_page", 2.5)
    web = [
        r
        for r in results
        if r.get("kind") in ("page", "baseline") and r.get("rps") is not None
    ]
    errors = sum(r.get("errors") or 0 for r in web)
    missing = [
        r["name"]
        for r in results
        if r.get("kind") in ("page", "engine")
        and r.get("rps") is None
        and r.get("p50_ms") is None
    ]
    rows.append(
        (
            "no errors in any measured case",
            f"{errors} errors"
            + (f"; not measured: {', '.join(missing)}" if missing else ""),
            verdict(errors == 0 if web else None),
        )
    )
    ratio_row("transfer_engine", 0.5, "transfer engine step transitions/s")
    scan = by.get("transfer_scan_10x", {})
    ratio = scan.get("ratio")
    rows.append(
        (
            "transfer scan time with 10× not-yet-due transfers ≈ without (≤ 1.5×)",
            f"{ratio:.2f}×"
            if ratio is not None
            else (scan.get("note") or "not measured"),
            verdict(None if ratio is None else ratio <= 1.5),
        )
    )
    workers = run.get("memory", {}).get("web_workers", [])
    rss = max((w.get("rss_mb", 0) for w in workers), default=None)
    rows.append(
        (
            "web worker resident memory after the run < 150 MB",
            f"{rss} MB (peak {max((w.get('peak_rss_mb', 0) for w in workers), default=0)} MB)"
            if rss
            else "not measured",
            verdict(None if rss is None else rss < 150),
        )
    )
    return rows


def chart(results: list[dict]) -> str:
    """Horizontal bars: each case's rate as a share of its baseline, target marked."""
    rows = [r for r in results if r.get("ratio") is not None]
    width, left, bar_h, gap, top = 760, 210, 22, 10, 40
    scale = (width - left - 60) / max(1.2, max((r["ratio"] for r in rows), default=1.0))
    height = top + len(rows) * (bar_h + gap) + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="sans-serif" font-size="13" role="img" aria-labelledby="t">',
        '<title id="t">Rate of each case as a share of its baseline, measured in the same run</title>',
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
        '<text x="10" y="22" font-size="15" font-weight="bold">Rate ÷ baseline rate (same run); '
        "black tick = target</text>",
    ]
    x1 = left + scale
    out.append(
        f'<line x1="{x1:.1f}" y1="{top - 6}" x2="{x1:.1f}" y2="{height - 30}" stroke="#999" '
        'stroke-dasharray="4 3"/>'
    )
    out.append(
        f'<text x="{x1:.1f}" y="{height - 14}" text-anchor="middle" fill="#555">1.0× baseline</text>'
    )
    for i, r in enumerate(rows):
        y = top + i * (bar_h + gap)
        met = r.get("target_met")
        colour = "#1b7f3b" if met else ("#b3261e" if met is False else "#2f5d9b")
        w = max(1.0, r["ratio"] * scale)
        out.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{escape(r["name"])}</text>'
        )
        out.append(
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{colour}"/>'
        )
        label = f"{r['ratio']:.2f}×  ({_fmt(r.get('rps'))}/s vs {escape(str(r.get('baseline')))})"
        out.append(f'<text x="{left + w + 6:.1f}" y="{y + 15}">{label}</text>')
        target = r.get("rps_target")
        if target:
            tx = left + target * scale
            out.append(
                f'<line x1="{tx:.1f}" y1="{y - 3}" x2="{tx:.1f}" y2="{y + bar_h + 3}" stroke="#000" '
                'stroke-width="3"/>'
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def markdown(results: list[dict]) -> str:
    run = next((r for r in results if r["name"] == "_run"), {})
    cases = [r for r in results if r["name"] != "_run"]
    lines = [
        "# Performance: the portal against this machine's own limits",
        "",
        "Generated by `make bench` (bench/run.py → bench/report.py) from `bench/results/latest.json`; "
        "do not edit by hand (findings go in `bench/NOTES.md`, appended below).",
        "",
        f"Run of {run.get('started', '?')}: {_fmt(run.get('persons'))} persons seeded "
        f"({_fmt((run.get('seed') or {}).get('seconds'))} s), {run.get('duration_per_case_s')} s of wrk per case "
        f"(-t2 -c32), {run.get('cpus')} cores shared with whatever else ran; the whole run took "
        f"{_fmt(run.get('seconds'))} s. Absolute figures drift 15–25 % between runs on this machine: "
        "compare the ratios, which are taken in one run.",
        "",
        "## Targets (issue 7)",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
    ]
    for target, measured, verdict in targets(results):
        lines.append(f"| {target} | {escape(str(measured))} | **{verdict}** |")
    lines += [
        "",
        "## Figures",
        "",
        "| case | req/s | p50 ms | p99 ms | errors | baseline | ratio | p99 ratio | note |",
        "|---|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    for r in cases:
        note = r.get("note") or r.get("describe") or ""
        if r.get("queries") is not None:
            note += f"; {r['queries']} SQL queries per request"
        if r.get("steps") is not None:
            note += (
                f"; {r['steps']} steps in {r.get('seconds')} s, {r.get('due')} due and "
                f"{r.get('not_yet_due')} not-yet-due transfers"
            )
        if r.get("passes"):
            note += "; mean of two passes: " + ", ".join(
                f"{p['rps']}/s p99 {p['p99_ms']} ms" for p in r["passes"]
            )
        if r.get("bad_statuses"):
            note += f" (wrong statuses: {r['bad_statuses']})"
        if r.get("profile"):
            note += f"; profile: `{r['profile']}`"
        lines.append(
            f"| {r['name']} | {_fmt(r.get('rps'))} | {_fmt(r.get('p50_ms'), 2)} | {_fmt(r.get('p99_ms'), 2)} | "
            f"{_fmt(r.get('errors'))} | {r.get('baseline') or '—'} | "
            f"{_fmt(r.get('ratio'), 2) if r.get('ratio') is not None else '—'} | "
            f"{_fmt(r.get('p99_ratio'), 2) if r.get('p99_ratio') is not None else '—'} | {escape(note)} |"
        )
    memory = run.get("memory", {})
    lines += ["", "## Memory", ""]
    for i, w in enumerate(memory.get("web_workers", [])):
        lines.append(
            f"- gunicorn worker {i + 1}: {w.get('rss_mb')} MB resident after the run, peak {w.get('peak_rss_mb')} MB"
        )
    for i, w in enumerate(memory.get("celery_processes", [])):
        role = "Celery main process" if i == 0 else f"Celery pool process {i}"
        lines.append(
            f"- {role}: {w.get('rss_mb')} MB resident, peak {w.get('peak_rss_mb')} MB"
        )
    lines += [
        "",
        "## Chart",
        "",
        "![Rate of each case as a share of its baseline](performance.svg)",
        "",
        "## Profiles of the cases that missed a target",
        "",
    ]
    profiled = [r for r in cases if r.get("profile")]
    if not profiled:
        lines.append("None profiled in this run.")
    for r in profiled:
        lines.append(f"### {r['name']}")
        lines.append("")
        lines.append(
            f"py-spy, both gunicorn workers, {r.get('profile_samples')} samples; full summary in "
            f"`{r['profile']}`. Time inside SQL execution: {100 * r.get('profile_sql_share', 0):.0f} %; "
            f"inside template rendering: {100 * r.get('profile_template_share', 0):.0f} %. Our code, inclusive:"
        )
        lines.append("")
        for item in r.get("profile_top", []):
            lines.append(f"- `{item}`")
        lines.append("")
    lines += [
        "## How to rerun",
        "",
        "```sh",
        "make bench                        # BENCH_PERSONS=20000, about 5 s of wrk per case",
        "make bench BENCH_PERSONS=1000000  # a city's scale: the seed alone took 18.6 min here (loaded machine)",
        "# or seed a separate database once and measure it as often as needed:",
        "BENCH_DB=portal_bench_1m .venv/bin/python bench/run.py --persons 1000000 --seed-only",
        "BENCH_DB=portal_bench_1m .venv/bin/python bench/run.py --skip-seed --out at-1m",
        ".venv/bin/python bench/run.py --only baseline_read,coverage_page --duration 3 --skip-seed",
        ".venv/bin/python bench/report.py  # rewrite this page from bench/results/latest.json",
        "```",
        "",
        "What the run does: creates and migrates the `portal_bench` database on the local PostgreSQL, seeds it "
        "with `manage.py seed_bench`, starts gunicorn (2 sync workers, `--no-control-socket`, settings "
        "`bench.settings` = production settings with DEBUG off plus the two baseline views) and a Celery worker "
        "(prefork, concurrency 2) on Redis db 9, runs each case with wrk (-t2 -c32) after a warm-up, measures the "
        "baselines again at the end (a ratio uses the mean of both passes), runs pgbench TPC-B (scale 10, 8 "
        "clients) on `portal_bench_tpcb`, runs the transfer engine case, reads each worker's resident memory from "
        "/proc, and profiles with py-spy each case that missed its target.",
        "",
    ]
    if NOTES.exists():
        lines += ["## Findings", "", NOTES.read_text().strip(), ""]
    return "\n".join(lines)


def write(results: list[dict]):
    DOC.write_text(markdown(results))
    SVG.write_text(chart(results))


if __name__ == "__main__":
    write(json.loads((ROOT / "bench" / "results" / "latest.json").read_text()))
    sys.exit(0)
