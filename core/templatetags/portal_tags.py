from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import template
from django.utils.safestring import mark_safe

from core.identity import mask_id_number, mask_mobile
from core.money import format_yuan

register = template.Library()


@register.filter
def yuan(value):
    """{{ amount|yuan }} → ¥1,234.56"""
    return format_yuan(value)


@register.filter
def percent(value, places=2):
    """{{ rate|percent }}: a ratio as a percentage, the one way every page
    shows a rate: Decimal("0.08") → 8.00%, Decimal("0.075") → 7.50%
    ({{ rate|percent:1 }} → 7.5%). Empty for a missing or unreadable value."""
    if value is None or value == "":
        return ""
    try:
        ratio = Decimal(str(value))
        places = int(places)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    if not ratio.is_finite() or not 0 <= places <= 6:
        return ""
    shown = (ratio * 100).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    return f"{shown:f}%"


@register.filter
def mask_id(value):
    return mask_id_number(value)


@register.filter
def mask_phone(value):
    return mask_mobile(value)


@register.filter
def form_fields(form):
    """{{ form|form_fields }}: the form's fields as crispy renders them, each
    with its errors beside it, but without crispy's own box of the form's
    non-field errors: the page's summary (_form_errors.html) lists those
    once, above the form."""
    return mark_safe("".join(as_crispy_field(field) for field in form))  # noqa: S308 - crispy's escaped output
