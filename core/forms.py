"""Form fields of the primitives (identity number, name, mobile) and the one
way a domain error is shown beside its field."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .errors import DomainError
from .identity import parse_id_number

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def clean_mobile_value(value: str) -> str:
    value = (value or "").strip()
    if not MOBILE_RE.match(value):
        raise ValidationError(_("手机号应为以1开头的11位数字，请核对。"))
    return value


class IdNumberField(forms.CharField):
    """An identity number field: validated with parse_id_number, returns the normalised number."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("身份证号"))
        # No max_length: a number typed with a space inside, or too long, gets
        # parse_id_number's specific message, not Django's character count.
        kwargs.setdefault("min_length", 1)
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {"autocomplete": "off", "inputmode": "text", "spellcheck": "false"}
        )

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        return parse_id_number(value).number


class NameField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("姓名"))
        kwargs.setdefault("max_length", 50)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value and any(ch.isdigit() for ch in value):
            raise ValidationError(_("姓名不应包含数字，请填写身份证上的姓名。"))
        return value


def form_error_from(form, error: DomainError) -> int:
    """Put a domain error beside its field (or at the top of the form) and
    return the page's status: 400, or 429 / 503 when the refusal is "too many
    requests" or "an outside service did not answer, try later"."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)
    return error.status if error.status in (429, 503) else 400
