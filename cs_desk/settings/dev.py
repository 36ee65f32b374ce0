"""Development settings: ``make run`` and a developer's ``manage.py``. NOT FOR
PRODUCTION (an insecure fallback secret key, plain HTTP, mail to the console).

Without DATABASE_URL and a broker in the environment, the addresses come from
the running ``make run`` (``$CS_DESK_DATA_DIR/run.env``); nothing is started here."""

from django.core.exceptions import ImproperlyConfigured

from cs_desk import env

env.load_run_env()

from .base import *  # noqa: E402, F403

SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-never-use-in-production"
ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]"]

if not DATABASE_URL:
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Start the whole system with `make run` (it starts an embedded "
        "PostgreSQL and Redis), or set DATABASE_URL and CELERY_BROKER_URL."
    )
if not REDIS_URL:
    raise ImproperlyConfigured("CELERY_BROKER_URL / REDIS_URL is not set (see `make run`).")
