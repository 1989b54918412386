"""The project's own pages: the home page, health checks and error pages."""

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render


def home(request):
    if (
        request.user.is_authenticated
        and request.user.is_staff
        and not request.user.person_id
    ):
        return redirect("admin:index")
    return render(request, "portal/home.html")


def healthz(request):
    return JsonResponse({"status": "ok"})


def readyz(request):
    """200 only when the database and the broker answer."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["database"] = f"error: {type(exc).__name__}"
    checks["broker"] = _broker_check()
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", **checks},
        status=200 if ready else 503,
    )


def _broker_check() -> str:
    from .celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"error: {type(exc).__name__}"


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_500(request):
    return render(request, "500.html", status=500)
