"""Amounts and rates read one way on every page: `¥6,000.00` never followed by
元 (the ¥ already says it), a rate always through `|percent` (8.00%), never
as a raw ratio (0.0800) on one page and a percentage on another."""

import re

import pytest
from django.conf import settings
from django.template import Context, Template

# The folders of the citizens' pages checked here; enrollment/ and transfers/
# join the list once their templates follow the same rule.
FOLDERS = (
    "payments",
    "people",
    "registration",
    "portal",
    "enrollment",
    "transfers",
    "records",
)
YUAN_THEN_YUAN = re.compile(
    r"\|yuan\s*\}\}(?:</span>)?\s*(?:\{%\s*translate\s*[\"']|)元", re.UNICODE
)
RAW_RATE = re.compile(r"\{\{\s*[\w.]*rate[\w.]*\s*(\|floatformat[^}]*)?\}\}")


def templates():
    root = settings.BASE_DIR / "templates"
    found = [root / "base.html"]
    for folder in FOLDERS:
        found += sorted((root / folder).glob("**/*.html"))
    return [path for path in found if not path.name.startswith("admin_")]


def test_the_checks_catch_what_they_look_for():
    assert YUAN_THEN_YUAN.search(
        '<span class="amount">{{ plan.base|yuan }}</span> {% translate "元/月" %}'
    )
    assert RAW_RATE.search("（{{ plan.base|yuan }} × {{ plan.policy.flexible_rate }}）")
    assert RAW_RATE.search("{{ row.rate_percent|floatformat:2 }}%")
    assert not RAW_RATE.search("{{ plan.policy.flexible_rate|percent }}")


@pytest.mark.parametrize("path", templates(), ids=lambda path: path.name)
def test_no_page_says_yuan_twice_or_shows_a_raw_rate(path):
    source = path.read_text()
    assert not YUAN_THEN_YUAN.search(source), path
    assert not RAW_RATE.search(source), path


def test_percent_and_yuan_filters_render_one_format():
    from decimal import Decimal

    html = Template("{% load portal_tags %}{{ base|yuan }}/{{ rate|percent }}").render(
        Context({"base": Decimal("6000"), "rate": Decimal("0.0800")})
    )
    assert html == "¥6,000.00/8.00%"
