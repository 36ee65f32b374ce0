"""Building audit-trail events. Every state change goes through here so that the
timeline, the escalation ladder and the reports share one definition."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tickets.models import SLATarget, Ticket, TicketEvent


def event_build(
    *,
    ticket: Ticket,
    kind: str,
    at: datetime,
    actor=None,
    target: SLATarget | None = None,
    step: int | None = None,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    """An unsaved event (for ``bulk_create`` in batch jobs)."""
    return TicketEvent(
        ticket=ticket,
        kind=kind,
        created_at=at,
        actor=actor,
        target=target,
        target_kind=target.kind if target is not None else "",
        cycle=target.cycle if target is not None else None,
        step=step,
        data=data or {},
    )


def event_record(**kwargs: Any) -> TicketEvent:
    """Build and save one event."""
    event = event_build(**kwargs)
    event.save()
    return event
