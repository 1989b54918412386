"""Settings shared by every environment, read from the environment (django-environ).

With nothing set, the portal runs on the embedded default: a SQLite file and a real
Celery worker on kombu's filesystem transport, so `make run` needs no server.
With DATABASE_URL=postgres://… and CELERY_BROKER_URL=redis://… it runs on
PostgreSQL and Redis.
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Developers' pages (/dev/sms/, the simulated SMS inbox): never in production;
# portal.settings.local turns them on for `make run`, apart from DEBUG.
DEV_PAGES = False
SECRET_KEY = env("DJANGO_SECRET_KEY", default=None)
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"]
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "axes",
    "auditlog",
    "core",
    "people",
    "enrollment",
    "payments",
    "transfers",
    "records",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.UserLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.SessionRefreshMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "portal.middleware.DatabaseUnavailableMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite: the web, the worker and beat share one file; WAL and a busy
    # timeout let them take turns instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "people.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "core.hashers.PortalArgon2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "people:login"
# The citizen's home page (the composition root's): where the apps send
# someone who has nothing to do on their page.
HOME_URL = "portal:home"
LOGIN_REDIRECT_URL = HOME_URL
LOGOUT_REDIRECT_URL = "portal:home"

# Lockout after repeated failed logins (django-axes), per username and address.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
# Locked per (username, client address) together, never per username alone, so
# wrong passwords typed elsewhere never lock the holder out; the delay grows
# with each further failure (people.lockout), and the forgotten-password page
# (SMS code) is the way out.
AXES_COOLOFF_TIME = "people.lockout.cool_off"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "people.limits.client_ip"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_SENSITIVE_PARAMETERS = ["password", "id_number", "mobile"]
AXES_VERBOSE = False

SESSION_COOKIE_AGE = 30 * 60
# Idle timeout of 30 minutes, refreshed at most once a minute by
# portal.middleware.SessionRefreshMiddleware, so a page view is not a write.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = 60
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
# A refused form (CSRF) gets a page in the citizen's language saying what to do.
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
# Dates as 2026年12月8日 / 8 Dec 2026 (UX.md).
FORMAT_MODULE_PATH = ["portal.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = env(
    "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="noreply@yibao.example.cn")

# --- Celery -------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
BROKER_DIR = Path(env("BROKER_DIR", default=str(VAR_DIR / "broker")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Keep a worker's database connection across tasks (Celery's Django fixup closes
# it around every task otherwise: ../shared/MEASURED.md).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Periodic scans: due work lives in the database; beat only wakes the scanners.
CELERY_BEAT_SCHEDULE = {
    "outbox-relay": {"task": "core.tasks.outbox_relay", "schedule": 2.0},
    "payments-reconcile": {
        "task": "payments.tasks.payments_reconcile",
        "schedule": 5.0,
    },
    "transfers-scan": {"task": "transfers.tasks.transfers_scan", "schedule": 2.0},
    "records-filings-expire": {
        "task": "records.tasks.filings_expire_scan",
        "schedule": 60.0,
    },
    "people-reminders": {"task": "people.tasks.reminders_scan", "schedule": 3600.0},
}

# --- The portal's own settings ----------------------------------------------------
# Simulated time: one working day of the regional offices lasts this many seconds.
# How long a process keeps the working-day calendar before reading it again
# (staff edits apply within this time; 0 reads it every time).
WORKDAYS_CACHE_SECONDS = env.float("WORKDAYS_CACHE_SECONDS", default=30.0)
SIMULATED_SECONDS_PER_WORKING_DAY = env.float(
    "SIMULATED_SECONDS_PER_WORKING_DAY", default=10.0
)
# How long the transfer engine's scan holds a claimed step before another scan may retry it.
TRANSFER_CLAIM_LEASE_SECONDS = env.float("TRANSFER_CLAIM_LEASE_SECONDS", default=30.0)
# Where the simulated payment channels send their callbacks.
PORTAL_BASE_URL = env("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
# Shared secret of the (simulated) payment channels' signed callbacks.
PAYMENT_CALLBACK_SECRET = env(
    "PAYMENT_CALLBACK_SECRET", default="dev-callback-secret-change-me"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_pii": {"()": "core.logging.MaskPersonalDataFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_pii"],
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Real-name check and SMS (SPEC §1a) ------------------------------------------
# Adapters a real deployment replaces: the province's population registry
# (户籍人口库) and an SMS gateway. The simulated ones keep their own tables and
# can be told to be unavailable or slow (REGISTRY_SIMULATION / SMS_SIMULATION:
# {"unavailable": True, "delay_seconds": 2}).
POPULATION_REGISTRY = env(
    "POPULATION_REGISTRY", default="people.registry.SimulatedRegistry"
)
REGISTRY_SIMULATION = {
    "unavailable": env.bool("REGISTRY_SIM_UNAVAILABLE", default=False),
    "delay_seconds": env.float("REGISTRY_SIM_DELAY_SECONDS", default=0.0),
}
SMS_GATEWAY = env("SMS_GATEWAY", default="people.sms.SimulatedSmsGateway")
SMS_SIMULATION = {
    "unavailable": env.bool("SMS_SIM_UNAVAILABLE", default=False),
    "delay_seconds": env.float("SMS_SIM_DELAY_SECONDS", default=0.0),
}
SMS_CODE_TTL_SECONDS = 10 * 60
SMS_CODE_MAX_GUESSES = 5
SMS_RESEND_SECONDS = 60
SMS_SENDS_PER_HOUR = 5

# Pages that take an identity or mobile number: (per client address, per
# account) — people.limits. The client address comes from X-Forwarded-For only
# through TRUSTED_PROXY_COUNT proxies (0: none, the socket's address).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
RATE_LIMITS = {
    "signup": ("20/h", "20/h"),
    "sms": ("20/h", "20/h"),
    "password_reset": ("20/h", "20/h"),
    "family": ("60/h", "30/h"),
    "number_lookup": ("120/h", "60/h"),
}
RATELIMIT_USE_CACHE = "default"

# One cache shared by every process: rate limits, "looked at today" marks and
# cached sessions must hold across gunicorn workers. Redis in production and
# the bench (CACHE_URL=redis://…); a file cache in `make run` (no server);
# per-process memory in the tests.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# Sessions read from the cache, written through to the database: a logged-in
# page no longer pays a SELECT for its session.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
