"""Development settings: ``make run`` and a developer's ``manage.py``. NOT FOR
PRODUCTION (an insecure fallback secret key, plain HTTP, mail to files).

Without DATABASE_URL and a broker in the environment, the addresses come from
the running ``make run`` (``$CS_DESK_DATA_DIR/run.env``), else they are where
``make run`` puts its embedded servers; nothing is started here."""

import os

from cs_desk import env

env.load_run_env()

from .base import *  # noqa: E402, F403

SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-never-use-in-production"
ALLOWED_HOSTS = ALLOWED_HOSTS or ["localhost", "127.0.0.1", "[::1]"]

if not DATABASE_URL:
    # Where `make run` starts the embedded PostgreSQL: commands that need no
    # database (makemigrations --check, compilemessages) work without it, and
    # the others fail to connect to that socket, which says what to start.
    from urllib.parse import quote

    DATABASE_URL = f"postgres://postgres@{quote(str(env.DATA_DIR / 'pg'), safe='')}/cs_desk"
    DATABASES = {"default": database_settings(DATABASE_URL)}
if not REDIS_URL:
    REDIS_URL = env.embedded_redis_url()
    CELERY_BROKER_URL = CELERY_BROKER_URL or env.embedded_broker_url()
    CACHES["default"]["LOCATION"] = REDIS_URL

# Mail goes to files in $CS_DESK_DATA_DIR/sent-mail/ (one per connection, every
# message in full), not to the console: the demo alone sends hundreds, which
# buried the log (Celery logs a task's stdout as warnings). EMAIL_BACKEND in the
# environment still chooses another.
if "EMAIL_BACKEND" not in os.environ:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(env.DATA_DIR / "sent-mail")
