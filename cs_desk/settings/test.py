"""Test settings: real PostgreSQL and Redis on this machine unless the environment
says otherwise (the suite never falls back to the embedded servers)."""

import os
import tempfile
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cs_desk")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/8")

from .base import *  # noqa: F403


def _worker_redis_url(url: str, worker: str) -> str:
    """The Redis database of one pytest-xdist worker: the database ``url`` names
    plus the worker's number (gw0 keeps it, gw1 the next one …). The tests clear
    rate-limit keys by pattern, and presence keys are named by ticket id, which
    every worker's own test database hands out again: two workers sharing a Redis
    database would see each other's. ``make test-fast`` runs 2 workers, on
    databases 8 and 9 by default; set REDIS_URL to move them."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    number = base + int(worker.removeprefix("gw"))
    if number > 15:  # Redis has databases 0–15 unless configured otherwise
        raise ImproperlyConfigured(
            f"pytest-xdist worker {worker} would use Redis database {number}: set REDIS_URL to a lower database "
            f"(it and the next ones, one per worker, are used), e.g. redis://127.0.0.1:6379/8."
        )
    return urlunsplit(parts._replace(path=f"/{number}"))


# Each pytest-xdist worker (PYTEST_XDIST_WORKER, set before the settings load) gets
# a Redis database of its own for the cache, the rate limits, presence and the
# broker; the database of the environment itself is left untouched, so a process a
# test starts with that environment comes to the same worker's database.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _WORKER and REDIS_URL.startswith(("redis://", "rediss://")):
    if CELERY_BROKER_URL == REDIS_URL:
        CELERY_BROKER_URL = _worker_redis_url(REDIS_URL, _WORKER)
    REDIS_URL = _worker_redis_url(REDIS_URL, _WORKER)
    CACHES["default"]["LOCATION"] = REDIS_URL
    CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]["address"] = REDIS_URL

SECRET_KEY = "test-only-secret-key-not-for-any-real-deployment"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1", "[::1]"]
# The tests' webhook receiver listens on 127.0.0.1 (the refusal tests turn this off).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
# The providers' inbound webhooks are mounted (cs_desk.urls) and checked with these.
ANYMAIL = {
    "WEBHOOK_SECRET": "provider:test-only-webhook-secret",
    "MAILGUN_WEBHOOK_SIGNING_KEY": "test-only-mailgun-signing-key",
}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DATABASES["default"]["CONN_MAX_AGE"] = 0
CELERY_TASK_ALWAYS_EAGER = False
LANGUAGE_CODE = "zh-hans"
# Evidence files of the test run, away from the developer's own data.
EVIDENCE_ROOT = os.environ.get("EVIDENCE_ROOT") or os.path.join(
    tempfile.gettempdir(), f"cs_desk_test_evidence_{os.getpid()}"
)
if _WORKER:  # one directory per worker, also under an EVIDENCE_ROOT given by the environment
    EVIDENCE_ROOT = os.path.join(EVIDENCE_ROOT, _WORKER)
# Serve static files from the apps' directories (no collectstatic before tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# The API's throttles stay out of the way of the conformance run (one test lowers them).
# So do the guards against guessing (the conformance run sends many made-up
# tokens and keys); their own tests lower them.
RATE_LIMITS = {
    **RATE_LIMITS,
    "api_user": (100_000, 60),
    "api_anon": (100_000, 60),
    "token_guess": (100_000, 900),
    "api_key_guess": (100_000, 900),
}
