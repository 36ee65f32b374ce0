"""Production: refuse to start without a real secret, send email over SMTP, and
serve only over HTTPS behind a proxy that sets X-Forwarded-Proto."""

from django.core.exceptions import ImproperlyConfigured

from cs_desk import env

from .base import *  # noqa: F403

if not env.env_str("SECRET_KEY"):
    raise ImproperlyConfigured("SECRET_KEY must be set in production.")
DEBUG = False
EMAIL_BACKEND = env.env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
