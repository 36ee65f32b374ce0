"""The audit-trail events: one builder per kind, and who hears of them.

Every state change writes an event, and the timeline, the escalation ladder,
the reports and the webhooks read them: so each kind's payload is spelled in
one place, its builder below, and the services (through ``Work.add``) and the
sweep (through its batch) both use it. A builder returns an ``Event``, which is
stamped with its ticket, instant and actor when it is written. The stored keys
are read elsewhere (the desk's timeline, ``integrations.webhooks``, the merchant
portal, the reports): a builder may gain keys, never rename one."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from django.db import transaction

from tickets.models import Message, SLATarget, Ticket, TicketEvent
from tickets.sla.clock import Step

logger = logging.getLogger(__name__)

Kind = TicketEvent.Kind


class Event(NamedTuple):
    """One event as its builder spells it, not yet stamped with its ticket,
    instant and actor."""

    kind: str
    data: dict[str, Any]
    target: SLATarget | None = None
    step: int | None = None


class EventValues(NamedTuple):
    """One event as the values of its columns (the sweep COPYs these rows)."""

    ticket_id: int
    kind: str
    created_at: datetime
    actor_id: int | None
    target_id: int | None
    target_kind: str
    cycle: int | None
    step: int | None
    data: dict[str, Any]


# The columns of ``EventValues``, in its order.
EVENT_COLUMNS = EventValues._fields


def event_values(event: Event, *, ticket: Ticket, at: datetime, actor=None) -> EventValues:
    """``event`` stamped with its ticket, instant and actor, as column values."""
    target = event.target
    return EventValues(
        ticket_id=ticket.pk,
        kind=str(event.kind),
        created_at=at,
        actor_id=actor.pk if actor is not None else None,
        target_id=target.pk if target is not None else None,
        target_kind=target.kind if target is not None else "",
        cycle=target.cycle if target is not None else None,
        step=int(event.step) if event.step is not None else None,
        data=event.data,
    )


def event_build(event: Event, /, *, ticket: Ticket, at: datetime, actor=None) -> TicketEvent:
    """An unsaved event (for ``bulk_create``): ``event`` from a builder, stamped."""
    return TicketEvent(**event_values(event, ticket=ticket, at=at, actor=actor)._asdict())


def event_record(event: Event, /, **kwargs) -> TicketEvent:
    """Build and save one event."""
    built = event_build(event, **kwargs)
    built.save()
    return built


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _with_reason(data: dict[str, Any], reason: str) -> dict[str, Any]:
    """A change made by the system says why (``sla_breach``, ``merchant_missed``);
    one a person made has no reason key."""
    return {**data, "reason": reason} if reason else data


# --- The builders, one per kind -------------------------------------------------------
# The ticket's own life.


def created(*, channel: str, priority: str, follows: Ticket | None = None) -> Event:
    """Filed through ``channel`` at ``priority``; ``follows``: the closed ticket it continues."""
    data: dict[str, Any] = {"channel": channel, "priority": priority}
    if follows is not None:
        data["follows"] = follows.reference
    return Event(Kind.CREATED, data)


def status_changed(*, old: str, new: str, reason: str = "") -> Event:
    return Event(Kind.STATUS_CHANGED, _with_reason({"from": old, "to": new}, reason))


def priority_changed(*, old: str, new: str, reason: str) -> Event:
    """``reason``: ``manual``, ``keyword`` or ``sla_breach``."""
    return Event(Kind.PRIORITY_CHANGED, {"from": old, "to": new, "reason": reason})


def assigned(*, old: int | None, new: int | None, reason: str = "") -> Event:
    """From and to user ids (``None``: nobody)."""
    return Event(Kind.ASSIGNED, _with_reason({"from": old, "to": new}, reason))


def reopened(*, old: str) -> Event:
    """Came back from status ``old``."""
    return Event(Kind.REOPENED, {"from": old})


def keyword_alert(*, words: Sequence[str], keyword_ids: Sequence[int] | None = None) -> Event:
    """Alert words found in the complaint; ``keyword_ids``: the ids of their
    keywords, for the app that records the hits."""
    data: dict[str, Any] = {"words": list(words)}
    if keyword_ids is not None:
        data["keyword_ids"] = list(keyword_ids)
    return Event(Kind.KEYWORD_ALERT, data)


def survey_answered(*, rating: int, resolution: int) -> Event:
    """``resolution``: the cycle of the resolution rated (1, then 2 after a reopening …)."""
    return Event(Kind.SURVEY_ANSWERED, {"rating": rating, "resolution": resolution})


def merged(*, into: Ticket) -> Event:
    """This duplicate was merged into ``into``."""
    return Event(Kind.MERGED, {"into": into.reference, "into_id": into.pk})


def merged_in(*, source: Ticket, messages: int, also: Sequence[str] = ()) -> Event:
    """The duplicate ``source`` (with ``messages`` messages) was merged in, with
    ``also``, the references of the tickets merged into it before."""
    return Event(
        Kind.MERGED_IN, {"source": source.reference, "source_id": source.pk, "messages": messages, "also": list(also)}
    )


# The conversation.


def consumer_message(*, message: Message, files: int) -> Event:
    return Event(Kind.CONSUMER_MESSAGE, {"message": message.pk, "files": files})


def public_reply(*, message: Message) -> Event:
    return Event(Kind.PUBLIC_REPLY, {"message": message.pk})


def internal_note(*, message: Message) -> Event:
    return Event(Kind.INTERNAL_NOTE, {"message": message.pk})


def forwarded_to_merchant(*, target: SLATarget, merchant_id: int, note: str) -> Event:
    """Sent to the merchant, whose reply ``target`` now runs; ``note``: the agent's words to it."""
    return Event(Kind.FORWARDED_TO_MERCHANT, {"note": note, "merchant": merchant_id}, target)


def merchant_replied(*, message: Message) -> Event:
    return Event(Kind.MERCHANT_REPLIED, {"message": message.pk})


# Live chat (tickets.services.chat).


def chat_offered(*, agent_id: int, expires_at: datetime) -> Event:
    """Offered to ``agent_id`` until ``expires_at``."""
    return Event(Kind.CHAT_OFFERED, {"agent": agent_id, "expires_at": _iso(expires_at)})


def chat_passed(*, agent_id: int, reason: str) -> Event:
    """``agent_id`` let the offer pass: ``declined`` it, or it ``lapsed``."""
    return Event(Kind.CHAT_PASSED, {"agent": agent_id, "reason": reason})


def chat_accepted(*, agent_id: int) -> Event:
    return Event(Kind.CHAT_ACCEPTED, {"agent": agent_id})


def chat_queued(*, reason: str) -> Event:
    """Waits in the team's queue: ``nobody_available`` to offer it to, or ``reopened``."""
    return Event(Kind.CHAT_QUEUED, {"reason": reason})


def chat_ended() -> Event:
    return Event(Kind.CHAT_ENDED, {})


# The SLA targets: their clocks, written by the services.


def target_opened(*, target: SLATarget) -> Event:
    return Event(Kind.TARGET_OPENED, {"due_at": _iso(target.due_at)}, target)


def target_met(*, target: SLATarget, late: bool) -> Event:
    return Event(Kind.TARGET_MET, {"due_at": _iso(target.due_at), "late": late}, target)


def target_cancelled(*, target: SLATarget) -> Event:
    """No longer owed (``late`` is kept for the readers of ``target_met``'s payload)."""
    return Event(Kind.TARGET_CANCELLED, {"due_at": _iso(target.due_at), "late": False}, target)


def target_paused(*, target: SLATarget) -> Event:
    return Event(Kind.TARGET_PAUSED, {}, target)


def target_resumed(*, target: SLATarget) -> Event:
    return Event(Kind.TARGET_RESUMED, {"due_at": _iso(target.due_at)}, target)


def target_recomputed(*, target: SLATarget, before: datetime | None, reason: str) -> Event:
    """Re-dated by a person (``reason``: "priority_changed", "calendar_redated")
    from the deadline ``before`` to its ``due_at`` now."""
    return Event(Kind.TARGET_RECOMPUTED, {"from": _iso(before), "to": _iso(target.due_at), "reason": reason}, target)


# The escalation ladder, written by the sweep: each step once per target (the
# unique constraint on ticket, target kind, cycle and step).


# ``cause`` names a person's re-date that put the step past due on the spot.


def _cause(cause: str) -> dict:
    return {"cause": cause} if cause else {}


def sla_warning(*, target: SLATarget, cause: str = "") -> Event:
    """A staff target, or a merchant's reply, is nearly due."""
    return Event(Kind.SLA_WARNING, _cause(cause), target, Step.WARNING)


def sla_breach(*, target: SLATarget, cause: str = "") -> Event:
    return Event(Kind.SLA_BREACH, {"due_at": _iso(target.due_at), **_cause(cause)}, target, Step.BREACH)


def sla_level2(*, target: SLATarget, cause: str = "") -> Event:
    return Event(Kind.SLA_LEVEL2, _cause(cause), target, Step.LEVEL2)


def merchant_missed(*, target: SLATarget, merchant_id: int) -> Event:
    """The merchant's reply ``target`` breached (the merchants app records its
    strike from this event)."""
    return Event(Kind.MERCHANT_MISSED, {"merchant": merchant_id}, target, Step.BREACH)


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

    @classmethod
    def written(cls, pk: int, values: EventValues) -> EventRow:
        """The row of ``values`` once inserted with the id ``pk``."""
        return cls(pk, *values)


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
# The ticket events are the domain's outbox: apps above the domain (webhooks)
# learn of changes from them instead of
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
