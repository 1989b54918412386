"""公民身份号码 (GB 11643-1999): parsing, validation and masking.

18 characters: 6-digit region code, 8-digit birth date, 3-digit sequence (odd =
male), and an ISO 7064 MOD 11-2 check character.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
# Province-level codes (first two digits) of GB/T 2260, Hong Kong, Macao and Taiwan included.
PROVINCE_CODES = frozenset(
    [
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
        83,
    ]
)
_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$", re.ASCII)
# Longer than any plausible typing of 18 characters with spaces around them:
# refused before any further work.
MAX_TYPED_LENGTH = 40


def normalise_id_number(value) -> str:
    """The identity number as stored: surrounding spaces dropped, full-width
    digits and Ｘ/x (as Chinese input methods type them) turned into ASCII by
    Unicode NFKC, upper case. Other characters are left for the check to refuse
    (NFKC leaves Arabic-Indic and other digit forms as they are)."""
    return unicodedata.normalize("NFKC", str(value)).strip().upper()


@dataclass(frozen=True)
class IdNumber:
    number: str
    region_code: str
    birth_date: dt.date
    sex: str  # "M" or "F"

    @property
    def masked(self) -> str:
        return mask_id_number(self.number)

    def __str__(self) -> str:
        return self.number


def check_character(first17: str) -> str:
    total = sum(
        int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True)
    )
    return CHECK_CHARS[total % 11]


def parse_id_number(value, *, today: dt.date | None = None) -> IdNumber:
    """Parse and validate an identity number; raise ValidationError saying what is wrong."""
    if value is None:
        raise ValidationError(_("请填写身份证号。"), code="required")
    if len(str(value)) > MAX_TYPED_LENGTH:
        raise ValidationError(
            _("身份证号应为18位，您填写的内容过长，请核对。"), code="length"
        )
    number = normalise_id_number(value)
    if not number:
        raise ValidationError(_("请填写身份证号。"), code="required")
    if any(ch.isspace() for ch in number):
        raise ValidationError(
            _("身份证号中不能有空格，请连续填写18位。"), code="characters"
        )
    if len(number) != 18:
        raise ValidationError(
            _("身份证号应为18位，您填写了%(count)d位，请核对。")
            % {"count": len(number)},
            code="length",
        )
    if not _SHAPE.match(number):
        raise ValidationError(
            _("身份证号前17位应为数字，第18位为数字或字母X，请核对。"),
            code="characters",
        )
    if int(number[:2]) not in PROVINCE_CODES:
        raise ValidationError(
            _("身份证号前两位 %(code)s 不是有效的省级行政区划代码，请核对。")
            % {"code": number[:2]},
            code="province",
        )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("身份证号第7至14位的出生日期 %(date)s 不存在，请核对。")
            % {"date": number[6:14]},
            code="birth_date",
        ) from None
    today = today or timezone.localdate()
    if birth > today:
        raise ValidationError(
            _("身份证号中的出生日期晚于今天，请核对。"), code="future_birth_date"
        )
    if birth.year < 1880:
        raise ValidationError(
            _("身份证号中的出生年份早于1880年，请核对。"), code="birth_date"
        )
    expected = check_character(number[:17])
    if number[17] != expected:
        raise ValidationError(
            _("身份证号第18位校验码不正确，请核对。"), code="checksum"
        )
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return IdNumber(number=number, region_code=number[:6], birth_date=birth, sex=sex)


def mask_id_number(number: str | None) -> str:
    """`340104199001011234` → `3401**********1234`."""
    if not number:
        return ""
    number = str(number)
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_mobile(number: str | None) -> str:
    """`13812345678` → `138****5678`."""
    if not number:
        return ""
    number = str(number)
    if len(number) < 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def make_id_number(region_code: str, birth: dt.date, sequence: int) -> str:
    """Build a valid number (demo data and tests): sequence 0–999, odd = male."""
    first17 = f"{region_code}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)
