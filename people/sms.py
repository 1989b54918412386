"""The SMS gateway adapter and one-time codes (SPEC §1a: sign-up and password
reset prove the mobile number).

A real deployment names its gateway class in settings.SMS_GATEWAY; `make run`
and the tests use SimulatedSmsGateway, which keeps each message in a table
(people.SimSmsMessage), prints it on the console, and can be told (settings
SMS_SIMULATION) to fail or be slow.

Codes are six digits, stored hashed, valid for SMS_CODE_TTL_SECONDS, used once,
and given up after SMS_CODE_MAX_GUESSES wrong guesses. Sending is limited per
number (one a minute, SMS_SENDS_PER_HOUR an hour).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from core.errors import DomainError

log = logging.getLogger(__name__)


class SmsUnavailable(DomainError):
    code = "sms_unavailable"
    status = 503

    def __init__(self):
        super().__init__(_("短信平台暂时无法发送验证码，请稍后再试。"))


class SimulatedSmsGateway:
    def send(self, *, mobile: str, text: str) -> None:
        from .models import SimSmsMessage

        simulation = getattr(settings, "SMS_SIMULATION", {}) or {}
        delay = float(simulation.get("delay_seconds", 0) or 0)
        if delay:
            time.sleep(delay)
        if simulation.get("unavailable"):
            raise SmsUnavailable()
        SimSmsMessage.objects.create(mobile=mobile, text=text[:300])
        # The developer reads the code here (make run); the mobile is masked by
        # the logging filter like every other log line.
        log.warning("simulated SMS to %s: %s", mobile, text)


def gateway():
    return import_string(settings.SMS_GATEWAY)()


def _new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def sms_code_send(*, mobile: str, purpose: str, text_for_code) -> None:
    """Send a new code for `purpose` to `mobile` unless the number has had one
    in the last minute or too many in the hour (DomainError then).
    `text_for_code(code)` makes the message."""
    from .models import SmsCode

    now = timezone.now()
    recent = SmsCode.objects.filter(
        mobile=mobile, created_at__gte=now - dt.timedelta(hours=1)
    ).values_list("created_at", flat=True)
    recent = sorted(recent, reverse=True)
    if recent and now - recent[0] < dt.timedelta(seconds=settings.SMS_RESEND_SECONDS):
        raise DomainError(
            _("验证码已发送，请稍等一分钟再重新获取。"),
            code="sms_too_soon",
            field="mobile",
        )
    if len(recent) >= settings.SMS_SENDS_PER_HOUR:
        raise DomainError(
            _("该手机号获取验证码次数过多，请一小时后再试。"),
            code="sms_too_many",
            field="mobile",
        )
    code = _new_code()
    SmsCode.objects.create(
        mobile=mobile,
        purpose=purpose,
        code_hash=make_password(code),
        expires_at=now + dt.timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
    )
    gateway().send(mobile=mobile, text=text_for_code(code))


def sms_code_use(*, mobile: str, purpose: str, code: str) -> None:
    """Use the newest live code for `mobile` and `purpose`; DomainError beside
    the code field when it is wrong, expired, used or given up. Called outside
    any transaction (a view, before the service the code proves), so a wrong
    guess is counted even though the request then stops."""
    if not _sms_code_take(mobile=mobile, purpose=purpose, code=code):
        raise DomainError(
            _("验证码不正确或已失效，请重新获取。"), code="sms_code_wrong", field="code"
        )


@transaction.atomic
def _sms_code_take(*, mobile: str, purpose: str, code: str) -> bool:
    from .models import SmsCode

    now = timezone.now()
    row = (
        SmsCode.objects.select_for_update()
        .filter(mobile=mobile, purpose=purpose, used_at__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )
    if row is None or row.expires_at <= now:
        return False
    if row.failed_attempts >= settings.SMS_CODE_MAX_GUESSES:
        return False
    typed = (code or "").strip()
    if not (
        typed.isascii() and typed.isdigit() and check_password(typed, row.code_hash)
    ):
        row.failed_attempts += 1
        row.save(update_fields=["failed_attempts"])
        return False
    row.used_at = now
    row.save(update_fields=["used_at"])
    return True
