"""The data of ``bench/sweep.py``: which tickets exist (the timeline), and
their load with COPY, each ticket with what ``tickets.services.ticket_create``
writes (the ticket, its first message, its created / target_opened events, its
two targets computed by the real calculator).

The loader names only the columns whose values the benchmark is about; every
other column of each table is filled from the model (``_common.CopyRows``), so
that a field added to a model does not break the benchmark.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bench import _common as common

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

# The columns the loader writes (the rest come from the models' defaults).
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
    "warning_at",
    "due_at",
    "level2_at",
    "next_step_at",
    "steps_taken",
    "met_at",
    "closed_at",
    "policy_id",
]
MESSAGE_COLUMNS = ["ticket_id", "author_kind", "author_id", "body", "is_public", "created_at"]
EVENT_COLUMNS = ["ticket_id", "kind", "created_at", "actor_id", "target_id", "target_kind", "cycle", "step", "data"]

NULL = "\\N"


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

        self.policies = {p.priority: p for p in SLAPolicy.objects.filter(is_fallback=True).select_related("calendar")}
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
        _ts(t.warning_at),
        _ts(t.due_at),
        _ts(t.level2_at),
        _ts(t.next_step_at),
        "0",
        NULL,
        NULL,
        str(t.policy_id),
    ]


def load(plan: Plan, staff) -> dict:
    """COPY the tickets and everything ticket_create writes with them; returns
    the ids of the due tickets by priority and the row counts."""
    from django.db import connection

    from tickets.models import Message, SLATarget, Ticket, TicketCounter, TicketEvent

    team, _supervisor, _manager, agents, categories = staff
    copies = {
        "tickets": common.CopyRows(Ticket, TICKET_COLUMNS),
        "targets": common.CopyRows(SLATarget, TARGET_COLUMNS),
        "messages": common.CopyRows(Message, MESSAGE_COLUMNS),
        "events": common.CopyRows(TicketEvent, EVENT_COLUMNS),
    }
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
        for name, rows in (
            ("tickets", tickets()),
            ("targets", targets()),
            ("messages", messages()),
            ("events", events()),
        ):
            started = time.perf_counter()
            counts[name] = copies[name].copy(cursor, rows)
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


def min_step_at() -> datetime:
    from django.db.models import Min

    from tickets.models import SLATarget

    return SLATarget.objects.aggregate(m=Min("next_step_at"))["m"]
