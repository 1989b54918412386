"""The project's own pages: the home page, health checks, the status page
for people and the error pages."""

import datetime as dt

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import redirect, render
from django.template import loader
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
    """For machines (load balancers, monitors): 200 only when the database and
    the broker answer, as JSON. People read /status/."""
    checks = {"database": _database_check(), "broker": _broker_check()}
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "unavailable", **checks},
        status=200 if ready else 503,
    )


def _database_check() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return f"error: {type(exc).__name__}"


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


# How long the status page keeps its answer: enough that reloading it (or many
# people opening it during an outage) does not hammer the broker.
STATUS_CACHE_SECONDS = 15
STATUS_CACHE_KEY = "portal:status"
# Work waiting in the outbox longer than this means the background work is late.
OUTBOX_LATE_SECONDS = 5 * 60

SERVICES = [
    # (key, what it is, what works when it is up, what it means when it is down)
    (
        "database",
        _("账户与参保信息"),
        _("可以登录，查询参保信息、缴费记录和转移接续进度。"),
        _("暂时无法登录和查询。您已办理的业务都已保存，恢复后可以继续。"),
    ),
    (
        "background",
        _("后台处理"),
        _("缴费结果确认、转移接续办理和消息通知按时进行。"),
        _(
            "缴费结果确认、转移接续办理和消息通知会延后，恢复后自动补办；"
            "已付的款不会丢失，也不会重复扣款。请不要重复缴费。"
        ),
    ),
    (
        "sms",
        _("短信验证码"),
        _("注册和找回密码可以收到短信验证码。"),
        _("暂时收不到短信验证码，注册和找回密码请稍后再试；已有账号可以正常登录。"),
    ),
    (
        "registry",
        _("实名核验"),
        _("注册、添加家庭成员和代缴时可以核验姓名和身份证号。"),
        _("暂时无法核验姓名和身份证号，注册、添加家庭成员请稍后再试。"),
    ),
]


def _simulation_down(setting: str, adapter: str, simulated: str) -> bool | None:
    """Whether a simulated outside service has been told to be unavailable;
    None for a real adapter, whose state this page cannot see."""
    if adapter != simulated:
        return None
    return bool((getattr(settings, setting, None) or {}).get("unavailable"))


def _outbox_late() -> bool:
    from core.models import OutboxMessage

    return OutboxMessage.objects.filter(
        sent_at__isnull=True,
        created_at__lt=timezone.now() - dt.timedelta(seconds=OUTBOX_LATE_SECONDS),
    ).exists()


def _service_states() -> dict[str, str]:
    """Each service's state: "ok", "late" (working, behind), "down", or
    "unknown" (a real adapter, not probed from here)."""
    states = {"database": "ok" if _database_check() == "ok" else "down"}
    if _broker_check() != "ok":
        states["background"] = "down"
    elif states["database"] == "ok" and _outbox_late():
        states["background"] = "late"
    else:
        states["background"] = "ok"
    for key, setting, adapter, simulated in (
        (
            "sms",
            "SMS_SIMULATION",
            settings.SMS_GATEWAY,
            "people.sms.SimulatedSmsGateway",
        ),
        (
            "registry",
            "REGISTRY_SIMULATION",
            settings.POPULATION_REGISTRY,
            "people.registry.SimulatedRegistry",
        ),
    ):
        down = _simulation_down(setting, adapter, simulated)
        states[key] = "unknown" if down is None else ("down" if down else "ok")
    return states


def status(request):
    """系统状态 for people, in their language: what works now and what does
    not, and what that means for them. /readyz says the same to machines."""
    checked = cache.get(STATUS_CACHE_KEY)
    if checked is None:
        checked = (_service_states(), timezone.now())
        cache.set(STATUS_CACHE_KEY, checked, STATUS_CACHE_SECONDS)
    states, checked_at = checked
    rows = [
        {
            "key": key,
            "name": name,
            "state": states.get(key, "unknown"),
            "meaning": down if states.get(key) in ("down", "late") else up,
        }
        for key, name, up, down in SERVICES
        if states.get(key) != "unknown"
    ]
    all_ok = all(row["state"] == "ok" for row in rows)
    return render(
        request,
        "portal/status.html",
        {"rows": rows, "all_ok": all_ok, "checked_at": checked_at},
    )


def error_400(request, exception=None):
    return render(request, "400.html", status=400)


def error_403(request, exception=None):
    return render(request, "403.html", status=403)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a form sent from a page kept open too long (or a
    cookie refused) says what happened and what to do, in the page's
    language, instead of Django's page for developers."""
    return render(request, "403_csrf.html", status=403)


def error_500(request):
    """Rendered without the request's context processors: whatever failed
    (the session, the user, the database) is not asked again."""
    return HttpResponseServerError(loader.render_to_string("500.html"))
