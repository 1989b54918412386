from django import template

from enrollment.rules import waiting_reason_text

register = template.Library()


@register.filter
def waiting_reason(stored: str) -> str:
    """{{ enrollment.waiting_reason|waiting_reason }}: the stored reason in the
    page's language (enrollment.rules.waiting_reason_text)."""
    return waiting_reason_text(stored)
