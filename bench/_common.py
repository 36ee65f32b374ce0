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
import json
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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5432"))
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
# Without redis-server on this machine, runs share this Redis (and may collide).
REDIS_FALLBACK_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")

_started = time.perf_counter()


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


# --- Rows for the bulk loads, derived from the models ---------------------------------
#
# The loaders write the columns whose values the benchmark is about and leave
# every other column of the table to these helpers, which give it what a new
# instance would get. A column added to a model is then filled by itself; a
# column a loader names that no longer exists, or a new NOT NULL column
# without a default, stops the run with the model and column named.


def columns_rest(model, written: Sequence[str]) -> list[tuple[object, object]]:
    """``(field, value)`` for each concrete column of ``model`` not in
    ``written`` (column names): the current time for ``auto_now`` fields, its
    default, NULL where allowed, an empty string for text; columns with a
    database default are left to the database (which computes it per row). A
    default computed in Python is taken once for all rows: one on a unique
    column stops the run (the loader must write that column)."""
    from django.db.models import NOT_PROVIDED
    from django.utils import timezone

    fields = model._meta.concrete_fields
    known = {f.column for f in fields}
    unknown = [c for c in written if c not in known]
    if unknown:
        raise SystemExit(f"bench: {model.__name__} has no column {unknown}: update the loader in bench/")
    rest = []
    for f in fields:
        if f.column in written or f.primary_key:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = timezone.now()
        elif getattr(f, "db_default", NOT_PROVIDED) is not NOT_PROVIDED:
            continue
        elif f.has_default():
            if f.unique and callable(f.default):
                raise SystemExit(
                    f"bench: {model.__name__}.{f.name} is unique with a default computed per row: "
                    "give it a value in the loader in bench/"
                )
            value = f.get_default()
        elif f.null:
            value = None
        elif f.empty_strings_allowed and not f.is_relation:
            value = ""
        else:
            raise SystemExit(
                f"bench: {model.__name__}.{f.name} (column {f.column}) is NOT NULL without a default: "
                "give it a value in the loader in bench/"
            )
        rest.append((f, value))
    return rest


def copy_text(value: object) -> str:
    """``value`` in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        text = value.isoformat()
    elif isinstance(value, timedelta):
        text = f"{value.total_seconds():.6f} seconds"
    elif isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False)
    else:
        text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


@dataclass
class CopyRows:
    """A COPY into ``model``'s table: the loader's ``written`` columns (text
    values it renders itself) followed by the rest from :func:`columns_rest`."""

    model: object
    written: Sequence[str]

    def __post_init__(self) -> None:
        rest = columns_rest(self.model, self.written)
        self.columns = [*self.written, *(f.column for f, _ in rest)]
        self.tail = [copy_text(f.get_prep_value(v)) for f, v in rest]

    def copy(self, cursor, rows: Iterable[list[str]], *, chunk_rows: int = 20_000) -> int:
        """Text-format COPY of ``rows`` (lists of text for the written columns; the
        loader's values hold no tab, newline or backslash), written in chunks."""
        from django.db import connection

        table = connection.ops.quote_name(self.model._meta.db_table)
        names = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        tail = self.tail
        count = 0
        chunk: list[str] = []
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                if not count and len(row) != len(self.written):
                    raise SystemExit(f"bench: {self.model.__name__} rows have {len(row)} values for {self.written}")
                chunk.append("\t".join([*row, *tail]) if tail else "\t".join(row))
                count += 1
                if len(chunk) >= chunk_rows:
                    copy.write("\n".join(chunk) + "\n")
                    chunk = []
            if chunk:
                copy.write("\n".join(chunk) + "\n")
        return count


def insert_select(model, written: Sequence[str], select: str, *, with_: str = "") -> tuple[str, dict]:
    """``[WITH …] INSERT INTO <model's table> (written…, rest…) SELECT s.*, <rest
    values> FROM (<select>) AS s`` and its parameters: the loader's SELECT gives
    the ``written`` columns in order (named parameters ``%(name)s``, ``%%`` for
    a percent sign), :func:`columns_rest` the others."""
    from django.db import connection

    rest = columns_rest(model, written)
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in [*written, *(f.column for f, _ in rest)])
    params = {f"rest_{i}": f.get_db_prep_save(v, connection) for i, (f, v) in enumerate(rest)}
    values = "".join(f", %(rest_{i})s" for i in range(len(rest)))
    table = quote(model._meta.db_table)
    return f"{with_}\nINSERT INTO {table} ({names})\nSELECT s.*{values} FROM (\n{select}\n) AS s", params


def tables() -> dict[str, str]:
    """The tables the SQL loaders read and write, from the models (``$ticket``,
    ``$slatarget`` … in their SQL)."""
    from django.contrib.auth import get_user_model

    from merchants.models import Merchant
    from tickets.models import Category, SLATarget, Team, Ticket, TicketEvent

    return {
        "ticket": Ticket._meta.db_table,
        "slatarget": SLATarget._meta.db_table,
        "ticketevent": TicketEvent._meta.db_table,
        "category": Category._meta.db_table,
        "team_members": Team.members.through._meta.db_table,
        "merchant": Merchant._meta.db_table,
        "user": get_user_model()._meta.db_table,
    }


# --- Staff and shops -------------------------------------------------------------------


def staff_create(*, agents: int = 10):
    """One team with one supervisor and ``agents`` members, one manager, and one
    category per priority. Returns ``(team, supervisor, manager, agents, categories)``
    where ``categories`` maps priority to category."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from tickets.models import Category, Team

    User = get_user_model()

    def user(username: str, group: str):
        u = User.objects.create_user(username=username, email=f"{username}@staff.example", password=None)
        u.is_staff = True
        u.save(update_fields=["is_staff"])
        u.groups.add(Group.objects.get(name=group))
        return u

    supervisor = user("bench-supervisor", "supervisors")
    manager = user("bench-manager", "managers")
    members = [user(f"bench-agent{i:02d}", "agents") for i in range(agents)]
    team = Team.objects.create(name="售后一组 (bench)", email="team@staff.example")
    team.supervisors.add(supervisor)
    team.members.add(*members)
    categories = {
        priority: Category.objects.create(
            code=f"bench-{priority}", name_zh=name_zh, name_en=name_en, default_priority=priority, team=team
        )
        for priority, name_zh, name_en in (
            ("urgent", "订单异常", "Order error"),
            ("normal", "退款问题", "Refund"),
            ("low", "建议", "Suggestion"),
        )
    }
    return team, supervisor, manager, members, categories


def marketplace_create(*, teams: int, agents: int, merchants: int):
    """``teams`` teams of three categories (urgent, normal, low; codes
    ``bench-<team>-<priority>``), ``agents`` agents (agent i works for every team
    t with t % agents == i), one manager, ``merchants`` shops. Returns
    ``(agents, manager, categories)``."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from merchants.models import Merchant
    from tickets.models import Category, Team

    User = get_user_model()
    agents_group, managers_group = Group.objects.get(name="agents"), Group.objects.get(name="managers")
    staff = []
    for i in range(agents):
        user = User.objects.create_user(username=f"bench-agent{i:02d}", password=None, is_staff=True)
        user.groups.add(agents_group)
        staff.append(user)
    manager = User.objects.create_user(username="bench-manager", password=None, is_staff=True)
    manager.groups.add(managers_group)
    categories = []
    for t in range(teams):
        team = Team.objects.create(name=f"售后{t + 1:02d}组")
        team.members.add(staff[t % agents])
        for priority in ("urgent", "normal", "low"):
            categories.append(
                Category.objects.create(
                    code=f"bench-{t}-{priority}",
                    name_zh=f"分类{t}-{priority}",
                    name_en=f"Category {t}-{priority}",
                    default_priority=priority,
                    team=team,
                )
            )
    Merchant.objects.bulk_create([Merchant(shop_id=f"SHOP{i:05d}", name=f"店铺{i:05d}") for i in range(merchants)])
    return staff, manager, categories


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
