"""Building audit-trail events. Every state change goes through here so that the
timeline, the escalation ladder and the reports share one definition."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction

from tickets.models import SLATarget, Ticket, TicketEvent

logger = logging.getLogger(__name__)

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


# --- Who hears of committed events ----------------------------------------------------
#
# The ticket events are the domain's outbox: apps above the domain (webhooks
# today, merchant accountability next) learn of changes from them instead of
# the domain calling up into those apps. An app registers a consumer in its
# AppConfig.ready(); the services and the sweep call ``events_committed`` in the
# transaction that writes events, and each consumer gets the new event ids once
# that transaction has committed. A consumer must be idempotent by event id and
# must have its own catch-up for ids it never heard of (a process killed right
# after the commit): this call is a fast path, not a guarantee.

EventsConsumer = Callable[[list[int]], None]
_consumers: dict[str, EventsConsumer] = {}


def events_consumer_register(name: str, consumer: EventsConsumer) -> None:
    """Call ``consumer(event_ids)`` after every commit that wrote ticket events
    (once per name: a second registration replaces the first)."""
    _consumers[name] = consumer


def events_committed(event_ids: Sequence[int]) -> None:
    """Tell the registered consumers of ``event_ids`` once the current transaction
    commits (immediately outside one). A consumer that fails is logged and left
    to its catch-up; it never fails the change, already committed."""
    ids = [pk for pk in event_ids if pk is not None]
    if not ids:
        return
    for name, consumer in _consumers.items():
        transaction.on_commit(lambda name=name, consumer=consumer: _consume(name, consumer, ids))


def _consume(name: str, consumer: EventsConsumer, ids: list[int]) -> None:
    try:
        consumer(ids)
    except Exception:
        logger.warning(
            "Events consumer %s failed on %d event(s); its catch-up will take them.", name, len(ids), exc_info=True
        )
