"""Cross-cutting request handling: security headers, language per user, and a
clear 503 page when the database is unreachable."""

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.shortcuts import render
from django.utils import translation

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
            response.headers.setdefault("Content-Security-Policy", CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"))
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


class UserLanguageMiddleware:
    """The language a signed-in user chose last, remembered on their account; it
    applies before LocaleMiddleware reads the session/cookie."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if not cookie and user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A lost database connection gives a clear 503 page, never a 500 trace."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (OperationalError, InterfaceError)) or (
            isinstance(exception, DatabaseError) and "connection" in str(exception).lower()
        ):
            response = render(request, "503.html", status=503)
            response["Retry-After"] = "30"
            return response
        return None
