"""Settings of `make bench`: production settings (DEBUG off, manifest static
files, every secret from the environment) plus the baseline views of bench/.

The runner (bench/run.py) sets DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS,
DATABASE_URL, CELERY_BROKER_URL and PAYMENT_CALLBACK_SECRET, and
DJANGO_SECURE_SSL_REDIRECT=false because wrk talks plain HTTP on loopback.
"""

from portal.settings.production import *  # noqa: F401,F403
from portal.settings.production import INSTALLED_APPS, LOGGING

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
ROOT_URLCONF = "bench.urls"
# wrk sends tens of thousands of requests: keep the console for warnings.
LOGGING = {**LOGGING, "root": {**LOGGING["root"], "level": "WARNING"}}
