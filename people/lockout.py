"""The login lock-out's growing delay (django-axes AXES_COOLOFF_TIME).

The lock is per (username, client address) together, so someone typing wrong
passwords for another person's mobile locks only their own attempts. Each
further round of AXES_FAILURE_LIMIT failures from the same address within a
day doubles the delay: 1, 2, 4 … minutes, at most an hour.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from .limits import client_ip

MAX_MINUTES = 60


def cool_off(request) -> dt.timedelta:
    if request is None:
        return dt.timedelta(minutes=1)
    from axes.models import AccessFailureLog

    username = (request.POST.get("username") or "").strip()
    failures = AccessFailureLog.objects.filter(
        username=username,
        ip_address=client_ip(request),
        attempt_time__gte=timezone.now() - dt.timedelta(days=1),
    ).count()
    rounds = max(1, failures // max(1, settings.AXES_FAILURE_LIMIT))
    return dt.timedelta(minutes=min(MAX_MINUTES, 2 ** (rounds - 1)))
