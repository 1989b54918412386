"""Log filter that masks identity and mobile numbers in every log line."""

import logging
import re

from .identity import mask_id_number, mask_mobile

_ID = re.compile(r"(?<![0-9])(\d{17}[\dXx])(?![0-9])")
_MOBILE = re.compile(r"(?<![0-9])(1[3-9]\d{9})(?![0-9])")


def mask_text(text: str) -> str:
    text = _ID.sub(lambda m: mask_id_number(m.group(1)), text)
    return _MOBILE.sub(lambda m: mask_mobile(m.group(1)), text)


class MaskPersonalDataFilter(logging.Filter):
    def filter(self, record):
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True
