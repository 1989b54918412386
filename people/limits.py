"""Rate limits of the pages that take an identity or mobile number, and the one
rule for a client's address (used by the limits and by the login lock-out).

Behind the production proxy every request comes from the proxy's address, so
the client is read from X-Forwarded-For, and only from the hops the trusted
proxies added (settings.TRUSTED_PROXY_COUNT, 0 when the portal faces clients
directly): a client cannot choose its own address by sending the header.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited

from core.errors import DomainError


def client_ip(request) -> str:
    hops = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if hops > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "") or "0.0.0.0"


def _ip_key(group, request):
    return client_ip(request)


def _account_key(group, request):
    user = getattr(request, "user", None)
    return f"user:{user.pk}" if user is not None and user.is_authenticated else None


class RateLimited(DomainError):
    code = "rate_limited"
    status = 429

    def __init__(self):
        super().__init__(_("操作过于频繁，请稍后再试。"))


def rate_limit_check(request, *, group: str) -> None:
    """Count this request against the group's limits per client address and,
    when signed in, per account (settings.RATE_LIMITS[group] = (per address,
    per account), e.g. ("30/h", "20/h")); RateLimited (429) past either."""
    per_ip, per_account = settings.RATE_LIMITS[group]
    limited = is_ratelimited(
        request, group=f"{group}:ip", key=_ip_key, rate=per_ip, increment=True
    )
    if _account_key(group, request) is not None:
        limited = (
            is_ratelimited(
                request,
                group=f"{group}:account",
                key=_account_key,
                rate=per_account,
                increment=True,
            )
            or limited
        )
    if limited:
        raise RateLimited()
