"""The embedded default for `make run`: DEBUG on, a fixed development key."""

from .base import *  # noqa: F401,F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env(
    "DJANGO_SECRET_KEY", default="dev-only-insecure-key-never-in-production-0123456789"
)
