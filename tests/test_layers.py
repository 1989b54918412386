"""The layers (core ← people ← enrollment ← payments ← transfers ← portal) hold
for what import-linter cannot see: no lower app reaches a higher one by a
string (a task name, a model label, a URL name, a dotted path) or by
`apps.get_model` / `import_module` / `__import__`."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["core", "people", "enrollment", "payments", "transfers", "portal"]
DYNAMIC = re.compile(r"\bimport_module\b|apps\.get_model|__import__\(|importlib")


def _sources(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


@pytest.mark.parametrize("package", LAYERS[:-1])
def test_no_string_or_dynamic_reach_into_a_higher_layer(package):
    higher = LAYERS[LAYERS.index(package) + 1 :]
    names = "|".join(higher)
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
    assert (
        'layers = ["portal", "transfers", "payments", "enrollment", "people", "core"]'
        in text
    )
