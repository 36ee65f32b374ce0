"""Operations on SLA targets, shared by the lifecycle services and the sweep.

These functions change model instances in memory and never lock or save: the
caller holds the ticket's row lock (the one lock that guards a ticket and all of
its targets) and saves what changed, one row at a time or in bulk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

from tickets.models import BusinessCalendar, SLAPolicy, SLATarget, Ticket
from tickets.sla.calendar import ClockKind, WorkingCalendar
from tickets.sla.clock import Step, TargetClock, consumed, due_at, step_at

TARGET_FIELDS = [
    "status",
    "clock",
    "duration",
    "warning_percent",
    "breach_percent",
    "level2_percent",
    "pauses",
    "paused_at",
    "due_at",
    "next_step_at",
    "steps_taken",
    "met_at",
    "closed_at",
]
# Written only when a target is met (target_close with MET), never by the sweep.
TIME_TAKEN_FIELDS = ["business_seconds", "calendar_seconds"]
TICKET_SLA_FIELDS = ["due_at", "is_overdue"]

RESPONSE_KINDS = (SLATarget.Kind.FIRST_RESPONSE, SLATarget.Kind.NEXT_RESPONSE)
ACTIVE = (SLATarget.Status.RUNNING, SLATarget.Status.PAUSED)


def target_clock(target: SLATarget) -> TargetClock:
    return TargetClock(
        clock=ClockKind(target.clock),
        duration=target.duration,
        started_at=target.started_at,
        pauses=tuple((datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in target.pauses),
        paused_at=target.paused_at,
        warning_percent=target.warning_percent,
        breach_percent=target.breach_percent,
        level2_percent=target.level2_percent,
    )


def last_step(target: SLATarget) -> Step:
    """A merchant-reply target ends at its breach (the miss); others go to level 2."""
    return Step.BREACH if target.kind == SLATarget.Kind.MERCHANT_REPLY else Step.LEVEL2


def target_reschedule(
    target: SLATarget, wc: WorkingCalendar, plan: Mapping[Step, datetime | None] | None = None
) -> None:
    """Recompute ``due_at`` and ``next_step_at`` from the clock and the steps taken.
    ``plan``: the clock's ``schedule``, when the caller has it already."""
    if target.status != SLATarget.Status.RUNNING:
        target.next_step_at = None
        if target.status == SLATarget.Status.PAUSED:
            target.due_at = None
        return
    following = target.steps_taken + 1
    if plan is not None:
        target.due_at = plan[Step.BREACH]
        target.next_step_at = plan[Step(following)] if following <= last_step(target) else None
        return
    clock = target_clock(target)
    target.due_at = due_at(clock, wc)
    target.next_step_at = step_at(clock, wc, Step(following)) if following <= last_step(target) else None


def target_apply_policy(target: SLATarget, policy: SLAPolicy, wc: WorkingCalendar) -> None:
    """Take clock kind, duration and ladder for ``target.kind`` from ``policy``.
    The clock's start and pauses are kept: the target is measured from the moment
    its clock started."""
    clock, duration = policy.target(target.kind, wc.daily_working_time)
    target.clock = clock.value
    target.duration = duration
    target.warning_percent = policy.warning_percent
    target.breach_percent = policy.breach_percent
    target.level2_percent = policy.level2_percent


class Redated(NamedTuple):
    target: SLATarget
    before: datetime | None  # its deadline before


def targets_redate(
    targets: Iterable[SLATarget],
    policy: SLAPolicy,
    *,
    calendar: Callable[[SLATarget], WorkingCalendar],
    plan: Callable[[SLATarget], Mapping[Step, datetime | None]] | None = None,
) -> list[Redated]:
    """A new priority's promise (a person's change, an alert word, a breach):
    every owed target that has not breached takes ``policy``'s clock, duration
    and ladder, measured from the moment its clock started. Steps already taken
    are not taken again; steps now in the past come due at the next sweep. A
    breached target keeps the deadline it breached.

    ``calendar`` gives a target's working calendar and ``plan`` its clock's
    schedule (the sweep keeps both). Returns the targets re-dated, each with its
    deadline before, in the order given, for the caller to save and record."""
    redated = []
    for target in targets:
        if target.status not in ACTIVE or target.steps_taken >= Step.BREACH:
            continue
        wc = calendar(target)
        before = target.due_at
        target_apply_policy(target, policy, wc)
        target_reschedule(target, wc, plan(target) if plan is not None else None)
        redated.append(Redated(target, before))
    return redated


def target_new(
    *,
    ticket: Ticket,
    kind: str,
    cycle: int,
    policy: SLAPolicy,
    calendar: BusinessCalendar,
    wc: WorkingCalendar,
    now: datetime,
) -> SLATarget:
    """An unsaved running target whose clock starts at ``now``."""
    target = SLATarget(ticket=ticket, kind=kind, cycle=cycle, calendar=calendar, started_at=now, pauses=[])
    target_apply_policy(target, policy, wc)
    target_reschedule(target, wc)
    return target


def target_close(target: SLATarget, status: str, now: datetime, wc: WorkingCalendar | None = None) -> None:
    """End a target: met (the promise was kept, possibly late), missed, or no
    longer owed. A paused target closes its pause first. A met target records the
    clock time it took in business and in calendar time (``wc``, its calendar, is
    needed for that), which the reports' percentiles read."""
    if target.paused_at is not None:
        target.pauses = [*target.pauses, [target.paused_at.isoformat(), now.isoformat()]]
        target.paused_at = None
    target.status = status
    target.closed_at = now
    if status == SLATarget.Status.MET:
        if wc is None:
            raise ValueError("A met target needs its working calendar to record the time it took.")
        target.met_at = now
        clock = target_clock(target)
        target.business_seconds = round(consumed(replace(clock, clock=ClockKind.BUSINESS), wc, now).total_seconds())
        target.calendar_seconds = round(consumed(replace(clock, clock=ClockKind.CALENDAR), wc, now).total_seconds())
    target.next_step_at = None


def target_pause(target: SLATarget, now: datetime) -> None:
    target.status = SLATarget.Status.PAUSED
    target.paused_at = now
    target.due_at = None
    target.next_step_at = None


def target_resume(target: SLATarget, now: datetime, wc: WorkingCalendar) -> None:
    target.pauses = [*target.pauses, [target.paused_at.isoformat(), now.isoformat()]]
    target.paused_at = None
    target.status = SLATarget.Status.RUNNING
    target_reschedule(target, wc)


def ticket_refresh_sla(ticket: Ticket, targets: Iterable[SLATarget]) -> None:
    """Denormalise the running targets onto the ticket: the soonest due instant
    (what the queue sorts by) and whether any owed target has breached."""
    active = [t for t in targets if t.status in ACTIVE]
    dues = [t.due_at for t in active if t.status == SLATarget.Status.RUNNING and t.due_at is not None]
    ticket.due_at = min(dues) if dues else None
    ticket.is_overdue = any(t.steps_taken >= Step.BREACH for t in active)
