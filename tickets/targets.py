"""Operations on SLA targets, shared by the lifecycle services and the sweep.

These functions change model instances in memory and never lock or save: the
caller holds the ticket's row lock (the one lock that guards a ticket and all of
its targets) and saves what changed, one row at a time or in bulk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

from tickets.models import BusinessCalendar, SLAPolicy, SLATarget, Ticket
from tickets.sla.calendar import ClockKind, WorkingCalendar
from tickets.sla.clock import Step, TargetClock, consumed, schedule

TARGET_FIELDS = [
    "policy",
    "status",
    "clock",
    "duration",
    "warning_percent",
    "breach_percent",
    "level2_percent",
    "pauses",
    "paused_at",
    "warning_at",
    "due_at",
    "level2_at",
    "next_step_at",
    "steps_taken",
    "met_at",
    "closed_at",
    "redated_at",
    "redate_reason",
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


def target_reschedule(target: SLATarget, wc: WorkingCalendar) -> None:
    """Make the promise: compute the instant of each step from the clock, over
    the calendar as it is now, and the next step not yet taken. Called when the
    clock starts or resumes and when a person re-dates the target, never by
    the sweep (see ``target_plan``)."""
    if target.status != SLATarget.Status.RUNNING:
        target.next_step_at = None
        if target.status == SLATarget.Status.PAUSED:
            target.warning_at = target.due_at = target.level2_at = None
        return
    plan = schedule(target_clock(target), wc)
    target.warning_at, target.due_at, target.level2_at = plan[Step.WARNING], plan[Step.BREACH], plan[Step.LEVEL2]
    target_advance(target)


def target_plan(target: SLATarget, wc: WorkingCalendar) -> dict[Step, datetime | None]:
    """The promised instant of each step, as stored. A running target saved
    before the promise was stored (migration 0015) has no warning instant: its
    plan is computed once, from the clock, and kept."""
    if target.status == SLATarget.Status.RUNNING and target.warning_at is None:
        target_reschedule(target, wc)
    return {Step.WARNING: target.warning_at, Step.BREACH: target.due_at, Step.LEVEL2: target.level2_at}


def target_advance(target: SLATarget) -> None:
    """Point ``next_step_at`` at the promised instant of the next step not taken."""
    following = target.steps_taken + 1
    if target.status != SLATarget.Status.RUNNING or following > last_step(target):
        target.next_step_at = None
        return
    target.next_step_at = {Step.WARNING: target.warning_at, Step.BREACH: target.due_at, Step.LEVEL2: target.level2_at}[
        Step(following)
    ]


def target_apply_policy(target: SLATarget, policy: SLAPolicy, wc: WorkingCalendar) -> None:
    """Take clock kind, duration and ladder for ``target.kind`` from ``policy``.
    The clock's start and pauses are kept: the target is measured from the moment
    its clock started."""
    clock, duration = policy.target(target.kind, wc.daily_working_time)
    target.policy = policy
    target.clock = clock.value
    target.duration = duration
    target.warning_percent = policy.warning_percent
    target.breach_percent = policy.breach_percent
    target.level2_percent = policy.level2_percent


class Redated(NamedTuple):
    target: SLATarget
    before: datetime | None  # its deadline before
    moved: bool  # whether the deadline moved (an event is recorded)


def targets_redate(
    targets: Iterable[SLATarget],
    *,
    policy: SLAPolicy | None,
    calendar: Callable[[SLATarget], WorkingCalendar],
    at: datetime,
    reason: str,
) -> list[Redated]:
    """A person re-dates the promise (DESIGN.md: a priority change by a person,
    an administrator's calendar re-date): every owed target that has not
    breached is recomputed from the moment its clock started, under
    ``policy`` (None keeps each one's clock, duration and ladder) and the
    calendar as it is now. Steps already taken are not taken again; a step now
    in the past comes due at the next sweep, which names ``reason`` as its cause.
    A breached target keeps the deadline it breached. Returns every target
    recomputed, for the caller to save, each with its deadline before and
    whether the deadline moved (only those get an event: a paused target has no
    deadline to move, and one whose deadline stands was promised nothing new)."""
    redated = []
    for target in targets:
        if target.status not in ACTIVE or target.steps_taken >= Step.BREACH:
            continue
        wc = calendar(target)
        before = target.due_at
        if policy is not None:
            target_apply_policy(target, policy, wc)
        target_reschedule(target, wc)
        moved = target.due_at != before
        if moved:
            target.redated_at = at
            target.redate_reason = reason
        redated.append(Redated(target, before, moved))
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
    target.warning_at = target.due_at = target.level2_at = None
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
