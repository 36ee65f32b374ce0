"""The clock of one SLA target. Pure: callers pass the calendar and ``now``.

A target runs from ``started_at`` for ``duration`` of clock time (calendar or
business). It may be paused (the resolution clock while waiting on the
consumer): closed pauses are kept as ``(paused_at, resumed_at)`` pairs, the
current one as ``paused_at``. Keeping the raw intervals, rather than a running
total, lets a priority change recompute the target *from the moment its clock
started* under a different clock kind exactly.

The escalation ladder is expressed in percent of the duration: 75 (warning),
100 (breach), 150 (level 2) by default, copied from the policy when the target
opens so that later policy edits do not move a promise already made.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from .calendar import ZERO, ClockKind, WorkingCalendar, deadline, elapsed


class Step(enum.IntEnum):
    """Escalation steps of one target, in the order they are taken."""

    WARNING = 1
    BREACH = 2
    LEVEL2 = 3


@dataclass(frozen=True)
class TargetClock:
    clock: ClockKind
    duration: timedelta
    started_at: datetime
    pauses: tuple[tuple[datetime, datetime], ...] = ()
    paused_at: datetime | None = None
    warning_percent: int = 75
    breach_percent: int = 100
    level2_percent: int = 150

    def percent_for(self, step: Step) -> int:
        return {
            Step.WARNING: self.warning_percent,
            Step.BREACH: self.breach_percent,
            Step.LEVEL2: self.level2_percent,
        }[step]

    @property
    def running_since(self) -> datetime | None:
        """Start of the current running segment, or None while paused."""
        if self.paused_at is not None:
            return None
        return self.pauses[-1][1] if self.pauses else self.started_at


def consumed(target: TargetClock, calendar: WorkingCalendar, at: datetime) -> timedelta:
    """Clock time the target has used up to ``at`` (pauses excluded)."""
    end = at if target.paused_at is None else min(at, target.paused_at)
    total = elapsed(target.started_at, end, calendar, target.clock)
    for paused, resumed in target.pauses:
        total -= elapsed(paused, min(resumed, end), calendar, target.clock)
    return max(total, ZERO)


def step_at(target: TargetClock, calendar: WorkingCalendar, step: Step) -> datetime | None:
    """The instant ``step`` comes due, or None while the clock is paused.

    A step whose share of the duration was already used up before the current
    running segment began comes due at the start of that segment.
    """
    since = target.running_since
    if since is None:
        return None
    return _step_at(target, calendar, step, since, consumed(target, calendar, since))


def _step_at(target: TargetClock, calendar: WorkingCalendar, step: Step, since: datetime, used: timedelta) -> datetime:
    share = target.duration * target.percent_for(step) // 100
    if used > ZERO and share <= used:
        # Due since before the pause. Not deadline(since, 0): for a segment resumed
        # outside working hours that is the next opening, and a step already due must
        # not wait for the morning.
        return since
    return deadline(since, share - used, calendar, target.clock)


def due_at(target: TargetClock, calendar: WorkingCalendar) -> datetime | None:
    return step_at(target, calendar, Step.BREACH)


def schedule(target: TargetClock, calendar: WorkingCalendar) -> dict[Step, datetime | None]:
    """Every step's instant (None for each while paused), the time already used
    computed once for all of them."""
    since = target.running_since
    if since is None:
        return dict.fromkeys(Step)
    used = consumed(target, calendar, since)
    return {step: _step_at(target, calendar, step, since, used) for step in Step}


def steps_due(target: TargetClock, calendar: WorkingCalendar, *, taken: int, now: datetime) -> list[Step]:
    """Steps not yet taken (``taken`` is the highest step already recorded) whose
    instant lies strictly before ``now``: a reply exactly at the deadline meets it,
    so the breach is taken only once the deadline has passed."""
    return steps_due_in(schedule(target, calendar), taken=taken, now=now)


def steps_due_in(plan: Mapping[Step, datetime | None], *, taken: int, now: datetime) -> list[Step]:
    """``steps_due`` over a precomputed ``schedule``."""
    due = []
    for step in Step:
        if step <= taken:
            continue
        at = plan[step]
        if at is None or at >= now:
            break
        due.append(step)
    return due


def elapsed_percent(target: TargetClock, calendar: WorkingCalendar, at: datetime) -> float:
    if target.duration <= ZERO:
        return 100.0
    return 100.0 * (consumed(target, calendar, at) / target.duration)
