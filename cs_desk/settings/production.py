"""Production: refuses to start without its database, broker, secret and host
names; serves only over HTTPS (behind a proxy that sets X-Forwarded-Proto) with
HSTS; email over SMTP. ``manage.py check --deploy`` reports nothing."""

from django.core.exceptions import ImproperlyConfigured

from cs_desk import env

from .base import *  # noqa: F403

_missing = [
    name
    for name, value in (
        ("DATABASE_URL", DATABASE_URL),
        ("CELERY_BROKER_URL", CELERY_BROKER_URL),
        ("SECRET_KEY", SECRET_KEY),
        ("ALLOWED_HOSTS", ALLOWED_HOSTS),
    )
    if not value
]
if _missing:
    raise ImproperlyConfigured(f"Production settings need these environment variables: {', '.join(_missing)}.")

DEBUG = False
EMAIL_BACKEND = env.env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")

# HTTPS only: the proxy in front terminates TLS and says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.env_bool("SECURE_SSL_REDIRECT", True)
# The load balancer's health check may speak plain HTTP to the process.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.env_int("SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env.env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
