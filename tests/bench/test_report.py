"""The benchmark's arithmetic and report: ratios against the same run's
baseline, target verdicts, and where py-spy says the time went."""

from bench.cases import compute_ratios
from bench.report import chart, markdown, targets
from bench.run import summarise_profile


def _results():
    return [
        {
            "name": "baseline_read",
            "kind": "baseline",
            "rps": 500.0,
            "p50_ms": 20.0,
            "p99_ms": 40.0,
            "errors": 0,
        },
        {
            "name": "baseline_insert",
            "kind": "baseline",
            "rps": 400.0,
            "p50_ms": 25.0,
            "p99_ms": 50.0,
            "errors": 0,
        },
        {
            "name": "history_page",
            "kind": "page",
            "baseline": "baseline_read",
            "rps_target": 0.6,
            "p99_target": 2.5,
            "rps": 350.0,
            "p50_ms": 30.0,
            "p99_ms": 90.0,
            "errors": 0,
        },
        {
            "name": "coverage_page",
            "kind": "page",
            "baseline": "baseline_read",
            "rps_target": 0.6,
            "p99_target": 2.5,
            "rps": 200.0,
            "p50_ms": 60.0,
            "p99_ms": 80.0,
            "errors": 0,
        },
        {
            "name": "payment_submit",
            "kind": "page",
            "baseline": "baseline_insert",
            "rps_target": 0.5,
            "rps": None,
            "p50_ms": None,
            "p99_ms": None,
            "errors": None,
            "note": "no URL named payments:pay",
        },
        {
            "name": "_run",
            "memory": {"web_workers": [{"rss_mb": 120.0, "peak_rss_mb": 130.0}]},
        },
    ]


def test_ratio_is_against_the_baseline_of_the_same_run_and_checks_both_targets():
    results = _results()
    compute_ratios(results)
    by = {r["name"]: r for r in results}
    assert by["history_page"]["ratio"] == 0.7
    assert by["history_page"]["p99_ratio"] == 2.25
    assert by["history_page"]["target_met"] is True
    assert by["coverage_page"]["ratio"] == 0.4
    assert (
        by["coverage_page"]["target_met"] is False
    )  # rate below 0.6× even though p99 is fine


def test_a_case_that_could_not_run_has_no_ratio_and_is_reported_missing_not_passed():
    results = _results()
    compute_ratios(results)
    by = {r["name"]: r for r in results}
    assert "ratio" not in by["payment_submit"]
    rows = {
        target: (measured, verdict) for target, measured, verdict in targets(results)
    }
    measured, verdict = rows["payment submission rate ≥ 0.5× baseline_insert"]
    assert verdict == "missing"
    assert "payments:pay" in measured


def test_report_has_every_issue_target_and_the_memory_verdict():
    results = _results()
    compute_ratios(results)
    text = markdown(results)
    for phrase in (
        "history page rate ≥ 0.6×",
        "coverage page rate ≥ 0.6×",
        "payment submission rate ≥ 0.5×",
        "p99 ≤ 2.5×",
        "transfer engine",
        "< 150 MB",
        "make bench",
    ):
        assert phrase in text
    assert (
        "| web worker resident memory after the run < 150 MB | 120.0 MB (peak 130.0 MB) | **PASS** |"
        in text
    )
    svg = chart(results)
    assert svg.startswith("<svg") and "history_page" in svg and "0.70×" in svg


def test_profile_summary_attributes_time_to_sql_templates_and_our_code(tmp_path):
    stacks = tmp_path / "case.1.txt"
    stacks.write_text(
        "run (gunicorn/app/base.py:1);history (payments/views.py:50);Cursor.execute (psycopg/cursor.py:100) 60\n"
        "run (gunicorn/app/base.py:1);history (payments/views.py:50);Template.render (django/template/base.py:160) 30\n"
        "run (gunicorn/app/base.py:1);accept (gunicorn/workers/sync.py:10) 10\n"
    )
    summary = summarise_profile([stacks], tmp_path / "case.summary.txt")
    assert summary["profile_samples"] == 100
    assert summary["profile_sql_share"] == 0.6
    assert summary["profile_template_share"] == 0.3
    assert summary["profile_top"][0] == "90% history (payments/views.py)"
    assert "gunicorn" not in " ".join(summary["profile_top"])
