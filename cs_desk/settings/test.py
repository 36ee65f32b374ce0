"""Test settings: real PostgreSQL and Redis on this machine unless the environment
says otherwise (the suite never falls back to the embedded servers)."""

import os
import tempfile

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cs_desk")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")

from .base import *  # noqa: F403

SECRET_KEY = "test-only-secret-key-not-for-any-real-deployment"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1", "[::1]"]
# The tests' webhook receiver listens on 127.0.0.1 (the refusal tests turn this off).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True

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
