"""A ticket's webhooks, fed from its events.

The ticket domain does not call up into this app: it writes ``TicketEvent``
rows and, in the same transaction, names them to ``tickets.events``'
consumers. This app's consumer (``ticket_events_fan_out``, registered in
``IntegrationsConfig.ready``) runs once that transaction has committed and
turns the events into one ``WebhookDelivery`` per event, webhook event and
subscribed endpoint, then hands them to the outbox.

Exactly one delivery each: a unique constraint on (ticket event, endpoint,
webhook event) holds, whoever writes first. The payload describes the ticket as
it stands when the delivery is written: right after the change, in the normal
case.

The on-commit call is a fast path, not a guarantee (a process killed between
the commit and the call, a database error in the call). The **catch-up**
(``ticket_events_catch_up``, the webhook channel's part of the outbox re-sweep)
goes over the events past each endpoint's cursor and writes the deliveries
missing. The cursor (``WebhookEndpoint.caught_up_to``) only moves past an event
id once every lower id has committed or rolled back: ids come from a sequence
before their transaction commits, so an id seen at a moment may have lower ids
still in flight. The catch-up notes the newest id it sees (the mark) and trusts
it ``WEBHOOK_CATCH_UP_SETTLE_S`` later — longer than any transaction that
writes events stays open. Until then it looks at the events above the cursor
again, which costs one range scan of the primary key and one lookup of the
deliveries already written (the unique constraint's index).

An endpoint is offered the events written after it was registered: the catch-up
starts after the events created before it; a change of its subscriptions applies
to events not yet settled. A deactivated endpoint's cursor moves on without
deliveries, so turning it on again does not replay what it missed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from integrations.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from integrations.webhooks import WEBHOOK, endpoints_subscribed, payload_json, ticket_data, ticket_event_webhooks
from tickets.models import Ticket, TicketEvent
from tickets.outbox import outbox_dispatch_on_commit

EventKind = TicketEvent.Kind

# The ticket events that may stand for a webhook (ticket_event_webhooks decides).
KINDS = (
    EventKind.CREATED,
    EventKind.PUBLIC_REPLY,
    EventKind.MERCHANT_REPLIED,
    EventKind.STATUS_CHANGED,
    EventKind.SLA_BREACH,
    EventKind.SLA_LEVEL2,
    EventKind.MERCHANT_MISSED,
)
TICKET_WEBHOOKS = [e.value for e in WebhookEvent if e.value.startswith("ticket.")]
_FIELDS = ("id", "ticket_id", "kind", "target_kind", "data", "created_at")
# Events one catch-up run reads at most (a backlog is worked off over several runs).
CATCH_UP_BATCH = 5000


def ticket_events_fan_out(event_ids: list[int]) -> int:
    """Write (and dispatch) the deliveries of the ticket events ``event_ids``,
    just committed, to every active endpoint subscribed. Returns how many were
    dispatched. Nothing but one query of the endpoints when none subscribes."""
    endpoints = endpoints_subscribed(TICKET_WEBHOOKS)
    if not endpoints:
        return 0
    events = list(TicketEvent.objects.filter(pk__in=event_ids, kind__in=KINDS).order_by("pk").values(*_FIELDS))
    return _write(events, lambda _event: endpoints)


def ticket_events_catch_up(*, now: datetime) -> int:
    """Write the deliveries whose fan-out was lost, for the events past each
    endpoint's cursor, and move the cursors on. Returns how many deliveries
    were written. Concurrent runs skip each other (the endpoints are locked)."""
    with transaction.atomic():
        endpoints = list(WebhookEndpoint.objects.select_for_update(skip_locked=True, no_key=True).order_by("pk"))
        if not endpoints:
            return 0
        top = TicketEvent.objects.aggregate(top=Max("pk"))["top"] or 0
        for endpoint in endpoints:
            if endpoint.caught_up_to is None:
                before = TicketEvent.objects.filter(created_at__lt=endpoint.created_at).aggregate(last=Max("pk"))
                endpoint.caught_up_to = before["last"] or 0
        low = min(endpoint.caught_up_to for endpoint in endpoints)
        events = list(
            TicketEvent.objects.filter(pk__gt=low, pk__lte=top, kind__in=KINDS)
            .order_by("pk")
            .values(*_FIELDS)[:CATCH_UP_BATCH]
        )
        scanned_to = events[-1]["id"] if len(events) == CATCH_UP_BATCH else top
        active = [endpoint for endpoint in endpoints if endpoint.is_active]
        written = 0
        if events and active:
            written = _write(
                events,
                lambda event: [
                    endpoint
                    for endpoint in active
                    if event["id"] > endpoint.caught_up_to and event["created_at"] >= endpoint.created_at
                ],
                skip=set(
                    WebhookDelivery.objects.filter(ticket_event_id__in=[event["id"] for event in events]).values_list(
                        "ticket_event_id", "endpoint_id", "event"
                    )
                ),
            )
        settle = timedelta(seconds=settings.WEBHOOK_CATCH_UP_SETTLE_S)
        for endpoint in endpoints:
            _advance(endpoint, top=top, scanned_to=scanned_to, now=now, settle=settle)
            endpoint.save(update_fields=["caught_up_to", "catch_up_mark", "catch_up_mark_at"])
    return written


def _advance(endpoint: WebhookEndpoint, *, top: int, scanned_to: int, now: datetime, settle: timedelta) -> None:
    """Move the cursor to the mark once the mark has settled (and this run has
    read that far); set a new mark at the newest id seen."""
    if endpoint.catch_up_mark_at is not None and endpoint.catch_up_mark_at <= now - settle:
        endpoint.caught_up_to = max(endpoint.caught_up_to, min(endpoint.catch_up_mark, scanned_to))
        if endpoint.caught_up_to >= endpoint.catch_up_mark:
            endpoint.catch_up_mark = endpoint.catch_up_mark_at = None
    if endpoint.catch_up_mark is None and top > endpoint.caught_up_to:
        endpoint.catch_up_mark, endpoint.catch_up_mark_at = top, now


def _write(
    events: list[dict],
    endpoints_for: Callable[[dict], Iterable[WebhookEndpoint]],
    *,
    skip: set[tuple[int, int, str]] | frozenset = frozenset(),
) -> int:
    """One delivery per event, webhook event and endpoint (of ``endpoints_for``
    the event, subscribed to it, not in ``skip``); a delivery already written is
    left as it is. Dispatched on commit. Returns how many were written or found
    waiting for their first attempt."""
    planned = []
    for event in events:
        mapped = ticket_event_webhooks(event["kind"], target_kind=event["target_kind"], data=event["data"])
        if not mapped:
            continue
        targets = list(endpoints_for(event))
        for name, extra in mapped:
            for endpoint in targets:
                if name in endpoint.events and (event["id"], endpoint.pk, name) not in skip:
                    planned.append((event, name, extra, endpoint))
    if not planned:
        return 0
    tickets = Ticket.objects.in_bulk({event["ticket_id"] for event, *_ in planned})
    payloads: dict[tuple[int, str], dict] = {}
    rows = []
    for event, name, extra, endpoint in planned:
        ticket = tickets.get(event["ticket_id"])
        if ticket is None:  # deleted since
            continue
        key = (event["id"], name)
        if key not in payloads:
            payloads[key] = payload_json({"ticket": ticket_data(ticket), **extra})
        rows.append(
            WebhookDelivery(
                endpoint=endpoint,
                event=name,
                ticket_event_id=event["id"],
                payload=payloads[key],
                next_attempt_at=event["created_at"],
                created_at=event["created_at"],
            )
        )
    with transaction.atomic():
        WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
        ids = list(
            WebhookDelivery.objects.filter(
                ticket_event_id__in={event["id"] for event, *_ in planned},
                endpoint_id__in={endpoint.pk for *_, endpoint in planned},
                status=WebhookDelivery.Status.PENDING,
                attempts=0,
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        outbox_dispatch_on_commit(WEBHOOK, ids)
    return len(ids)
