"""The SLA sweep: takes every escalation step that has come due.

Set-based and safe to run on every worker at once:

* ``now`` is fixed once per sweep;
* each batch locks up to ``batch_size`` tickets that have a step due, found by
  a range scan of the partial index on ``SLATarget.next_step_at`` and locked
  with ``FOR UPDATE SKIP LOCKED`` — a ticket another sweep (or an agent) holds
  is left to that holder, never waited for;
* the ticket row lock guards the ticket and all its targets (the services take
  the same lock), and the ``(ticket, target kind, cycle, step)`` unique
  constraint on events is the last word on "exactly once";
* a batch writes with a fixed number of bulk statements, so a sweep costs a
  few queries per batch of due tickets and one query when nothing is due.

The ladder of a target: warning (notify the assignee), breach (mark overdue,
raise the priority one step, hand to the team's supervisors and notify them),
level 2 (notify the managers). A merchant-reply target's breach is the
merchant's miss: the ticket returns to the platform queue, escalated. The
sweep writes only the ticket's side; the merchants app hears of the miss from
its event in the same transaction (``tickets.events.events_written``) and
records the merchant's strike.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, prefetch_related_objects
from django.utils import timezone

from cs_desk.bulk import copy_insert, copy_update
from tickets import events
from tickets.calendars import working_calendars
from tickets.events import EVENT_COLUMNS, Event, EventRow, EventValues, event_values, events_committed, events_written
from tickets.models import OPEN_STATUSES, SLATarget, Ticket, TicketEvent
from tickets.notifications import Outgoing, notifications_for, notifications_insert
from tickets.recipients import managers, merchant_addresses, supervisors_by_team
from tickets.reply_address import MERCHANT, reply_address
from tickets.sla.calendar import WorkingCalendar
from tickets.sla.clock import Step, steps_due_in
from tickets.targets import (
    ACTIVE,
    TARGET_FIELDS,
    target_advance,
    target_close,
    target_plan,
    ticket_refresh_sla,
)

logger = logging.getLogger(__name__)

Kind = SLATarget.Kind

COUNT_KEYS = ("warning", "breach", "level2", "merchant_warning", "merchant_missed")

_LOCK_DUE_TICKETS = f"""
SELECT t.id FROM {Ticket._meta.db_table} t
WHERE t.id = ANY(ARRAY(
    SELECT s.ticket_id FROM {SLATarget._meta.db_table} s
    WHERE s.next_step_at IS NOT NULL AND s.next_step_at < %s
))
LIMIT %s
FOR UPDATE OF t SKIP LOCKED
"""


@dataclass
class _SweepContext:
    """What a sweep loads at most once, lazily: nothing at all when nothing is due."""

    now: datetime
    _calendars: dict[int, WorkingCalendar] = field(default_factory=dict)
    _managers: list | None = None
    _supervisors: dict[int, list] = field(default_factory=dict)

    def calendars(self, ids) -> None:
        missing = set(ids) - set(self._calendars)
        if missing:
            self._calendars.update(working_calendars(missing))

    def calendar(self, calendar_id: int) -> WorkingCalendar:
        return self._calendars[calendar_id]

    @property
    def managers(self) -> list:
        if self._managers is None:
            self._managers = managers()
        return self._managers

    def supervisors(self, team_ids) -> None:
        missing = set(team_ids) - set(self._supervisors)
        if missing:
            found = supervisors_by_team(missing)
            for team_id in missing:
                self._supervisors[team_id] = found.get(team_id, [])

    def team_supervisors(self, team_id: int) -> list:
        return self._supervisors.get(team_id, [])


@dataclass
class _Batch:
    ctx: _SweepContext
    counts: Counter
    events: list[EventValues] = field(default_factory=list)
    notifications: list[Outgoing] = field(default_factory=list)
    targets: dict[int, SLATarget] = field(default_factory=dict)
    load: Counter = field(default_factory=Counter)

    def add(self, ticket: Ticket, event: Event) -> None:
        self.events.append(event_values(event, ticket=ticket, at=self.ctx.now))

    def notify(self, kind: str, ticket: Ticket, target: SLATarget, *, users=(), addresses=(), **extra) -> None:
        """Tell ``users`` (staff) or ``addresses`` (a merchant's) about ``target``."""
        context = {
            "reference": ticket.reference,
            "subject": ticket.subject,
            # Lazy labels: rendered in each recipient's language by notifications_insert
            # (get_FOO_display() would fix the sweep's language, and re-hash the choices on every call).
            "target": Kind(target.kind).label,
            "due": target.due_at,
            "priority": Ticket.Priority(ticket.priority).label,
            "merchant": ticket.merchant.name if ticket.merchant_id else "",
            **extra,
        }
        # A merchant answers a reminder by mail as in the portal: through its signed address.
        reply_to = reply_address(MERCHANT, ticket.merchant_id, ticket.pk) if addresses else ""
        self.notifications += notifications_for(
            kind, context, users=users, addresses=addresses, ticket_id=ticket.pk, reply_to=reply_to
        )


def sla_sweep(
    *, now: datetime | None = None, batch_size: int | None = None, on_backlog: Callable[[], None] | None = None
) -> dict[str, int]:
    """Take every escalation step due at ``now``. Returns the count of each step
    taken plus ``tickets`` (tickets touched) and ``batches``.

    ``on_backlog`` is called once, after the first batch has committed, if that
    batch was full: more is probably due, and the caller may bring in another
    sweeper (they share the work through ``SKIP LOCKED``)."""
    ctx = _SweepContext(now=now or timezone.now())
    batch_size = batch_size or settings.SLA_SWEEP_BATCH_SIZE
    counts: Counter = Counter({key: 0 for key in (*COUNT_KEYS, "tickets", "batches")})
    seen: set[int] = set()
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(_LOCK_DUE_TICKETS, [ctx.now, batch_size])
                ids = [pk for (pk,) in cursor.fetchall()]
            if not ids:
                break
            if seen.issuperset(ids):
                # Defensive: every due step of a locked ticket is taken or
                # rescheduled past ``now``, so this cannot happen; never spin.
                logger.error("SLA sweep made no progress on tickets %s", ids[:20])
                break
            seen.update(ids)
            _sweep_batch(ctx, ids, counts)
            counts["batches"] += 1
        if on_backlog is not None and counts["batches"] == 1 and len(ids) == batch_size:
            on_backlog()
    return dict(counts)


def _sweep_batch(ctx: _SweepContext, ids: list[int], counts: Counter) -> None:
    tickets = {t.pk: t for t in Ticket.objects.filter(pk__in=ids).select_related("merchant", "assignee__staff_profile")}
    # Merchant users get the merchant's reminders; most batches have no merchant at all.
    prefetch_related_objects([t for t in tickets.values() if t.merchant_id], "merchant__users__user")
    targets_by_ticket: dict[int, list[SLATarget]] = defaultdict(list)
    for target in SLATarget.objects.filter(ticket_id__in=ids, status__in=ACTIVE).order_by("ticket_id", "id"):
        targets_by_ticket[target.ticket_id].append(target)
    ctx.calendars({t.calendar_id for targets in targets_by_ticket.values() for t in targets})
    ctx.supervisors({t.team_id for t in tickets.values()})
    batch = _Batch(ctx=ctx, counts=counts)
    changed_tickets: dict[int, set[str]] = defaultdict(set)

    breaching = [
        t
        for t in tickets.values()
        if any(
            target.next_step_at is not None and target.next_step_at < ctx.now and target.steps_taken < Step.BREACH
            for target in targets_by_ticket[t.pk]
        )
    ]
    _load_supervisor_counts(batch, breaching)

    for ticket_id in ids:
        ticket = tickets[ticket_id]
        targets = targets_by_ticket[ticket_id]
        # Each target's steps at their promised instants, never recomputed here: a
        # step re-dates nothing (a breach raises the priority for targets opened
        # afterwards), so one pass over the targets, soonest step first, is enough.
        for target in sorted(targets, key=lambda t: (t.next_step_at is None, t.next_step_at or ctx.now)):
            if target.status != SLATarget.Status.RUNNING:
                continue
            plan = target_plan(target, ctx.calendar(target.calendar_id))
            for step in steps_due_in(plan, taken=target.steps_taken, now=ctx.now):
                _take_step(batch, ticket, target, step, plan[step], changed_tickets[ticket_id])
                if target.status != SLATarget.Status.RUNNING:
                    break
            target_advance(target)
            batch.targets[target.pk] = target
        ticket_refresh_sla(ticket, targets)
        changed_tickets[ticket_id] |= {"due_at", "is_overdue"}
        counts["tickets"] += 1

    # A fixed number of statements per batch, whatever its size, written with COPY.
    event_ids = copy_insert(TicketEvent, EVENT_COLUMNS, batch.events, returning_ids=True)
    # What other apps write because of these events (a merchant's strike) joins this transaction.
    events_written([EventRow.written(pk, values) for pk, values in zip(event_ids, batch.events, strict=True)])
    _copy_update(SLATarget, batch.targets.values(), TARGET_FIELDS)
    for ticket in tickets.values():
        ticket.updated_at = ctx.now
    _copy_update(Ticket, tickets.values(), sorted(set().union(*changed_tickets.values()) | {"updated_at"}))
    notifications_insert(batch.notifications, at=ctx.now)
    events_committed(event_ids)  # webhooks and others hear of them once the batch commits


def _copy_update(model, objs, fields: list[str]) -> None:
    """Write ``fields`` (names) of the model instances ``objs`` back, in bulk."""
    attnames = [model._meta.get_field(name).attname for name in fields]
    copy_update(model, attnames, [(obj.pk, *(getattr(obj, a) for a in attnames)) for obj in objs])


def _load_supervisor_counts(batch: _Batch, tickets: list[Ticket]) -> None:
    """Open tickets per supervisor of the teams about to breach, so a breached
    ticket goes to the least-loaded supervisor (one query per batch)."""
    candidates = {u.pk for t in tickets for u in batch.ctx.team_supervisors(t.team_id)}
    if not candidates:
        return
    rows = (
        Ticket.objects.filter(assignee_id__in=candidates, status__in=OPEN_STATUSES)
        .values("assignee_id")
        .annotate(n=Count("pk"))
    )
    batch.load.update({row["assignee_id"]: row["n"] for row in rows})
    for pk in candidates:
        batch.load.setdefault(pk, 0)


def _escalate(ticket: Ticket, level: int, *, at: datetime, changed: set[str]) -> None:
    """Raise the ticket to at least ``level`` and date it: the desk's "newly escalated"
    view sorts by when it last escalated."""
    ticket.escalation_level = max(ticket.escalation_level, level)
    ticket.escalated_at = at
    changed.update({"escalation_level", "escalated_at"})


def _take_step(
    batch: _Batch, ticket: Ticket, target: SLATarget, step: Step, promised: datetime, changed: set[str]
) -> None:
    ctx = batch.ctx
    target.steps_taken = int(step)
    supervisors = ctx.team_supervisors(ticket.team_id)
    merchant_target = target.kind == Kind.MERCHANT_REPLY
    # A step that was already due when a person re-dated the target (a priority
    # change put it past due) names that change as its cause.
    cause = target.redate_reason if target.redated_at is not None and promised <= target.redated_at else ""

    if step == Step.WARNING:
        batch.add(ticket, events.sla_warning(target=target, cause=cause))
        if merchant_target:
            batch.notify("merchant_warning", ticket, target, addresses=merchant_addresses(ticket.merchant))
            batch.counts["merchant_warning"] += 1
        else:
            readers = [ticket.assignee] if ticket.assignee else supervisors
            batch.notify("sla_warning", ticket, target, users=readers, percent=target.warning_percent)
            batch.counts["warning"] += 1
        return

    if step == Step.BREACH and merchant_target:
        target_close(target, SLATarget.Status.MISSED, ctx.now)
        batch.add(ticket, events.merchant_missed(target=target, merchant_id=ticket.merchant_id))
        if ticket.status == Ticket.Status.AWAITING_MERCHANT:
            batch.add(
                ticket, events.status_changed(old=ticket.status, new=Ticket.Status.OPEN, reason="merchant_missed")
            )
            ticket.status = Ticket.Status.OPEN
            changed.add("status")
        _escalate(ticket, 1, at=ctx.now, changed=changed)
        batch.notify("merchant_missed", ticket, target, users=[ticket.assignee, *supervisors])
        batch.counts["merchant_missed"] += 1
        return

    if step == Step.BREACH:
        batch.add(ticket, events.sla_breach(target=target, cause=cause))
        ticket.is_overdue = True
        changed.add("is_overdue")
        _escalate(ticket, 1, at=ctx.now, changed=changed)
        raised = Ticket.Priority.raised(ticket.priority)
        if raised != ticket.priority:
            # A priority raised by an escalation moves the ticket up the queue and
            # applies to targets opened afterwards; it re-dates no running target.
            batch.add(ticket, events.priority_changed(old=ticket.priority, new=raised, reason="sla_breach"))
            ticket.priority = raised
            changed.add("priority")
        if supervisors:
            chosen = min(supervisors, key=lambda u: (batch.load[u.pk], u.pk))
            if ticket.assignee_id != chosen.pk:
                batch.add(ticket, events.assigned(old=ticket.assignee_id, new=chosen.pk, reason="sla_breach"))
                if ticket.assignee_id in batch.load:
                    batch.load[ticket.assignee_id] -= 1
                batch.load[chosen.pk] += 1
                ticket.assignee = chosen
                changed.add("assignee")
        # The team's supervisors hear; when none of them has an address, the managers do.
        readers = [u for u in supervisors if u.email] or ctx.managers
        batch.notify("sla_breach", ticket, target, users=readers)
        batch.counts["breach"] += 1
        return

    # Level 2
    batch.add(ticket, events.sla_level2(target=target, cause=cause))
    _escalate(ticket, 2, at=ctx.now, changed=changed)
    batch.notify("sla_level2", ticket, target, users=ctx.managers)
    batch.counts["level2"] += 1
