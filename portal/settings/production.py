"""Production: every secret from the environment, HTTPS only.

Required: DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL, CELERY_BROKER_URL,
PAYMENT_CALLBACK_SECRET, CACHE_URL (Redis: rate limits and sessions must be
shared by every worker).
"""

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")  # no default: refuses to start without it
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
PAYMENT_CALLBACK_SECRET = env("PAYMENT_CALLBACK_SECRET")
CACHES = {"default": env.cache("CACHE_URL")}  # no default: a per-process cache
# would give each worker its own rate limits

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
EMAIL_BACKEND = env(
    "EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend"
)
