"""Helpers shared by the benchmark scripts: a database of their own, Django
set up against it, the machine's description, and the scripts' sections of
``bench/RESULTS.md``.

Import this module before Django: :func:`django_setup` sets the environment
that the settings read (``DATABASE_URL``, ``REDIS_URL``), so that no embedded
server starts.
"""

from __future__ import annotations

import os
import platform
import re
import shlex
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5432"))
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")

_started = time.perf_counter()


def log(message: str) -> None:
    """A progress line on stderr, with the seconds since the script started."""
    print(f"[{time.perf_counter() - _started:7.1f}s] {message}", file=sys.stderr, flush=True)


def database_url(name: str) -> str:
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def database_recreate(name: str) -> None:
    """Drop (terminating its sessions) and create the benchmark's own database."""
    import psycopg

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_clone(source: str, name: str) -> None:
    """``name`` as a copy of ``source`` (CREATE DATABASE … TEMPLATE: a file copy)."""
    import psycopg

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')


def database_drop(name: str) -> None:
    import psycopg

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def django_setup(*, db_name: str, redis_url: str) -> None:
    """Point the settings at the benchmark's database and Redis, then set up Django."""
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


def results_section_write(title: str, body: str) -> None:
    """Replace the ``## <title>`` section of RESULTS.md (up to the next ``## ``
    heading) with ``body``, or append it; other scripts' sections are kept."""
    heading = f"## {title}"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\nOne section per script in `bench/`.\n"
    section = f"{heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^{re.escape(heading)}[ \t]*\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section + "\n", text, count=1).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    RESULTS.write_text(text)


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
