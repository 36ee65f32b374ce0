"""Building audit-trail events. Every state change goes through here so that the
timeline, the escalation ladder and the reports share one definition."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

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


# --- Who hears of events --------------------------------------------------------------
#
# Two ways to hear, both registered by an app in its AppConfig.ready():
#
# * In the transaction (``events_written``): the consumer gets the events just
#   inserted, with their ids, inside the transaction that writes them, and writes
#   its own rows there (a merchant's strike for a missed reply, a keyword hit).
#   The change and what follows from it commit together or not at all, so no
#   catch-up is needed; the consumer must still be idempotent by event id or by
#   a unique key (a retried sweep writes a target's miss only once, but a
#   consumer should not rely on its caller for that). It must be quick: it runs
#   under the ticket lock, and in the sweep for a whole batch at once.
#
# * After the commit (``events_committed``), below: for work that must not run
#   in the transaction (network I/O, dispatching tasks).


class EventRow(NamedTuple):
    """An event just inserted, as the in-transaction consumers get it (the
    sweep writes its events with COPY and builds no model objects)."""

    id: int
    ticket_id: int
    kind: str
    created_at: datetime
    actor_id: int | None
    target_id: int | None
    target_kind: str
    cycle: int | None
    step: int | None
    data: dict[str, Any]

    @classmethod
    def of(cls, event: TicketEvent) -> EventRow:
        return cls(event.pk, *(getattr(event, column) for column in EVENT_COLUMNS))


EventsWritten = Callable[[list[EventRow]], None]
_written: dict[str, EventsWritten] = {}


def events_written_register(name: str, consumer: EventsWritten) -> None:
    """Call ``consumer(events)`` inside every transaction that writes ticket
    events, right after they are inserted (once per name: a second registration
    replaces the first)."""
    _written[name] = consumer


def events_written(rows: Sequence[EventRow]) -> None:
    """Hand the events just inserted to the in-transaction consumers (the
    services pass ``EventRow.of(event)``, the sweep builds rows from its COPY).
    A consumer's error fails the change: what it writes is part of it."""
    rows = list(rows)
    if not rows:
        return
    for consumer in _written.values():
        consumer(rows)


# After the commit
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
