"""docs/PERFORMANCE.md and docs/performance.svg from bench/results/latest.json
(20,000 persons) and, beside it, bench/results/latest-1m.json (1,000,000).

.venv/bin/python bench/report.py      # rewrite both from the last runs
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


SCALE_TARGET = (
    1.2  # a page's ratio at a million persons within 1.2× of its ratio at 20,000
)


def targets(
    results: list[dict], big: list[dict] | None = None
) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for each target of issue 13; `big` is the
    run at a million persons, when there is one."""
    by = {r["name"]: r for r in results}
    run = by.get("_run", {})
    rows = []

    def verdict(ok):
        return "missing" if ok is None else ("PASS" if ok else "FAIL")

    def ratio_row(name, target, label, baseline):
        r = by.get(name, {})
        ratio = r.get("ratio")
        ok = None if ratio is None else ratio >= target and not r.get("errors")
        measured = (
            f"{ratio:.2f}×" if ratio is not None else (r.get("note") or "not measured")
        )
        rows.append((f"{label} ≥ {target}× {baseline}", measured, verdict(ok)))

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

    def scale_row(name):
        small = by.get(name, {}).get("ratio")
        large = {r["name"]: r for r in big or []}.get(name, {}).get("ratio")
        label = (
            f"{name} at 1,000,000 persons within {SCALE_TARGET}× of its ratio at "
            "20,000 (rate and p99)"
        )
        if big is None:
            rows.append(
                (
                    label,
                    "no run at a million persons (BENCH_PERSONS=1000000 make bench)",
                    "missing",
                )
            )
            return
        if not small or not large:
            rows.append((label, "not measured in both runs", "missing"))
            return
        large_row = {r["name"]: r for r in big}[name]
        p99_small = by[name].get("p99_ratio")
        p99_large = large_row.get("p99_ratio")
        slower = small / large
        ok = slower <= SCALE_TARGET
        measured = (
            f"{small:.2f}× at 20,000, {large:.2f}× at 1,000,000 ({slower:.2f}× slower)"
        )
        if p99_small and p99_large:
            ok = ok and p99_large / p99_small <= SCALE_TARGET
            measured += f"; p99 {p99_small:.2f}× and {p99_large:.2f}×"
        rows.append((label, measured, verdict(ok)))

    ratio_row("history_page", 0.5, "history page rate", "baseline_read")
    ratio_row("coverage_page", 0.5, "coverage page rate", "baseline_read")
    p99_row("history_page", 3)
    p99_row("coverage_page", 3)
    scale_row("history_page")
    scale_row("coverage_page")
    ratio_row("payment_submit", 0.35, "payment submission rate", "baseline_insert")
    ratio_row("payment_callback", 0.3, "payment callback rate", "baseline_insert")
    ratio_row(
        "transfer_engine",
        0.5,
        "transfer engine step transitions/s",
        "pgbench_tpcb",
    )
    ratio_row(
        "admin_person_search",
        0.3,
        "admin search by identity number rate",
        "baseline_read",
    )
    web = [
        r
        for r in results
        if r.get("kind") in ("page", "baseline") and r.get("rps") is not None
    ]
    errors = sum(r.get("errors") or 0 for r in results if r["name"] != "_run")
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


def _run_line(run: dict) -> str:
    return (
        f"run of {run.get('started', '?')}: {_fmt(run.get('persons'))} persons seeded "
        f"({_fmt((run.get('seed') or {}).get('seconds'))} s), {run.get('duration_per_case_s')} s of wrk per case "
        f"(-t2 -c32), {run.get('cpus')} cores shared with whatever else ran; the whole run took "
        f"{_fmt(run.get('seconds'))} s"
    )


def _case_note(r: dict) -> str:
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
    return note


def side_by_side(results: list[dict], big: list[dict]) -> list[str]:
    """Each case at 20,000 and at 1,000,000 persons: rate, ratio, p99 ratio."""
    large = {r["name"]: r for r in big}
    lines = [
        "| case | req/s (20,000) | ratio | p99 ratio | req/s (1,000,000) | ratio | p99 ratio | ratio 20,000 ÷ 1,000,000 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    names = [r["name"] for r in results if r["name"] != "_run"]
    names += [n for n in large if n not in names and n != "_run"]
    small = {r["name"]: r for r in results}
    for name in names:
        a, b = small.get(name, {}), large.get(name, {})

        def cell(r, key, digits=2):
            return _fmt(r.get(key), digits) if r.get(key) is not None else "—"

        drop = (
            f"{a['ratio'] / b['ratio']:.2f}"
            if a.get("ratio") and b.get("ratio")
            else "—"
        )
        lines.append(
            f"| {name} | {cell(a, 'rps', 1)} | {cell(a, 'ratio')} | {cell(a, 'p99_ratio')} | "
            f"{cell(b, 'rps', 1)} | {cell(b, 'ratio')} | {cell(b, 'p99_ratio')} | {drop} |"
        )
    return lines


def markdown(results: list[dict], big: list[dict] | None = None) -> str:
    """The report of the 20,000-person run (`results`), with the run at a
    million persons (`big`) beside it when there is one."""
    run = next((r for r in results if r["name"] == "_run"), {})
    cases = [r for r in results if r["name"] != "_run"]
    big_run = next((r for r in big or [] if r["name"] == "_run"), None)
    lines = [
        "# Performance: the portal against this machine's own limits",
        "",
        "Generated by `make bench` (bench/run.py → bench/report.py) from `bench/results/latest.json` "
        "(20,000 persons) and `bench/results/latest-1m.json` (1,000,000 persons, `BENCH_PERSONS=1000000 "
        "make bench`) when it exists; do not edit by hand (findings go in `bench/NOTES.md`, appended below).",
        "",
        f"- {_run_line(run)}.",
    ]
    if big_run is not None:
        lines.append(f"- {_run_line(big_run)}.")
    lines += [
        "",
        "Absolute figures drift 15–25 % between runs on this machine: compare the ratios, "
        "which are taken within one run.",
        "",
        "## Targets (issue 13)",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
    ]
    for target, measured, verdict in targets(results, big):
        lines.append(f"| {target} | {escape(str(measured))} | **{verdict}** |")
    if big is not None:
        lines += ["", "## 20,000 and 1,000,000 persons side by side", ""]
        lines += side_by_side(results, big)
    lines += [
        "",
        f"## Figures ({_fmt(run.get('persons'))} persons)",
        "",
        "| case | req/s | p50 ms | p99 ms | errors | baseline | ratio | p99 ratio | note |",
        "|---|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    for r in cases:
        note = _case_note(r)
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
        "make bench                        # 20,000 persons (database portal_bench), 5 s of wrk per case",
        "BENCH_DURATION=3 make bench       # shorter cases",
        "BENCH_PERSONS=1000000 make bench  # the second pass: a city's scale (database portal_bench_1m,",
        "                                  # results bench/results/latest-1m.json, shown beside the 20,000)",
        "# seed once, then measure as often as needed (the payment cases consume their seeded rows,",
        "# so reseed before measuring them again):",
        ".venv/bin/python bench/run.py --persons 1000000 --seed-only",
        ".venv/bin/python bench/run.py --persons 1000000 --skip-seed --only history_page,coverage_page",
        ".venv/bin/python bench/run.py --only baseline_read,coverage_page --duration 3 --skip-seed",
        ".venv/bin/python bench/report.py  # rewrite this page from the results files",
        "```",
        "",
        "What the run does: creates and migrates the bench database on the local PostgreSQL "
        "(`portal_bench`, or `portal_bench_1m` for a million persons), seeds it with `manage.py "
        "seed_bench` (one transaction: the portal's tables truncated, foreign-key triggers skipped, "
        "everything generated on the server with INSERT … SELECT, the secondary indexes built after "
        "the load), starts gunicorn (2 sync workers, `--no-control-socket`, settings `bench.settings` "
        "= production settings with DEBUG off plus the baseline views) and a Celery worker (prefork, "
        "concurrency 2) on Redis db 9, runs each case with wrk (-t2 -c32) after a warm-up, measures the "
        "baselines again at the end (a ratio uses the mean of both passes), runs pgbench TPC-B (scale "
        "10, 8 clients) on `portal_bench_tpcb`, runs the transfer engine case, reads each worker's "
        "resident memory from /proc, and profiles with py-spy each case that missed its target.",
        "",
    ]
    if NOTES.exists():
        lines += ["## Findings", "", NOTES.read_text().strip(), ""]
    return "\n".join(lines)


RESULTS = ROOT / "bench" / "results"
SMALL = RESULTS / "latest.json"  # 20,000 persons
BIG = RESULTS / "latest-1m.json"  # 1,000,000 persons


def _read(path: Path) -> list[dict] | None:
    return json.loads(path.read_text()) if path.exists() else None


def write(results: list[dict] | None = None):
    """Rewrite docs/PERFORMANCE.md and the chart from the results files (the
    20,000-person run, and the million beside it when there is one)."""
    small, big = _read(SMALL), _read(BIG)
    if small is None:  # only a run at a million persons so far
        small, big = big, None
    if small is None:
        raise SystemExit("no results yet: run make bench")
    DOC.write_text(markdown(small, big))
    SVG.write_text(chart(small))


if __name__ == "__main__":
    write()
    sys.exit(0)
