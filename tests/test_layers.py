"""The layers (core ← people ← enrollment ← payments ← transfers | records ←
portal) hold for what import-linter cannot see: no lower app reaches a higher
one, and neither of two siblings (transfers, records) reaches the other, by a
string (a task name, a model label, a URL name, a dotted path) or by
`apps.get_model` / `import_module` / `__import__`."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Lowest first; apps on one level are independent siblings.
LAYERS = [
    ("core",),
    ("people",),
    ("enrollment",),
    ("payments",),
    ("transfers", "records"),
    ("portal",),
]
DYNAMIC = re.compile(r"\bimport_module\b|apps\.get_model|__import__\(|importlib")


def _sources(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def _out_of_reach(package: str) -> list[str]:
    """The apps `package` may not reach: every higher level, and its siblings."""
    level = next(i for i, names in enumerate(LAYERS) if package in names)
    siblings = [name for name in LAYERS[level] if name != package]
    return [*siblings, *(name for names in LAYERS[level + 1 :] for name in names)]


@pytest.mark.parametrize("package", [name for names in LAYERS[:-1] for name in names])
def test_no_string_or_dynamic_reach_into_a_higher_layer(package):
    names = "|".join(_out_of_reach(package))
    by_string = re.compile(rf"[\"'](?:{names})[.:]\w")
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _sources(package)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if by_string.search(line) or DYNAMIC.search(line)
    ]
    assert found == []


def test_the_layer_contract_names_every_layer():
    text = (ROOT / "pyproject.toml").read_text()
    contract = ", ".join('"' + " | ".join(names) + '"' for names in reversed(LAYERS))
    assert f"layers = [{contract}]" in text
    assert (
        'layers = ["portal", "transfers | records", "payments", "enrollment",'
        ' "people", "core"]' in text
    )
    for names in LAYERS:
        for name in names:
            assert f'"{name}"' in text.split("root_packages = ")[1].split("\n")[0]
