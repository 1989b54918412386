"""The embedded default for `make run`: a fixed development key, the
developers' pages (/dev/sms/) on, and DEBUG off, so the demo shows the pages
citizens see (404, 403, CSRF, 500), not Django's pages for developers.
DJANGO_DEBUG=true brings those back."""

from .base import *  # noqa: F401,F403
from .base import STORAGES, VAR_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
DEV_PAGES = env.bool("DJANGO_DEV_PAGES", default=True)
SECRET_KEY = env(
    "DJANGO_SECRET_KEY", default="dev-only-insecure-key-never-in-production-0123456789"
)
# With DEBUG off, runserver serves no static files: WhiteNoise does, as in
# production, also straight from the source folders (a CSS change shows after
# a restart, `manage.py runserver` works before any collectstatic), and
# without the manifest, whose absence would make every page fail.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# A cache every make-run process shares without a server.
CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}
