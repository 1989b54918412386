from django import template

from core.identity import mask_id_number, mask_mobile
from core.money import format_yuan

register = template.Library()


@register.filter
def yuan(value):
    """{{ amount|yuan }} → ¥1,234.56"""
    return format_yuan(value)


@register.filter
def mask_id(value):
    return mask_id_number(value)


@register.filter
def mask_phone(value):
    return mask_mobile(value)
