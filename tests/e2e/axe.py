"""axe-core, the accessibility engine, run inside the browser on a page.

`make setup` installs the pinned axe-core from npm into var/npm (the browser
tests cannot reach the internet); the script is injected from that file.
Without it the accessibility tests skip, and fail under CI=true."""

import os
from pathlib import Path

import pytest

AXE_JS = Path(
    os.environ.get(
        "AXE_CORE_PATH",
        Path(__file__).resolve().parents[2]
        / "var"
        / "npm"
        / "node_modules"
        / "axe-core"
        / "axe.min.js",
    )
)
# WCAG 2.0, 2.1 and 2.2 at levels A and AA (UX.md: WCAG 2.2 AA).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_required() -> Path:
    """The axe-core script; a skip (a failure under CI=true) when it is absent."""
    if AXE_JS.exists():
        return AXE_JS
    problem = f"axe-core not found at {AXE_JS} (`make setup` installs it with npm)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"accessibility tests cannot run under CI=true: {problem}")
    pytest.skip(problem)


RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'],
  });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 8).map(n => [
      n.target.join(' '), (n.failureSummary || '').slice(0, 300)]),
  }));
}"""


def describe(found: dict[tuple, list[str]]) -> str:
    """Violations by rule and element, each with the pages it is on."""
    lines = [f"{len(found)} accessibility violations (rule → element, pages):"]
    for (rule, impact, help_text, target), (summary, pages) in found.items():
        shown = ", ".join(pages[:5]) + (
            f" (+{len(pages) - 5})" if len(pages) > 5 else ""
        )
        lines.append(
            f"- {rule} ({impact}) {help_text} → {target}\n    on: {shown}\n    {summary}"
        )
    return "\n".join(lines)


def collect(found: dict[tuple, list], where: str, violations: list[dict]) -> None:
    for v in violations:
        for target, summary in v["nodes"]:
            key = (v["id"], v["impact"], v["help"], target)
            found.setdefault(key, (summary, []))[1].append(where)
