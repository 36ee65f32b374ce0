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

The sweep reads rows as values (``tickets.sweep_rows``), never model objects:
it reads a dozen columns of a ticket and of a target, and writes back only the
columns a step changed. The notices are written as their kind and values
(``notifications_insert(deferred=True)``) and rendered when they are delivered.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from cs_desk.bulk import copy_insert
from tickets import events
from tickets.events import EVENT_COLUMNS, Event, EventRow, EventValues, event_values, events_committed, events_written
from tickets.models import SLATarget, Ticket, TicketEvent
from tickets.notifications import Outgoing, notifications_for, notifications_insert
from tickets.recipients import merchant_addresses
from tickets.reply_address import MERCHANT, reply_address
from tickets.sla.clock import Step
from tickets.sweep_rows import (
    SweepContext,
    TargetRow,
    TicketRow,
    rows_write,
    supervisor_load,
    targets_due_of,
    tickets_of,
)

logger = logging.getLogger(__name__)

Kind = SLATarget.Kind
RUNNING = SLATarget.Status.RUNNING.value
MISSED = SLATarget.Status.MISSED.value

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
class _Batch:
    ctx: SweepContext
    counts: Counter
    load: Counter
    events: list[EventValues] = field(default_factory=list)
    notifications: list[Outgoing] = field(default_factory=list)

    def add(self, ticket: TicketRow, event: Event) -> None:
        self.events.append(event_values(event, ticket=ticket, at=self.ctx.now))

    def notify(self, kind: str, ticket: TicketRow, target: TargetRow, *, users=(), addresses=(), **extra) -> None:
        """Tell ``users`` (staff) or ``addresses`` (a merchant's) about ``target``:
        the values the notice needs, as of now (rendered at delivery, in each
        reader's language: ``tickets.notifications.notification_render``)."""
        context = {
            "reference": ticket.reference,
            "subject": ticket.subject,
            "target": target.kind,
            "due": target.due_at.isoformat() if target.due_at is not None else None,
            "priority": ticket.priority,
            "merchant": self.ctx.merchant(ticket.merchant_id).name if ticket.merchant_id else "",
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
    ctx = SweepContext(now=now or timezone.now())
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


def _sweep_batch(ctx: SweepContext, ids: list[int], counts: Counter) -> None:
    tickets = tickets_of(ids)
    targets_by_ticket = targets_due_of(ctx, ids)
    ctx.supervisors({t.team_id for t in tickets.values()})
    ctx.users({t.assignee_id for t in tickets.values() if t.assignee_id is not None})
    ctx.merchants({t.merchant_id for t in tickets.values() if t.merchant_id is not None})
    # Open tickets per supervisor of the teams about to breach, so a breached ticket
    # goes to the least-loaded supervisor (one query per batch).
    breaching = {
        ticket.team_id
        for ticket in tickets.values()
        if any(t.breach_due(ctx.now) for t in targets_by_ticket.get(ticket.pk, ()))
    }
    load = supervisor_load({u.pk for team_id in breaching for u in ctx.team_supervisors(team_id)})
    batch = _Batch(ctx=ctx, counts=counts, load=load)

    for ticket_id in ids:
        ticket = tickets[ticket_id]
        targets = targets_by_ticket.get(ticket_id, [])
        # Each target's steps at their promised instants, never recomputed here: a
        # step re-dates nothing (a breach raises the priority for targets opened
        # afterwards), so one pass over the targets, soonest step first, is enough.
        for target in sorted(targets, key=lambda t: (t.next_step_at is None, t.next_step_at or ctx.now)):
            if target.status != RUNNING:
                continue
            for step in target.steps_due(ctx.now):
                _take_step(batch, ticket, target, step)
                if target.status != RUNNING:
                    break
            target.advance()
        ticket.refresh_sla(targets)
        counts["tickets"] += 1

    # A fixed number of statements per batch, whatever its size, written with COPY.
    event_ids = copy_insert(TicketEvent, EVENT_COLUMNS, batch.events, returning_ids=True)
    # What other apps write because of these events (a merchant's strike) joins this transaction.
    events_written([EventRow.written(pk, values) for pk, values in zip(event_ids, batch.events, strict=True)])
    rows_write(ctx.now, tickets.values(), [t for targets in targets_by_ticket.values() for t in targets])
    notifications_insert(batch.notifications, at=ctx.now, deferred=True)
    events_committed(event_ids)  # webhooks and others hear of them once the batch commits


def _escalate(ticket: TicketRow, level: int, *, at: datetime) -> None:
    """Raise the ticket to at least ``level`` and date it: the desk's "newly escalated"
    view sorts by when it last escalated."""
    ticket.set("escalation_level", max(ticket.escalation_level, level))
    ticket.set("escalated_at", at)


def _take_step(batch: _Batch, ticket: TicketRow, target: TargetRow, step: Step) -> None:
    ctx = batch.ctx
    promised = target.promised(step)
    target.set("steps_taken", int(step))
    supervisors = ctx.team_supervisors(ticket.team_id)
    merchant_target = target.kind == Kind.MERCHANT_REPLY
    # A step that was already due when a person re-dated the target (a priority
    # change put it past due) names that change as its cause.
    cause = target.redate_reason if target.redated_at is not None and promised <= target.redated_at else ""

    if step == Step.WARNING:
        batch.add(ticket, events.sla_warning(target=target, cause=cause))
        if merchant_target:
            addresses = merchant_addresses(ctx.merchant(ticket.merchant_id))
            batch.notify("merchant_warning", ticket, target, addresses=addresses)
            batch.counts["merchant_warning"] += 1
        else:
            readers = [ctx.user(ticket.assignee_id)] if ticket.assignee_id else supervisors
            batch.notify("sla_warning", ticket, target, users=readers, percent=target.warning_percent)
            batch.counts["warning"] += 1
        return

    if step == Step.BREACH and merchant_target:
        target.close(MISSED, ctx.now)
        batch.add(ticket, events.merchant_missed(target=target, merchant_id=ticket.merchant_id))
        if ticket.status == Ticket.Status.AWAITING_MERCHANT:
            batch.add(
                ticket, events.status_changed(old=ticket.status, new=Ticket.Status.OPEN, reason="merchant_missed")
            )
            ticket.set("status", Ticket.Status.OPEN.value)
        _escalate(ticket, 1, at=ctx.now)
        assignee = ctx.user(ticket.assignee_id) if ticket.assignee_id else None
        batch.notify("merchant_missed", ticket, target, users=[assignee, *supervisors])
        batch.counts["merchant_missed"] += 1
        return

    if step == Step.BREACH:
        batch.add(ticket, events.sla_breach(target=target, cause=cause))
        ticket.set("is_overdue", True)
        _escalate(ticket, 1, at=ctx.now)
        raised = Ticket.Priority.raised(ticket.priority)
        if raised != ticket.priority:
            # A priority raised by an escalation moves the ticket up the queue and
            # applies to targets opened afterwards; it re-dates no running target.
            batch.add(ticket, events.priority_changed(old=ticket.priority, new=raised, reason="sla_breach"))
            ticket.set("priority", raised)
        if supervisors:
            load = batch.load
            chosen = min(supervisors, key=lambda u: (load[u.pk], u.pk))
            if ticket.assignee_id != chosen.pk:
                batch.add(ticket, events.assigned(old=ticket.assignee_id, new=chosen.pk, reason="sla_breach"))
                if ticket.assignee_id in load:
                    load[ticket.assignee_id] -= 1
                load[chosen.pk] += 1
                ticket.set("assignee_id", chosen.pk)
        # The team's supervisors hear; when none of them has an address, the managers do.
        readers = [u for u in supervisors if u.email] or ctx.managers
        batch.notify("sla_breach", ticket, target, users=readers)
        batch.counts["breach"] += 1
        return

    # Level 2
    batch.add(ticket, events.sla_level2(target=target, cause=cause))
    _escalate(ticket, 2, at=ctx.now)
    batch.notify("sla_level2", ticket, target, users=ctx.managers)
    batch.counts["level2"] += 1
