"""Helpers shared by the benchmark scripts: the common options (``--smoke``,
``--keep``, ``--no-results``), a database and a Redis of the run's own, Django
set up against them, rows for the bulk loads derived from the models, the
machine's description, and the scripts' sections of ``bench/RESULTS.md``.

Import this module before Django: :func:`django_setup` sets the environment
that the settings read (``DATABASE_URL``, ``REDIS_URL``), so that no embedded
server starts.

Every run owns what it writes to: a database named after the script and the
process id (``cs_desk_bench_sweep_12345``), dropped when the run ends, also on
an error, Ctrl-C or SIGTERM (``--keep`` keeps it and says its name), and a
private ``redis-server`` on a free port, so that two runs at once (two CI jobs,
a benchmark beside a test run) never share a table, a cache key or a broker
queue.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5432"))
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
# Without redis-server on this machine, runs share this Redis (and may collide).
REDIS_FALLBACK_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")

_started = time.perf_counter()


# The bulk loads live in bench/_rows.py; the scripts reach them through this module.
from bench._rows import CopyRows, columns_rest, copy_text, insert_select, marketplace_create, staff_create, tables  # noqa: E402, F401


def log(message: str) -> None:
    """A progress line on stderr, with the seconds since the script started."""
    print(f"[{time.perf_counter() - _started:7.1f}s] {message}", file=sys.stderr, flush=True)


# --- Options ------------------------------------------------------------------------


def parser_new(doc: str) -> argparse.ArgumentParser:
    """The options every script has; the script adds its own."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="small scale (a few thousand tickets): checks that the benchmark still runs against the current "
        "schema and code; figures printed, not judged, not written to bench/RESULTS.md (CI runs this)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the run's database afterwards (its name is logged)")
    parser.add_argument(
        "--no-results", "--no-write", dest="no_results", action="store_true", help="do not write bench/RESULTS.md"
    )
    return parser


def sizes_apply(args: argparse.Namespace, **sizes: tuple[object, object]) -> None:
    """Fill the options left unset with ``(full, smoke)`` values; a smoke run
    never writes RESULTS.md."""
    for name, (full, smoke) in sizes.items():
        if getattr(args, name) is None:
            setattr(args, name, smoke if args.smoke else full)
    if args.smoke:
        args.no_results = True


# --- A database and a Redis of the run's own ------------------------------------------


def database_url(name: str) -> str:
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def _admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True) as conn:
        conn.execute(statement)


def database_recreate(name: str) -> None:
    """Drop (terminating its sessions) and create a database."""
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')


def database_clone(source: str, name: str) -> None:
    """``name`` as a copy of ``source`` (CREATE DATABASE … TEMPLATE: a file copy)."""
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')


def database_drop(name: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _exit_on_signal(signum, _frame) -> None:
    raise SystemExit(128 + signum)  # unwinds through the ``finally`` blocks that drop the database


def die_with_parent() -> None:
    """In a child before exec: SIGTERM it if this script dies, even by SIGKILL
    (Linux prctl PR_SET_PDEATHSIG), so that no server or worker outlives the run."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
    except OSError:
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Run:
    """What one run owns: its database (and copies of it), its Redis, a scratch directory."""

    script: str
    keep: bool
    directory: Path
    db_name: str = ""
    redis_url: str = ""
    _databases: list[str] = field(default_factory=list)

    def database_extra(self, suffix: str) -> str:
        """The name of another database of this run (dropped with the first)."""
        name = f"{self.db_name}_{suffix}"
        self._databases.append(name)
        return name


@contextlib.contextmanager
def run_owned(script: str, *, keep: bool = False, reuse: str | None = None) -> Iterator[Run]:
    """Create ``cs_desk_bench_<script>_<pid>`` and start a private Redis; on the
    way out (normal end, exception, Ctrl-C, SIGTERM, SIGHUP) stop the Redis and
    drop the databases, unless ``keep``. With ``reuse`` (the name of a database
    a ``--keep`` run left), that one is used and left in place."""
    previous = {sig: signal.signal(sig, _exit_on_signal) for sig in (signal.SIGTERM, signal.SIGHUP)}
    run = Run(script=script, keep=keep, directory=Path(tempfile.mkdtemp(prefix=f"cs_desk_bench_{script}_")))
    run.db_name = reuse or f"cs_desk_bench_{script}_{os.getpid()}"
    if reuse is None:
        run._databases.append(run.db_name)
    redis = None
    try:
        log(f"database {run.db_name}")
        if reuse is None:
            database_recreate(run.db_name)
        redis = PrivateRedis(run.directory)
        run.redis_url = redis.start()
        yield run
    finally:
        _django_connections_close()
        if redis is not None:
            redis.stop()
        for name in reversed(run._databases):
            if keep and name == run.db_name:
                log(f"kept database {name} (drop it with: psql -h {PG_HOST} -U {PG_USER} -c 'DROP DATABASE {name}')")
                continue
            try:
                database_drop(name)
            except Exception as error:  # never hide the run's own error behind this one
                log(f"could not drop database {name}: {error}")
        shutil.rmtree(run.directory, ignore_errors=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _django_connections_close() -> None:
    if "django.db" in sys.modules:
        from django.db import connections

        with contextlib.suppress(Exception):
            connections.close_all()


class PrivateRedis:
    """A ``redis-server`` of the run's own on a free port (no persistence), or,
    where none is installed, the shared one at ``BENCH_REDIS_URL``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.process: subprocess.Popen | None = None

    def start(self) -> str:
        binary = shutil.which("redis-server")
        if binary is None:
            log(f"redis-server not installed: using the shared {REDIS_FALLBACK_URL} (concurrent runs may collide)")
            return REDIS_FALLBACK_URL
        for _attempt in range(5):  # a free port can be taken between the probe and the bind
            port = _free_port()
            self.process = subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(self.directory)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                preexec_fn=die_with_parent,
            )  # fmt: skip
            if self._answers(port):
                return f"redis://127.0.0.1:{port}/0"
            self.stop()
        raise RuntimeError("could not start a private redis-server")

    def _answers(self, port: int) -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return True
            except OSError:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None


def django_setup(*, db_name: str, redis_url: str) -> None:
    """Point the settings at the run's database and Redis, then set up Django."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "cs_desk.settings.dev"
    os.environ["DATABASE_URL"] = database_url(db_name)
    os.environ["REDIS_URL"] = redis_url
    os.environ["CELERY_BROKER_URL"] = redis_url
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


# --- Timing ---------------------------------------------------------------------------


def timed_calls(call, runs: int, *, warm_up: int = 2) -> list[float]:
    """Milliseconds of each of ``runs`` calls of ``call``, after ``warm_up`` untimed ones."""
    for _ in range(warm_up):
        call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def page_timed(client, url: str, runs: int, *, warm_up: int) -> tuple[list[float], int, str]:
    """Server time of ``runs`` requests of ``url`` through the test client (after
    ``warm_up`` ones, each answering 200), the queries of one more, and its page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response

    times = timed_calls(get, runs, warm_up=warm_up)
    with CaptureQueriesContext(connection) as queries:
        body = get().content.decode()
    return times, len(queries), body


# --- The report -----------------------------------------------------------------------


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    from django.db import connection

    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (pg_version,) = cursor.fetchone()
        cursor.execute("SHOW shared_buffers")
        (shared_buffers,) = cursor.fetchone()
    return {
        "nproc": str(os.cpu_count()),
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "cpu": _cpu_model(),
        "postgresql": f"{pg_version} (shared_buffers {shared_buffers}, same host, TCP 127.0.0.1)",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": platform.platform(terse=True),
        "load average (1/5/15 min) when written": " / ".join(f"{x:.2f}" for x in os.getloadavg())
        + " (the machine is shared with other test runs)",
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def command_line() -> str:
    return ".venv/bin/python " + " ".join(shlex.quote(a) for a in [_relative(sys.argv[0]), *sys.argv[1:]])


def _relative(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return path


def now_utc_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def machine_markdown(info: dict[str, str]) -> str:
    return "\n".join(f"- {key}: {value}" for key, value in info.items())


def results_section_write(title: str, body: str, *, write: bool = True) -> None:
    """Replace the ``## <title>`` section of RESULTS.md (up to the next ``## ``
    heading) with ``body``, or append it; other scripts' sections are kept.
    Without ``write`` (smoke runs) the section is only built: the report code
    runs, the file is left alone."""
    heading = f"## {title}"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\nOne section per script in `bench/`.\n"
    section = f"{heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^{re.escape(heading)}[ \t]*\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    if write:
        RESULTS.write_text(text)
