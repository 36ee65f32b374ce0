"""What the SLA sweep (``tickets.escalation``) reads and writes, as rows.

The sweep reads a dozen columns of each due ticket and of each of its owed
targets, and writes back the few a step changes. It fetches them as values
(one query each per batch, the ids as one array parameter), keeps them in small
slotted rows that record which columns changed, and writes each table back
with one statement per set of changed columns. No model instance is built for
a ticket or a target, no timestamp is parsed twice, nothing unchanged is
written.

What a sweep reads at most once, lazily (calendars, staff, merchants), is kept
in ``SweepContext``: nothing at all when nothing is due.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import connection

from accounts.models import Merchant
from tickets.calendars import working_calendars
from tickets.models import OPEN_STATUSES, SLATarget, Ticket
from tickets.recipients import managers, supervisors_by_team
from tickets.sla.calendar import WorkingCalendar
from tickets.sla.clock import Step
from tickets.targets import target_plan

RUNNING = SLATarget.Status.RUNNING.value
ACTIVE = [SLATarget.Status.RUNNING.value, SLATarget.Status.PAUSED.value]
MERCHANT_REPLY = SLATarget.Kind.MERCHANT_REPLY.value


class _Row:
    """A row read as values; ``set`` records a column whose value changes."""

    __slots__ = ("changed",)
    pk: int

    def set(self, column: str, value) -> None:
        if getattr(self, column) != value:
            setattr(self, column, value)
            self.changed.add(column)


class TicketRow(_Row):
    COLUMNS = (
        "id",
        "reference",
        "subject",
        "priority",
        "status",
        "team_id",
        "assignee_id",
        "merchant_id",
        "escalation_level",
        "escalated_at",
        "is_overdue",
        "due_at",
    )
    __slots__ = ("pk", *COLUMNS[1:], "updated_at")

    def __init__(self, values: tuple) -> None:
        (
            self.pk,
            self.reference,
            self.subject,
            self.priority,
            self.status,
            self.team_id,
            self.assignee_id,
            self.merchant_id,
            self.escalation_level,
            self.escalated_at,
            self.is_overdue,
            self.due_at,
        ) = values
        self.changed = set()

    def refresh_sla(self, targets: Iterable[TargetRow]) -> None:
        """``tickets.targets.ticket_refresh_sla`` over rows: the soonest due instant
        of the running targets, and whether any owed target has breached."""
        dues = [t.due_at for t in targets if t.status == RUNNING and t.due_at is not None]
        self.set("due_at", min(dues) if dues else None)
        self.set("is_overdue", any(t.steps_taken >= Step.BREACH for t in targets if t.status in ACTIVE))


class TargetRow(_Row):
    COLUMNS = (
        "id",
        "ticket_id",
        "kind",
        "cycle",
        "status",
        "warning_percent",
        "warning_at",
        "due_at",
        "level2_at",
        "next_step_at",
        "steps_taken",
        "redated_at",
        "redate_reason",
    )
    # closed_at: NULL on every owed target, so not read.
    __slots__ = ("pk", *COLUMNS[1:], "closed_at")

    def __init__(self, values: tuple) -> None:
        (
            self.pk,
            self.ticket_id,
            self.kind,
            self.cycle,
            self.status,
            self.warning_percent,
            self.warning_at,
            self.due_at,
            self.level2_at,
            self.next_step_at,
            self.steps_taken,
            self.redated_at,
            self.redate_reason,
        ) = values
        self.closed_at = None
        self.changed = set()

    @property
    def last_step(self) -> Step:
        """A merchant-reply target ends at its breach (the miss); others go to level 2."""
        return Step.BREACH if self.kind == MERCHANT_REPLY else Step.LEVEL2

    def promised(self, step: Step) -> datetime | None:
        return (self.warning_at, self.due_at, self.level2_at)[step - 1]

    def breach_due(self, now: datetime) -> bool:
        """A step is due and the breach not yet taken (the batch loads the
        supervisors' counts for such tickets)."""
        return self.next_step_at is not None and self.next_step_at < now and self.steps_taken < Step.BREACH

    def steps_due(self, now: datetime) -> list[Step]:
        """``tickets.sla.clock.steps_due_in`` over the stored promise: the steps not
        yet taken whose instant lies strictly before ``now`` (a reply exactly at
        the deadline meets it)."""
        due = []
        for step in Step:
            if step <= self.steps_taken:
                continue
            at = self.promised(step)
            if at is None or at >= now:
                break
            due.append(step)
        return due

    def advance(self) -> None:
        """``tickets.targets.target_advance``: the next step not taken."""
        following = self.steps_taken + 1
        if self.status != RUNNING or following > self.last_step:
            self.set("next_step_at", None)
        else:
            self.set("next_step_at", self.promised(Step(following)))

    def close(self, status: str, now: datetime) -> None:
        """``tickets.targets.target_close`` for a running target that is not met
        (the sweep closes a merchant's reply target when it is missed)."""
        self.set("status", status)
        self.set("closed_at", now)
        self.set("next_step_at", None)


@dataclass
class SweepContext:
    """What a sweep loads at most once, lazily: nothing at all when nothing is due."""

    now: datetime
    _calendars: dict[int, WorkingCalendar] = field(default_factory=dict)
    _managers: list | None = None
    _supervisors: dict[int, list] = field(default_factory=dict)
    _users: dict[int, object] = field(default_factory=dict)
    _merchants: dict[int, Merchant] = field(default_factory=dict)

    def calendar(self, calendar_id: int) -> WorkingCalendar:
        if calendar_id not in self._calendars:
            self._calendars.update(working_calendars({calendar_id}))
        return self._calendars[calendar_id]

    @property
    def managers(self) -> list:
        if self._managers is None:
            self._managers = managers()
        return self._managers

    def supervisors(self, team_ids: set[int]) -> None:
        missing = team_ids - self._supervisors.keys()
        if missing:
            found = supervisors_by_team(missing)
            for team_id in missing:
                self._supervisors[team_id] = found.get(team_id, [])
                for user in self._supervisors[team_id]:
                    self._users.setdefault(user.pk, user)

    def team_supervisors(self, team_id: int) -> list:
        return self._supervisors.get(team_id, [])

    def users(self, ids: set[int]) -> None:
        """Staff who may be told (assignees), with the profile that says their language."""
        missing = ids - self._users.keys()
        if missing:
            for user in get_user_model().objects.filter(pk__in=missing).select_related("staff_profile"):
                self._users[user.pk] = user

    def user(self, pk: int):
        return self._users[pk]

    def merchants(self, ids: set[int]) -> None:
        """Shops of the batch's tickets, with the users their reminders go to."""
        missing = ids - self._merchants.keys()
        if missing:
            for merchant in Merchant.objects.filter(pk__in=missing).prefetch_related("users__user"):
                self._merchants[merchant.pk] = merchant

    def merchant(self, pk: int) -> Merchant:
        return self._merchants[pk]


def _select(model, columns: Iterable[str], where: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {model._meta.db_table} WHERE {where}", params)
        return cursor.fetchall()


def tickets_of(ids: list[int]) -> dict[int, TicketRow]:
    """The locked tickets of a batch, by id."""
    rows = _select(Ticket, TicketRow.COLUMNS, "id = ANY(%s::bigint[])", [_array(ids)])
    return {row[0]: TicketRow(row) for row in rows}


def targets_due_of(ctx: SweepContext, ids: list[int]) -> dict[int, list[TargetRow]]:
    """The owed targets of the tickets ``ids``, by ticket, each ticket's in id order.

    A running target stored before migration 0015 has no warning instant: its
    promise is computed once here, over the calendar as it is now, and written back
    with the step it takes (``tickets.targets.target_plan``)."""
    rows = _select(
        SLATarget,
        (*TargetRow.COLUMNS, "calendar_id"),
        "ticket_id = ANY(%s::bigint[]) AND status IN (%s, %s) ORDER BY ticket_id, id",
        [_array(ids), *ACTIVE],
    )
    by_ticket: dict[int, list[TargetRow]] = defaultdict(list)
    legacy: dict[int, tuple[TargetRow, int]] = {}
    for *values, calendar_id in rows:
        target = TargetRow(values)
        by_ticket[target.ticket_id].append(target)
        if target.status == RUNNING and target.warning_at is None:
            legacy[target.pk] = (target, calendar_id)
    if legacy:
        for model in SLATarget.objects.filter(pk__in=legacy):
            target, calendar_id = legacy[model.pk]
            plan = target_plan(model, ctx.calendar(calendar_id))
            target.set("warning_at", plan[Step.WARNING])
            target.set("due_at", plan[Step.BREACH])
            target.set("level2_at", plan[Step.LEVEL2])
    return by_ticket


def supervisor_load(candidates: set[int]) -> Counter:
    """Open tickets assigned to each of ``candidates`` (every one of them a key)."""
    load: Counter = Counter(dict.fromkeys(candidates, 0))
    if candidates:
        rows = _select(
            Ticket,
            ("assignee_id", "count(*)"),
            "assignee_id = ANY(%s::bigint[]) AND status = ANY(%s::varchar[]) GROUP BY assignee_id",
            [_array(list(candidates)), _array(list(OPEN_STATUSES))],
        )
        load.update(dict(rows))
    return load


def _write(model, rows: Iterable[_Row], always: tuple[str, ...] = ()) -> None:
    """Write back each row's changed columns (and ``always``): one ``UPDATE … FROM
    unnest(…)`` per set of columns changed together, each column one array. The
    planner expects a hundred rows from ``unnest`` and joins them to the primary
    key (a staging table without statistics may get a join that scans the table)."""
    groups: dict[tuple[str, ...], list[_Row]] = defaultdict(list)
    for row in rows:
        if row.changed or always:
            groups[tuple(sorted(row.changed)) + always].append(row)
    table = connection.ops.quote_name(model._meta.db_table)
    fields = {f.attname: f for f in model._meta.concrete_fields}
    for columns, members in groups.items():
        names = [connection.ops.quote_name(fields[c].column) for c in columns]
        arrays = ", ".join(f"%s::{fields[c].db_type(connection)}[]" for c in ("id", *columns))
        assignments = ", ".join(f"{name} = s.{name}" for name in names)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS s(id, {', '.join(names)}) "
                f"WHERE {table}.id = s.id",
                [_array([row.pk for row in members]), *(_array([getattr(row, c) for row in members]) for c in columns)],
            )


def _element(value) -> str:
    if value is None:
        return "NULL"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _array(values: list) -> str:
    """``values`` as the text of a PostgreSQL array (cast by the statement): one
    string parameter instead of psycopg's element-by-element list adapter, which
    costs the sweep more than the UPDATE it feeds."""
    return "{" + ",".join(map(_element, values)) + "}"


def rows_write(now: datetime, tickets: Iterable[TicketRow], targets: Iterable[TargetRow]) -> None:
    """Write a batch back: the targets' changed columns, and the tickets' with
    ``updated_at`` (every ticket the sweep touched has changed)."""
    _write(SLATarget, targets)
    tickets = list(tickets)
    for ticket in tickets:
        ticket.updated_at = now
    _write(Ticket, tickets, always=("updated_at",))
