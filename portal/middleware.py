"""Cross-cutting request handling: security headers, language per user, and a
clear 503 page when the database is unreachable."""

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.shortcuts import render

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'self'; object-src 'none'"
)


class ContentSecurityPolicyMiddleware:
    """A Content Security Policy without inline scripts or styles."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/admin/"):
            response.headers.setdefault("Content-Security-Policy", CSP)
        else:
            # The Django admin uses a few inline styles of its own.
            response.headers.setdefault(
                "Content-Security-Policy",
                CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
            )
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response


class UserLanguageMiddleware:
    """Chinese first: the page is in zh-hans unless the visitor chose English
    with the switcher (cookie) or on their account. The browser's
    Accept-Language is not consulted. Runs before LocaleMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            chosen = (
                request.session.get("account_language")
                if hasattr(request, "session")
                else None
            )
            if chosen in dict(settings.LANGUAGES):
                request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = chosen
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A lost database connection gives a clear 503 page, never a 500 trace."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (OperationalError, InterfaceError)) or (
            isinstance(exception, DatabaseError)
            and "connection" in str(exception).lower()
        ):
            response = render(request, "503.html", status=503)
            response["Retry-After"] = "30"
            return response
        return None


class SessionRefreshMiddleware:
    """Sliding 30-minute sessions without a write on every page: a signed-in
    session's expiry is pushed forward at most once per SESSION_REFRESH_SECONDS."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        import time

        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            if now - request.session.get("_refreshed", 0) >= getattr(
                settings, "SESSION_REFRESH_SECONDS", 60
            ):
                request.session["_refreshed"] = (
                    now  # marks the session modified: saved with a new expiry
                )
        return self.get_response(request)
