"""The portal's URLs plus three that fail on purpose, to see the error pages
a citizen gets (tests/portal/test_error_pages.py)."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from portal.urls import (  # noqa: F401 - the handlers are read from this module
    handler400,
    handler403,
    handler404,
    handler500,
    urlpatterns,
)


def forbidden(request):
    raise PermissionDenied


def bad_request(request):
    raise SuspiciousOperation("a request no form would send")


def broken(request):
    raise RuntimeError("a bug")


urlpatterns = [
    *urlpatterns,
    path("test-errors/403/", forbidden),
    path("test-errors/400/", bad_request),
    path("test-errors/500/", broken),
]
