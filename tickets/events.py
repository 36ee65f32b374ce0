"""Building audit-trail events. Every state change goes through here so that the
timeline, the escalation ladder and the reports share one definition."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tickets.models import SLATarget, Ticket, TicketEvent

# The columns ``event_values`` fills, in its order (the sweep COPYs them).
EVENT_COLUMNS = ("ticket_id", "kind", "created_at", "actor_id", "target_id", "target_kind", "cycle", "step", "data")


def event_values(
    *,
    ticket: Ticket,
    kind: str,
    at: datetime,
    actor=None,
    target: SLATarget | None = None,
    step: int | None = None,
    data: dict[str, Any] | None = None,
) -> tuple:
    """One event as the values of ``EVENT_COLUMNS``."""
    return (
        ticket.pk,
        str(kind),
        at,
        actor.pk if actor is not None else None,
        target.pk if target is not None else None,
        target.kind if target is not None else "",
        target.cycle if target is not None else None,
        int(step) if step is not None else None,
        data or {},
    )


def event_build(**kwargs: Any) -> TicketEvent:
    """An unsaved event (for ``bulk_create`` in the services)."""
    return TicketEvent(**dict(zip(EVENT_COLUMNS, event_values(**kwargs), strict=True)))


def event_record(**kwargs: Any) -> TicketEvent:
    """Build and save one event."""
    event = event_build(**kwargs)
    event.save()
    return event
