"""A waiting-period reason is stored in the catalogue's source language and
shown in the reader's: the English coverage page no longer shows
"在集中参保期内连续参保，无等待期" (issue 14)."""

import pytest
from django.template import Context, Template
from django.utils import translation

from enrollment import rules

CASES = [
    (rules.REASON_CONTINUOUS, {}),
    (rules.REASON_NEWBORN, {}),
    (rules.REASON_EXEMPT, {}),
    (rules.REASON_OUTSIDE_WINDOW, {"fixed": 3}),
    (rules.REASON_GAP, {"gap": 2, "fixed": 3, "added": 2, "repaired": 0}),
    (rules.REASON_NEWBORN_LATE, {"days": 90, "fixed": 3}),
    (rules.REASON_FLEXIBLE_GAP, {"end": "2025-06-30", "limit": 3, "months": 6}),
    (rules.REASON_FLEXIBLE_NONE, {"limit": 3}),
]


@pytest.mark.parametrize(("msgid", "params"), CASES)
def test_each_stored_reason_reads_in_the_page_language(msgid, params):
    stored = msgid % params if params else msgid
    with translation.override("en"):
        english = rules.waiting_reason_text(stored)
        expected = translation.gettext(msgid) % params if params else None
    assert english != stored
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in english), english
    if expected is not None:
        assert english == expected
    with translation.override("zh-hans"):
        assert rules.waiting_reason_text(stored) == stored


def test_a_long_gap_reason_in_two_parts_reads_whole_in_english():
    waiting = rules.resident_waiting(
        exempt=False, newborn_in_time=False, in_window=True, gap_years=5
    )
    assert "；断保4年及以上" in waiting.reason  # stored in the source language
    with translation.override("en"):
        english = rules.waiting_reason_text(waiting.reason)
    assert "5" in english and "4 years or more" in english
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in english), english


def test_the_reason_is_stored_in_chinese_whatever_the_language_registering():
    with translation.override("en"):
        waiting = rules.resident_waiting(
            exempt=False, newborn_in_time=False, in_window=True, gap_years=0
        )
    assert waiting.reason == "在集中参保期内连续参保，无等待期"


def test_the_template_filter_and_an_unknown_reason_shown_as_stored():
    template = Template("{% load enrollment_tags %}{{ reason|waiting_reason }}")
    with translation.override("en"):
        shown = template.render(Context({"reason": rules.REASON_CONTINUOUS}))
        assert "无等待期" not in shown and shown.strip()
        assert template.render(Context({"reason": "其他原因"})) == "其他原因"
