"""Settings for the test suite."""

from .base import *  # noqa: F401,F403
from .base import INSTALLED_APPS, VAR_DIR, env

# The benchmark app (its seed command and baseline table) is tested too.
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
SECRET_KEY = "test-key-not-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Unit tests run tasks in-process; the real-services tests (tests/integration)
# set CELERY_TASK_ALWAYS_EAGER=false and start real worker processes.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
# WhiteNoise warns when STATIC_ROOT is missing; tests serve from the finders.
STATIC_ROOT = VAR_DIR / "test-static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
# Tests change the calendar inside transactions that roll back: read it every time.
WORKDAYS_CACHE_SECONDS = 0
