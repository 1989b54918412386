import datetime as dt
from collections import OrderedDict
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import template
from django.template.defaulttags import CsrfTokenNode
from django.utils import formats
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

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


# --- Per-language memos: labels, dates and the page chrome -------------------

_LABELS: dict[tuple, dict] = {}


@register.filter
def choice_label(obj, field_name):
    """{{ payment|choice_label:"status" }}: what get_status_display() says,
    with each field's labels translated once per language and process (the
    display method translates and hashes every choice on every call)."""
    key = (type(obj), field_name, get_language())
    labels = _LABELS.get(key)
    if labels is None:
        field = obj._meta.get_field(field_name)
        labels = {
            make_hashable(value): str(label) for value, label in field.flatchoices
        }
        _LABELS[key] = labels
    value = getattr(obj, field_name)
    return force_str(labels.get(make_hashable(value), value), strings_only=True)


@lru_cache(maxsize=4096)
def _day(value: dt.date, fmt: str, language: str | None) -> str:
    return formats.date_format(value, fmt)


@register.filter(expects_localtime=True)
def day(value, fmt="Y-m-d"):
    """{{ value|day }} (2026-03-01) or {{ value|day:"DATE_FORMAT" }}: the text
    |date gives, each (date, format, language) formatted once per process."""
    if isinstance(value, dt.datetime):
        value = value.date()  # already in local time (expects_localtime)
    if not isinstance(value, dt.date):
        return ""
    return _day(value, fmt, get_language())


# Marks standing for what differs per request inside a chrome fragment.
_CSRF_MARK = "chromecsrfmark0"
_NEXT_MARK = "chromenextmark0"
_CSRF_INPUT = f'<input type="hidden" name="csrfmiddlewaretoken" value="{_CSRF_MARK}">'
# Kept on the node, so a template parsed again (edited, in development) starts
# afresh.
_CHROME_MAX = 256


class ChromeNode(template.Node):
    def __init__(self, name, vary, nodelist):
        self.name, self.vary, self.nodelist = name, vary, nodelist
        self.rendered: dict[tuple, str] = {}

    def render(self, context):
        key = (
            get_language(),
            context.template.name if context.template else None,
            *(bool(value.resolve(context)) for value in self.vary),
        )
        html = self.rendered.get(key)
        if html is None:
            with context.push(csrf_token=_CSRF_MARK, chrome_next=_NEXT_MARK):
                html = self.nodelist.render(context)
            if len(self.rendered) >= _CHROME_MAX:
                self.rendered.clear()
            self.rendered[key] = html
        if _CSRF_INPUT in html:
            html = html.replace(_CSRF_INPUT, CsrfTokenNode().render(context))
        if _NEXT_MARK in html:
            request = context.get("request")
            html = html.replace(
                _NEXT_MARK,
                conditional_escape(request.get_full_path() if request else ""),
            )
        return mark_safe(html)  # noqa: S308 - rendered by the template engine


@register.tag
def chrome(parser, token):
    """{% chrome "name" flag … %}…{% endchrome %}: the page chrome (navigation,
    footer) rendered once per language, page template and the truth of each
    flag (signed in, staff, care mode…), then kept in this process: it holds
    no data. Inside it, {% csrf_token %} and {{ chrome_next }} (the page's
    path, for a form's "next") are filled in for each request; nothing else
    may differ between requests."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% chrome %} needs a name")
    name = bits[1].strip("\"'")
    vary = [parser.compile_filter(bit) for bit in bits[2:]]
    nodelist = parser.parse(("endchrome",))
    parser.delete_first_token()
    return ChromeNode(name, vary, nodelist)


_MEMO_MAX = 1024


class MemoNode(template.Node):
    def __init__(self, values, nodelist):
        self.values, self.nodelist = values, nodelist
        self.rendered: OrderedDict[tuple, str] = OrderedDict()

    def render(self, context):
        key = (get_language(), *(v.resolve(context) for v in self.values))
        html = self.rendered.get(key)
        if html is None:
            html = self.nodelist.render(context)
            self.rendered[key] = html
            if len(self.rendered) > _MEMO_MAX:
                self.rendered.popitem(last=False)
        return html


@register.tag
def memo(parser, token):
    """{% memo value … %}…{% endmemo %}: the block rendered once per language
    and combination of the values, then kept on the node in this process (a
    thousand at most). For markup that depends on nothing but those values
    and is repeated many times on a page: a month's cell of a cover strip, by
    its month and state."""
    values = [parser.compile_filter(bit) for bit in token.split_contents()[1:]]
    nodelist = parser.parse(("endmemo",))
    parser.delete_first_token()
    return MemoNode(values, nodelist)
