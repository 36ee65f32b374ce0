"""The benchmarks' bulk loads: rows derived from the models (every column a
loader does not name gets what a new instance would), and the staff and shops
every benchmark starts from. Used through ``bench._common``."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5432"))
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
# Without redis-server on this machine, runs share this Redis (and may collide).
REDIS_FALLBACK_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")

_started = time.perf_counter()


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

    from accounts.models import Merchant
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

    from accounts.models import Merchant
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
