"""SLA sweep benchmark: the cost of ``tickets.escalation.sla_sweep`` over a large
open backlog, when nothing is due and when 1 % of the backlog is due.

    .venv/bin/python bench/sweep.py [--tickets 1000000] [--due-fraction 0.01] [--keep]

Creates its own database (``cs_desk_bench_sweep``, dropped and recreated),
migrates it, and loads N open tickets with COPY, each with what
``tickets.services.ticket_create`` writes: the ticket (status new, due_at), its
first consumer message, its created / target_opened events, and its
first-response and resolution targets (clock, duration and ladder from the
policy of its priority, calendar of the policy, due_at and next_step_at from the
real calculator, steps_taken 0, no pauses). The figures:

* ``sweep_idle_ms``: median of several ``sla_sweep(now=T_idle)`` with T_idle
  before every step instant in the database (nothing due);
* ``sweep_due_ms`` / ``queries_due``: one ``sla_sweep(now=T_due)`` at which
  exactly ``due`` tickets (half low priority, half urgent) have their
  first-response warning *and* breach due: a warning, a breach, a hand-over to
  the supervisor, two notifications each, and for the low ones a priority raise
  that re-dates the resolution target;
* ``sweep_idle_after_ms``: the next beat's sweep (T_due + 30 s), nothing left due.

Progress goes to stderr; the last stdout line is one JSON object. The figures
replace this script's section of ``bench/RESULTS.md`` (not with ``--profile``).
"""

from __future__ import annotations

import argparse
import json
import math
import secrets
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

# Run as a script, this file's directory comes first on sys.path, where a module of
# the same name as a standard one (bench/calculator.py) would shadow it: use the root.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from bench import _common as common  # noqa: E402 (after the sys.path fix)

DB_NAME = "cs_desk_bench_sweep"
DB_NAME_COPY = "cs_desk_bench_sweep_copy"  # the same load, for the called-in run
REDIS_URL = "redis://127.0.0.1:6379/13"
SHANGHAI = ZoneInfo("Asia/Shanghai")

# The timeline (Asia/Shanghai; no holiday or make-up day falls in it).
# Due tickets, low priority: filed Wed 4 March 09:00-17:00, so their 5-working-day
# first response breaches Wed 11 March 09:00-17:00 (warning Mon 9 / Tue 10 March).
DUE_LOW_FROM = datetime(2026, 3, 4, 9, 0, tzinfo=SHANGHAI)
DUE_LOW_SPAN = timedelta(hours=8)
# Due tickets, urgent: filed Tue 10 March 05:10-17:00, 24 h first response breaches
# Wed 11 March 05:10-17:00 (level 2, at 36 h, only after T_due + 10 minutes).
DUE_URGENT_FROM = datetime(2026, 3, 10, 5, 10, tzinfo=SHANGHAI)
DUE_URGENT_SPAN = timedelta(hours=11, minutes=50)
# The due sweep runs at Wed 11 March 17:00.
T_DUE = datetime(2026, 3, 11, 17, 0, tzinfo=SHANGHAI)
# Everything else was filed in the 16 hours before it (minus 10 minutes), so its
# first step (an urgent warning at 18 h, a normal one at 20.25 working hours, ...)
# lies after T_DUE.
REST_FROM = T_DUE - timedelta(hours=16)
REST_SPAN = timedelta(hours=15, minutes=50)
# Creation instants on a 10-second grid: each distinct (priority, instant) runs the
# real calculator once; ~17 tickets a second share an instant at 1M.
GRID = timedelta(seconds=10)
# Priorities of the tickets not due, in proportion.
REST_PRIORITIES = ("normal", "normal", "urgent", "normal", "low")

SUBJECTS = ("付款成功但没有订单", "无法下单", "商家不回复", "退款一直没到账", "助力页面打不开", "物流三天没更新")

TICKET_COLUMNS = [
    "id",
    "reference",
    "tracking_token",
    "subject",
    "requester_name",
    "requester_email",
    "requester_phone",
    "language",
    "channel",
    "category_id",
    "priority",
    "status",
    "team_id",
    "assignee_id",
    "merchant_id",
    "order_number",
    "due_at",
    "is_overdue",
    "escalation_level",
    "first_responded_at",
    "resolved_at",
    "closed_at",
    "created_at",
    "updated_at",
]
TARGET_COLUMNS = [
    "id",
    "ticket_id",
    "kind",
    "cycle",
    "status",
    "clock",
    "duration",
    "calendar_id",
    "warning_percent",
    "breach_percent",
    "level2_percent",
    "started_at",
    "pauses",
    "paused_at",
    "due_at",
    "next_step_at",
    "steps_taken",
    "met_at",
    "closed_at",
]
MESSAGE_COLUMNS = ["ticket_id", "author_kind", "author_id", "body", "is_public", "created_at"]
EVENT_COLUMNS = ["ticket_id", "kind", "created_at", "actor_id", "target_id", "target_kind", "cycle", "step", "data"]

NULL = "\\N"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000, help="open tickets to load (default 1,000,000)")
    parser.add_argument("--due-fraction", type=float, default=0.01, help="share of them due at T_due (default 0.01)")
    parser.add_argument("--batch-size", type=int, default=None, help="sweep batch size (default: settings)")
    parser.add_argument("--idle-runs", type=int, default=15, help="idle sweeps to take the median of")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--no-explain",
        action="store_true",
        help="skip EXPLAIN ANALYZE of the lock query (run before the due sweep, rolled back)",
    )
    parser.add_argument(
        "--sweepers", type=int, default=1, help="concurrent sweeps for the due sweep (processes, as workers would)"
    )
    parser.add_argument(
        "--helpers",
        type=int,
        default=1,
        help="also run the due sweep as deployed, on a copy of the database: one sweep that calls in up to "
        "this many more when its first batch is full (SLA_SWEEP_HELPERS; default 1, 0 to skip)",
    )
    parser.add_argument("--profile", metavar="PATH", help="run the due sweep under cProfile, dump stats to PATH")
    parser.add_argument("--no-results", action="store_true", help="do not write bench/RESULTS.md")
    return parser.parse_args()


# --- Loading ------------------------------------------------------------------------


def _ts(value: datetime | None) -> str:
    return NULL if value is None else value.astimezone(UTC).isoformat()


def _interval(value: timedelta) -> str:
    return f"{value.total_seconds():.6f} seconds"


class Plan:
    """Which tickets exist: (created_at, priority, due) in creation order."""

    def __init__(self, total: int, due_fraction: float) -> None:
        self.due = round(total * due_fraction)
        self.due_low = (self.due + 1) // 2
        self.due_urgent = self.due - self.due_low
        self.rest = total - self.due
        if self.rest < 0:
            raise SystemExit("--due-fraction must be between 0 and 1")
        rows: list[tuple[datetime, str, bool]] = []
        rows += _spread(DUE_LOW_FROM, DUE_LOW_SPAN, self.due_low, "low", True)
        rows += _spread(DUE_URGENT_FROM, DUE_URGENT_SPAN, self.due_urgent, "urgent", True)
        for i, created in enumerate(_instants(REST_FROM, REST_SPAN, self.rest)):
            rows.append((created, REST_PRIORITIES[i % len(REST_PRIORITIES)], False))
        rows.sort(key=lambda r: r[0])
        self.rows = rows


def _instants(start: datetime, span: timedelta, count: int):
    slots = max(int(span / GRID), 1)
    for i in range(count):
        yield start + GRID * (i * slots // count)


def _spread(start: datetime, span: timedelta, count: int, priority: str, due: bool) -> list:
    return [(created, priority, due) for created in _instants(start, span, count)]


class Templates:
    """The two targets ticket_create opens, computed by the real code once per
    (priority, instant), with their COPY text ready."""

    def __init__(self) -> None:
        from tickets.calendars import working_calendar
        from tickets.models import SLAPolicy, Ticket

        self.policies = {p.priority: p for p in SLAPolicy.objects.select_related("calendar")}
        self.wcs = {p.priority: working_calendar(p.calendar) for p in self.policies.values()}
        self._dummy = Ticket()
        self._cache: dict[tuple[str, datetime], dict] = {}

    def get(self, priority: str, created: datetime) -> dict:
        key = (priority, created)
        hit = self._cache.get(key)
        if hit is None:
            from tickets.targets import target_new

            policy = self.policies[priority]
            first, resolution = (
                target_new(
                    ticket=self._dummy,
                    kind=kind,
                    cycle=1,
                    policy=policy,
                    calendar=policy.calendar,
                    wc=self.wcs[priority],
                    now=created,
                )
                for kind in ("first_response", "resolution")
            )
            hit = {
                "first": first,
                "resolution": resolution,
                "created": _ts(created),
                "ticket_due": _ts(min(first.due_at, resolution.due_at)),
                "targets": [_target_text(t) for t in (first, resolution)],
                "opened": [json.dumps({"due_at": t.due_at.isoformat()}) for t in (first, resolution)],
            }
            self._cache[key] = hit
        return hit


def _target_text(t) -> list[str]:
    """The columns of a target after ticket_id (see TARGET_COLUMNS)."""
    return [
        t.kind,
        "1",
        t.status,
        t.clock,
        _interval(t.duration),
        str(t.calendar_id),
        str(t.warning_percent),
        str(t.breach_percent),
        str(t.level2_percent),
        _ts(t.started_at),
        "[]",
        NULL,
        _ts(t.due_at),
        _ts(t.next_step_at),
        "0",
        NULL,
        NULL,
    ]


def _check_columns(model, columns: list[str]) -> None:
    actual = {f.column for f in model._meta.concrete_fields}
    if set(columns) | {"id"} != actual | {"id"}:
        raise SystemExit(
            f"{model.__name__} columns changed: missing {actual - set(columns)}, extra {set(columns) - actual}"
        )


def _copy(cursor, table: str, columns: list[str], rows) -> int:
    """Text-format COPY of ``rows`` (lists of text; values never hold tabs,
    newlines or backslashes), written in chunks."""
    count = 0
    chunk: list[str] = []
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            chunk.append("\t".join(row))
            count += 1
            if len(chunk) >= 20_000:
                copy.write("\n".join(chunk) + "\n")
                chunk = []
        if chunk:
            copy.write("\n".join(chunk) + "\n")
    return count


def load(plan: Plan, staff) -> dict:
    """COPY the tickets and everything ticket_create writes with them; returns
    the ids of the due tickets by priority and the row counts."""
    from django.db import connection

    from tickets.models import Message, SLATarget, Ticket, TicketCounter, TicketEvent

    team, _supervisor, _manager, agents, categories = staff
    for model, columns in (
        (Ticket, TICKET_COLUMNS),
        (SLATarget, TARGET_COLUMNS),
        (Message, MESSAGE_COLUMNS),
        (TicketEvent, EVENT_COLUMNS),
    ):
        _check_columns(model, columns)
    templates = Templates()
    day_counter: Counter = Counter()
    due_ids: dict[str, list[int]] = {"low": [], "urgent": []}

    def tickets():
        for ticket_id, (created, priority, due) in enumerate(plan.rows, 1):
            t = templates.get(priority, created)
            day = created.astimezone(SHANGHAI).date()
            day_counter[day] += 1
            if due:
                due_ids[priority].append(ticket_id)
                assignee = agents[ticket_id % len(agents)].pk if ticket_id % 2 else None
            else:
                assignee = agents[ticket_id % len(agents)].pk if ticket_id % 10 < 3 else None
            yield [
                str(ticket_id),
                f"CS-{day:%Y%m%d}-{day_counter[day]:06d}",
                secrets.token_urlsafe(32),
                SUBJECTS[ticket_id % len(SUBJECTS)],
                f"顾客{ticket_id}",
                f"buyer{ticket_id}@example.cn",
                "",
                "zh-hans",
                "web",
                str(categories[priority].pk),
                priority,
                "new",
                str(team.pk),
                NULL if assignee is None else str(assignee),
                NULL,
                f"{202603000000000 + ticket_id}",
                t["ticket_due"],
                "f",
                "0",
                NULL,
                NULL,
                NULL,
                t["created"],
                t["created"],
            ]

    def targets():
        for ticket_id, (created, priority, _due) in enumerate(plan.rows, 1):
            first, resolution = templates.get(priority, created)["targets"]
            yield [str(2 * ticket_id - 1), str(ticket_id), *first]
            yield [str(2 * ticket_id), str(ticket_id), *resolution]

    def messages():
        for ticket_id, (created, _priority, _due) in enumerate(plan.rows, 1):
            body = f"订单 {202603000000000 + ticket_id} 有问题，请尽快处理。"
            yield [str(ticket_id), "consumer", NULL, body, "t", _ts(created)]

    def events():
        for ticket_id, (created, priority, _due) in enumerate(plan.rows, 1):
            t = templates.get(priority, created)
            at = t["created"]
            data = json.dumps({"channel": "web", "priority": priority})
            yield [str(ticket_id), "created", at, NULL, NULL, "", NULL, NULL, data]
            for n, (kind, opened) in enumerate(zip(("first_response", "resolution"), t["opened"], strict=True)):
                target_id = 2 * ticket_id - 1 + n
                yield [str(ticket_id), "target_opened", at, NULL, str(target_id), kind, "1", NULL, opened]

    connection.ensure_connection()
    raw = connection.connection
    counts = {}
    with raw.transaction(), raw.cursor() as cursor:
        for name, model, columns, rows in (
            ("tickets", Ticket, TICKET_COLUMNS, tickets()),
            ("targets", SLATarget, TARGET_COLUMNS, targets()),
            ("messages", Message, MESSAGE_COLUMNS, messages()),
            ("events", TicketEvent, EVENT_COLUMNS, events()),
        ):
            started = time.perf_counter()
            counts[name] = _copy(cursor, model._meta.db_table, columns, rows)
            common.log(f"  COPY {name}: {counts[name]:,} rows in {time.perf_counter() - started:.1f} s")
        for model in (Ticket, SLATarget):
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    TicketCounter.objects.bulk_create(
        [TicketCounter(day=day, value=value) for day, value in day_counter.items()],
        update_conflicts=True,
        unique_fields=["day"],
        update_fields=["value"],
    )
    counts["calculator_runs"] = len(templates._cache)
    return {"due_ids": due_ids, "counts": counts, "templates": templates}


def vacuum_analyze() -> None:
    """What autovacuum would have done to tables this size: statistics for the
    planner and a visibility map (and hint bits) for the fresh rows; then a
    checkpoint, so that writing out the load does not land in the measurements."""
    from django.db import connection

    from tickets.models import Message, SLATarget, Ticket, TicketEvent

    with connection.cursor() as cursor:
        for model in (Ticket, SLATarget, TicketEvent, Message):
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
        cursor.execute("CHECKPOINT")  # the load's dirty pages are written now, not during the sweep


# --- Measuring ------------------------------------------------------------------------


class QueryMeter:
    """Counts the SQL statements of a block and the time spent in them (the
    round trip included), and the time spent in COMMITs."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.commit_seconds = 0.0  # COMMITs (deferred foreign-key checks run there)
        self.cpu_seconds = 0.0  # CPU time of this process (Python, psycopg), not PostgreSQL's
        self.per_sweeper: list[dict] = []
        self.slowest: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - started
            self.count += 1
            self.seconds += took
            self.slowest.append((took, " ".join(sql.split())[:110]))

    def top(self, n: int = 8) -> list[tuple[float, str]]:
        by_statement: dict[str, float] = {}
        for took, sql in self.slowest:
            key = sql[:60]
            by_statement[key] = by_statement.get(key, 0.0) + took
        return sorted(((v, k) for k, v in by_statement.items()), reverse=True)[:n]


def timed_sweep(
    now: datetime, batch_size: int | None, profile: str | None = None, on_backlog=None
) -> tuple[dict, float, QueryMeter]:
    from django.db import connection

    from cs_desk import bulk
    from tickets.escalation import sla_sweep

    meter = QueryMeter()
    commit = connection._commit
    copy = bulk._copy

    def timed_copy(cursor, table, names, rows) -> None:
        # COPY bypasses Django's execute wrappers: count and time it here.
        started = time.perf_counter()
        try:
            copy(cursor, table, names, rows)
        finally:
            took = time.perf_counter() - started
            meter.count += 1
            meter.seconds += took
            meter.slowest.append((took, f"COPY {table} ({', '.join(names)})"[:110]))

    bulk._copy = timed_copy

    def timed_commit() -> None:
        started = time.perf_counter()
        try:
            commit()
        finally:
            meter.commit_seconds += time.perf_counter() - started

    connection._commit = timed_commit
    try:
        with connection.execute_wrapper(meter):
            if profile:
                import cProfile

                profiler = cProfile.Profile()
                started = time.perf_counter()
                profiler.enable()
                counts = sla_sweep(now=now, batch_size=batch_size, on_backlog=on_backlog)
                profiler.disable()
                took = time.perf_counter() - started
                profiler.dump_stats(profile)
            else:
                started = time.perf_counter()
                cpu = time.process_time()
                counts = sla_sweep(now=now, batch_size=batch_size, on_backlog=on_backlog)
                took = time.perf_counter() - started
                meter.cpu_seconds = time.process_time() - cpu
    finally:
        del connection._commit  # back to the class's method
        bulk._copy = copy
    return counts, took * 1000, meter


def _sweeper(now: datetime, batch_size: int | None, barrier, results, called, calls) -> None:
    """One of several concurrent sweeps, in a forked process with a connection of its own.
    With ``called`` it starts only once the previous sweeper has called for help
    (``on_backlog``, as ``tickets.tasks.sla_sweep_task`` does through the broker)
    and ``calls`` is what it sets when it needs help in turn."""
    from django.db import connections

    connections.close_all()
    barrier.wait()
    if called is not None:
        called.wait(timeout=600)
    counts, ms, meter = timed_sweep(now, batch_size, on_backlog=calls.set if calls is not None else None)
    if calls is not None:
        calls.set()  # never leave the next one waiting
    results.put((counts, ms, meter.count, meter.seconds, meter.commit_seconds, meter.cpu_seconds))
    connections.close_all()


def parallel_sweep(
    now: datetime, batch_size: int | None, sweepers: int, *, called_in: bool = False
) -> tuple[dict, float, QueryMeter]:
    """``sweepers`` sweeps at once, as that many Celery workers would run them:
    wall time from the common start to the last one's end; counts and statements summed.
    With ``called_in`` only the first starts at once; each further one starts when
    the one before calls for help (its first batch came back full), as in production."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # the children must not share this process's connection
    mp = multiprocessing.get_context("fork")
    barrier = mp.Barrier(sweepers + 1)
    results = mp.Queue()
    events = [mp.Event() for _ in range(sweepers)] if called_in else [None] * sweepers
    children = [
        mp.Process(
            target=_sweeper,
            args=(
                now,
                batch_size,
                barrier,
                results,
                events[i - 1] if i else None,
                events[i] if i + 1 < sweepers else None,
            ),
        )
        for i in range(sweepers)
    ]
    for child in children:
        child.start()
    barrier.wait()
    started = time.perf_counter()
    collected = [results.get(timeout=600) for _ in children]
    took = time.perf_counter() - started
    for child in children:
        child.join(timeout=60)
    total: Counter = Counter()
    meter = QueryMeter()
    for counts, _ms, count, seconds, commit, cpu in collected:
        total.update(counts)
        meter.count += count
        meter.seconds += seconds
        meter.commit_seconds += commit
        meter.cpu_seconds += cpu
    meter.per_sweeper = [
        {"ms": round(ms), "tickets": counts["tickets"], "batches": counts["batches"]} for counts, ms, *_ in collected
    ]
    return dict(total), took * 1000, meter


def explain_lock(now: datetime, batch_size: int) -> str:
    """EXPLAIN ANALYZE of the sweep's lock query, rolled back (its row locks too)."""
    from django.db import connection, transaction

    from tickets.escalation import _LOCK_DUE_TICKETS

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + _LOCK_DUE_TICKETS, [now, batch_size])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


def min_step_at() -> datetime:
    from django.db.models import Min

    from tickets.models import SLATarget

    return SLATarget.objects.aggregate(m=Min("next_step_at"))["m"]


# --- Checking -------------------------------------------------------------------------


def verify(*, counts: dict, due_ids: dict[str, list[int]], supervisor, batches: int | None) -> dict:
    """What a user relies on after the due sweep; raises on any difference."""
    from django.db import connection
    from django.db.models import Count

    from tickets.models import Notification, SLATarget, Ticket, TicketEvent

    due = len(due_ids["low"]) + len(due_ids["urgent"])
    all_due = due_ids["low"] + due_ids["urgent"]
    expected_counts = {
        "warning": due,
        "breach": due,
        "level2": 0,
        "merchant_warning": 0,
        "merchant_missed": 0,
        "tickets": due,
    }
    if batches is not None:
        expected_counts["batches"] = batches
    problems = [f"sla_sweep {k}: {counts.get(k)} != {v}" for k, v in expected_counts.items() if counts.get(k) != v]

    events = dict(
        TicketEvent.objects.exclude(kind__in=("created", "target_opened")).values_list("kind").annotate(n=Count("pk"))
    )
    expected_events = {
        "sla_warning": due,
        "sla_breach": due,
        "assigned": due,
        "priority_changed": len(due_ids["low"]),
        "target_recomputed": len(due_ids["low"]),
    }
    if events != expected_events:
        problems.append(f"events {events} != {expected_events}")
    breach_tickets = set(TicketEvent.objects.filter(kind="sla_breach").values_list("ticket_id", flat=True))
    if breach_tickets != set(all_due):
        problems.append(f"breached tickets differ from the due ones: {len(breach_tickets ^ set(all_due))} differ")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {TicketEvent._meta.db_table} WHERE step IS NOT NULL "
            "GROUP BY ticket_id, target_kind, cycle, step HAVING count(*) > 1) d"
        )
        (duplicates,) = cursor.fetchone()
    if duplicates:
        problems.append(f"{duplicates} duplicated escalation steps")

    changed = Ticket.objects.filter(pk__in=all_due)
    checks = {
        "overdue tickets": (Ticket.objects.filter(is_overdue=True).count(), due),
        "escalation level 1 (due)": (changed.filter(escalation_level=1).count(), due),
        "assigned to the supervisor (due)": (changed.filter(assignee=supervisor).count(), due),
        "low raised to normal": (
            Ticket.objects.filter(pk__in=due_ids["low"], priority="normal").count(),
            len(due_ids["low"]),
        ),
        "untouched tickets still level 0": (
            Ticket.objects.exclude(pk__in=all_due).exclude(escalation_level=0).count(),
            0,
        ),
        "first-response targets at steps_taken 2": (
            SLATarget.objects.filter(ticket_id__in=all_due, kind="first_response", steps_taken=2).count(),
            due,
        ),
        "notifications (warning + breach)": (Notification.objects.count(), 2 * due),
        "breach notifications to the supervisor": (
            Notification.objects.filter(kind="sla_breach", recipient=supervisor.email).count(),
            due,
        ),
    }
    problems += [f"{name}: {got} != {want}" for name, (got, want) in checks.items() if got != want]
    if problems:
        raise AssertionError("; ".join(problems))
    return {"events": events, "checks": {k: v[0] for k, v in checks.items()}}


# --- Report ---------------------------------------------------------------------------


def results_write(result: dict, info: dict, extra: dict) -> None:
    shanghai = lambda d: d.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S %Z")  # noqa: E731
    python_ms = result["sweep_due_ms"] - result["sweep_due_db_ms"] - result["sweep_due_commit_ms"]
    top = "\n".join(f"| {ms:,.0f} | `{sql}` |" for ms, sql in extra["top_statements"])
    called_in = ""
    if "sweep_due_called_in_ms" in result:
        shares = ", ".join(f"{p['tickets']:,} tickets in {p['ms']:,} ms" for p in result["called_in_per_sweeper"])
        called_in = (
            f"| the same, as deployed (on a copy of the database): beat's sweep calls in "
            f"{result['called_in_sweepers'] - 1} more when its first batch is full (`SLA_SWEEP_HELPERS`) | "
            f"{result['sweep_due_called_in_ms']:,.0f} ms (per sweeper: "
            f"{shares}) "
            "| ≤ 5,000 ms |\n"
        )
    body = f"""
Measured {common.now_utc_text()}.

Machine:
{common.machine_markdown(info)}

Command: `{common.command_line()}` (DATABASE_URL of its own database `{DB_NAME}`,
REDIS_URL `{REDIS_URL}`, settings `cs_desk.settings.base`).

Data: {result["tickets"]:,} open tickets (status new, 30 % assigned to one of 10 agents), each loaded with
COPY exactly as `ticket_create` writes it: first-response and resolution targets (clock, duration,
ladder and calendar from the policy of its priority; due_at and next_step_at from the real calculator;
steps_taken 0; no pauses), the first consumer message, and the created / target_opened events
({extra["rows"]}). Priorities of the not-due tickets: 60 % normal, 20 % urgent, 20 % low.
`VACUUM (ANALYZE)` and a CHECKPOINT after the load. Timeline (Asia/Shanghai): idle sweeps at {shanghai(extra["t_idle"])}
(1 s before the earliest step instant in the database); the due sweep at {shanghai(extra["t_due"])}, when
exactly {result["due"]:,} tickets ({extra["due_low"]:,} low, {extra["due_urgent"]:,} urgent) have their
first-response warning and breach due; the "after" idle sweep at T_due + 30 s (the next beat).
Each due ticket gets: warning + breach events, hand-over to the team supervisor (assigned event),
2 outbox notifications; the low ones also a raise to normal and a re-dated resolution target.

| figure | value | target |
|---|---|---|
| load (COPY into the indexed tables, deferred foreign-key checks at COMMIT) | {result["load_s"]:.1f} s | |
| VACUUM (ANALYZE) + CHECKPOINT | {extra["vacuum_s"]:.1f} s | |
| sweep, nothing due (median of {extra["idle_runs"]}) | {result["sweep_idle_ms"]:.2f} ms, \
{result["queries_idle"]} query | ≤ 50 ms |
| sweep, {result["due"]:,} due, one sweeping process | {result["sweep_due_ms"]:,.0f} ms, {result["queries_due"]} \
statements, {result["batches"]} batches of ≤ {result["batch_size"]} | ≤ 5,000 ms |
{called_in}| of which in SQL statements and COPYs (psycopg's client-side work included) | \
{result["sweep_due_db_ms"]:,.0f} ms | |
| of which in COMMITs (deferred foreign-key checks run there) | {result["sweep_due_commit_ms"]:,.0f} ms | |
| of which the rest (Python: ORM, ladder, calculator, rendering) | {python_ms:,.0f} ms | |
| CPU time of the sweeping process (all of the above on the client side) | \
{result["sweep_due_cpu_ms"]:,.0f} ms | |
| next sweep, nothing left due (median) | {result["sweep_idle_after_ms"]:.2f} ms | ≤ 50 ms |

Steps taken by the due sweep: `{json.dumps(result["steps"], ensure_ascii=False)}`.
Verified afterwards: {extra["verified"]}.

Statements of the due sweep by total time (ms):

| ms | statement |
|---|---|
{top}

Lock query (`tickets.escalation._LOCK_DUE_TICKETS`), nothing due:

```
{extra["explain_idle"]}
```

Lock query, first batch of the due sweep (EXPLAIN ANALYZE just before the measured sweep, rolled back):

```
{extra["explain_due"]}
```

Last line of output:

```
{json.dumps(result)}
```
"""
    common.results_section_write("bench/sweep.py — SLA sweep over a large backlog", body)


def called_in_sweep(args, batch_size: int, loaded: dict, supervisor) -> dict:
    """The due sweep as deployed, on the copy of the database taken before the
    measured one: beat's sweep starts alone and, its first batch full, calls in
    up to ``--helpers`` more (``tickets.tasks.sla_sweep_task``)."""
    from django.db import connection, connections

    connections.close_all()
    connection.settings_dict["NAME"] = DB_NAME_COPY
    try:
        sweepers = 1 + args.helpers
        counts, ms, meter = parallel_sweep(T_DUE, batch_size, sweepers, called_in=True)
        common.log(f"called-in due sweep ({sweepers} sweepers): {ms:,.0f} ms, per sweeper {meter.per_sweeper}")
        verify(counts=counts, due_ids=loaded["due_ids"], supervisor=supervisor, batches=None)
        return {"ms": ms, "sweepers": sweepers, "per_sweeper": meter.per_sweeper}
    finally:
        connections.close_all()
        connection.settings_dict["NAME"] = DB_NAME


def main() -> None:
    args = parse_args()
    common.log(f"recreating database {DB_NAME}")
    common.database_recreate(DB_NAME)
    common.django_setup(db_name=DB_NAME, redis_url=REDIS_URL)
    from django.conf import settings

    batch_size = args.batch_size or settings.SLA_SWEEP_BATCH_SIZE
    try:
        common.log("migrating")
        common.migrate()
        staff = common.staff_create()
        supervisor = staff[1]
        plan = Plan(args.tickets, args.due_fraction)
        common.log(f"loading {args.tickets:,} tickets ({plan.due:,} due at T_due) with COPY")
        started = time.perf_counter()
        loaded = load(plan, staff)
        load_s = time.perf_counter() - started
        common.log(f"loaded in {load_s:.1f} s ({loaded['counts']['calculator_runs']:,} calculator runs)")
        started = time.perf_counter()
        vacuum_analyze()
        vacuum_s = time.perf_counter() - started
        common.log(f"VACUUM ANALYZE in {vacuum_s:.1f} s")

        earliest = min_step_at()
        t_idle = earliest - timedelta(seconds=1)
        idle_ms = []
        queries_idle = 0
        for _ in range(args.idle_runs):
            counts, ms, meter = timed_sweep(t_idle, batch_size)
            if counts["tickets"]:
                raise AssertionError(f"idle sweep took steps: {counts}")
            idle_ms.append(ms)
            queries_idle = meter.count
        sweep_idle_ms = statistics.median(idle_ms)
        common.log(f"idle sweep at {t_idle.isoformat()}: median {sweep_idle_ms:.2f} ms, {queries_idle} query")
        explain_idle = explain_lock(t_idle, batch_size)
        explain_due = "(skipped: --no-explain)"
        if not args.no_explain:
            explain_due = explain_lock(T_DUE, batch_size)

        if args.helpers:
            from django.db import connections

            connections.close_all()
            started = time.perf_counter()
            common.database_clone(DB_NAME, DB_NAME_COPY)
            common.log(f"copied the database for the called-in run in {time.perf_counter() - started:.1f} s")

        common.log(f"due sweep at {T_DUE.isoformat()} ({plan.due:,} tickets due)")
        if args.sweepers > 1:
            counts, sweep_due_ms, meter = parallel_sweep(T_DUE, args.batch_size, args.sweepers)
            common.log(f"  per sweeper: {meter.per_sweeper}")
        else:
            counts, sweep_due_ms, meter = timed_sweep(T_DUE, args.batch_size, profile=args.profile)
        common.log(
            f"due sweep: {sweep_due_ms:,.0f} ms, {meter.count} queries ({meter.seconds * 1000:,.0f} ms in SQL, "
            f"{meter.commit_seconds * 1000:,.0f} ms in COMMIT; "
            f"{meter.cpu_seconds * 1000:,.0f} ms CPU in this process), "
            f"counts {counts}"
        )
        verified = verify(
            counts=counts,
            due_ids=loaded["due_ids"],
            supervisor=supervisor,
            batches=math.ceil(plan.due / batch_size) if args.sweepers == 1 else None,
        )
        common.log(f"verified: {verified}")

        after_ms = []
        for _ in range(args.idle_runs):
            after_counts, ms, _meter = timed_sweep(T_DUE + timedelta(seconds=30), batch_size)
            if after_counts["tickets"]:
                raise AssertionError(f"the sweep after the due one took steps again: {after_counts}")
            after_ms.append(ms)
        sweep_idle_after_ms = statistics.median(after_ms)
        common.log(f"next sweep (T_due + 30 s): median {sweep_idle_after_ms:.2f} ms")

        called_in = None
        if args.helpers:
            called_in = called_in_sweep(args, batch_size, loaded, supervisor)

        result = {
            "tickets": args.tickets,
            "load_s": round(load_s, 1),
            "sweep_idle_ms": round(sweep_idle_ms, 2),
            "queries_idle": queries_idle,
            "due": plan.due,
            "sweep_due_ms": round(sweep_due_ms, 1),
            "sweep_due_db_ms": round(meter.seconds * 1000, 1),
            "sweep_due_commit_ms": round(meter.commit_seconds * 1000, 1),
            "sweep_due_cpu_ms": round(meter.cpu_seconds * 1000, 1),
            "queries_due": meter.count,
            "batches": counts["batches"],
            "batch_size": batch_size,
            "steps": {k: counts[k] for k in ("warning", "breach", "level2", "merchant_warning", "merchant_missed")},
            "sweep_idle_after_ms": round(sweep_idle_after_ms, 2),
            "sweepers": args.sweepers,
            "profiled": bool(args.profile),
        }
        if called_in is not None:
            result["sweep_due_called_in_ms"] = round(called_in["ms"], 1)
            result["called_in_sweepers"] = called_in["sweepers"]
            result["called_in_per_sweeper"] = called_in["per_sweeper"]
        print(f"lock query, nothing due:\n{explain_idle}", file=sys.stderr)
        print(f"lock query, due:\n{explain_due}", file=sys.stderr)
        print("statements of the due sweep by total time:", file=sys.stderr)
        for seconds, sql in meter.top():
            print(f"  {seconds * 1000:8.1f} ms  {sql}", file=sys.stderr)
        if args.profile:
            import pstats

            stats = pstats.Stats(args.profile, stream=sys.stderr)
            stats.sort_stats("cumulative").print_stats(35)
            stats.sort_stats("tottime").print_stats(25)
        if not args.no_results and not args.profile and args.sweepers == 1:
            extra = {
                "rows": ", ".join(f"{k} {v:,}" for k, v in loaded["counts"].items() if k != "calculator_runs"),
                "vacuum_s": vacuum_s,
                "idle_runs": args.idle_runs,
                "t_idle": t_idle,
                "t_due": T_DUE,
                "due_low": len(loaded["due_ids"]["low"]),
                "due_urgent": len(loaded["due_ids"]["urgent"]),
                "verified": "; ".join(f"{k} = {v:,}" for k, v in verified["checks"].items())
                + "; no duplicated escalation step; events "
                + json.dumps(verified["events"]),
                "top_statements": [(s * 1000, sql) for s, sql in meter.top()],
                "explain_idle": explain_idle,
                "explain_due": explain_due,
            }
            results_write(result, common.machine(), extra)
            common.log(f"wrote {common.RESULTS.relative_to(common.ROOT)}")
        print(json.dumps(result), flush=True)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            common.database_drop(DB_NAME)
        common.database_drop(DB_NAME_COPY)


if __name__ == "__main__":
    main()
