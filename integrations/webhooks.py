"""Webhooks: telling other systems what happened, reliably and verifiably.

* **Outbox.** ``webhooks_emit`` writes one ``WebhookDelivery`` per event and
  subscribed endpoint, in the transaction of the change that caused it (no
  change, no delivery; no delivery lost to a crash after the commit), and hands
  the new rows to Celery once the transaction commits. The request that caused
  them never waits for a receiver.
* **Retries.** A delivery that fails (no answer in ``WEBHOOK_TIMEOUT_S``, a
  connection error, any status but 2xx, a redirect, a refused destination) is
  tried again after 30 s, 1, 2, 4 … minutes (at most 6 h apart),
  ``WEBHOOK_MAX_ATTEMPTS`` times in all, then given up (status *failed*); an
  administrator can send it again. The re-sweep (beat, every
  ``WEBHOOKS_RESWEEP_INTERVAL_S``) picks up what is due. Every attempt is
  logged with the receiver's status code or the error.
* **Destinations.** Only http and https, only to public addresses
  (``integrations.destinations``): the host is resolved once, every address it
  resolves to is checked, and the request goes to the checked address (with the
  URL's host in the Host header and, for https, in SNI and the certificate
  check). A refused destination is a failed attempt ("refused: 127.0.0.1 is a
  loopback address …") and nothing is sent. Redirects are never followed.
* **Signature** (`Standard Webhooks <https://www.standardwebhooks.com/>`_).
  Each request carries ``webhook-id`` (the delivery's UUID, the same on every
  attempt of one delivery: a receiver drops repeats), ``webhook-timestamp``
  (Unix seconds of this attempt) and ``webhook-signature: v1,<base64>``, the
  HMAC-SHA256 of ``<id>.<timestamp>.<body>`` keyed with the endpoint's secret
  ``whsec_<base64 key>``. A receiver checks it with the ``standardwebhooks``
  package, ``Webhook(secret).verify(body, headers)``, which also refuses a
  timestamp more than five minutes away; the id being signed, a captured request
  cannot be passed off as another delivery.
* **Legacy signature**, while ``WEBHOOK_LEGACY_SIGNATURE`` is on (the default,
  for receivers written before Standard Webhooks): also ``X-CS-Desk-Delivery``
  (the same UUID), ``X-CS-Desk-Timestamp`` and ``X-CS-Desk-Signature:
  v1=<hex>``, the HMAC-SHA256 of ``<timestamp>.<body>`` keyed with the same key
  bytes — for an endpoint made before Standard Webhooks, exactly the secret it
  was given then (migration ``0002`` stored it as ``whsec_`` and its base64).
  It does not cover the delivery id; turn it off once every receiver checks
  ``webhook-signature``.
* **Payload.** ``{"id", "event", "created_at", "data": {"ticket": {...}, ...}}``:
  the ticket as it stood after the change, without the consumer's contact
  details (a receiver that needs them asks the API, with its own rights).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import http.client
import json
import logging
import socket
import ssl
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from standardwebhooks import Webhook

from integrations.destinations import DestinationRefused, destination_resolve, destination_split
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from tickets.models import Ticket, TicketEvent

logger = logging.getLogger(__name__)

USER_AGENT = "cs_desk-webhooks/1"
SECRET_PREFIX = "whsec_"
# A secret an administrator types: whsec_ and the base64 of this many random bytes (Standard Webhooks).
SECRET_BYTES_MIN, SECRET_BYTES_MAX = 24, 64


# --- What is sent ---------------------------------------------------------------------


def ticket_data(ticket: Ticket) -> dict:
    """A ticket as webhooks describe it (no consumer contact details)."""
    return {
        "id": ticket.pk,
        "reference": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "category_id": ticket.category_id,
        "team_id": ticket.team_id,
        "merchant_id": ticket.merchant_id,
        "order_number": ticket.order_number,
        "assignee_id": ticket.assignee_id,
        "due_at": ticket.due_at,
        "is_overdue": ticket.is_overdue,
        "escalation_level": ticket.escalation_level,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
    }


def ticket_event_webhooks(kind: str, *, target_kind: str = "", data: dict | None = None) -> list[tuple[str, dict]]:
    """The webhook events (with their extra data) one ticket event stands for."""
    data = data or {}
    if kind == TicketEvent.Kind.CREATED:
        return [(WebhookEvent.TICKET_CREATED, {})]
    if kind == TicketEvent.Kind.PUBLIC_REPLY:
        return [(WebhookEvent.TICKET_REPLIED, {"by": "agent", "message_id": data.get("message")})]
    if kind == TicketEvent.Kind.MERCHANT_REPLIED:
        return [(WebhookEvent.TICKET_REPLIED, {"by": "merchant", "message_id": data.get("message")})]
    if kind == TicketEvent.Kind.STATUS_CHANGED and data.get("to") == Ticket.Status.RESOLVED:
        return [(WebhookEvent.TICKET_RESOLVED, {})]
    if kind == TicketEvent.Kind.SLA_BREACH:
        target = {"target": target_kind, "due_at": data.get("due_at")}
        return [
            (WebhookEvent.TICKET_BREACHED, target),
            (WebhookEvent.TICKET_ESCALATED, {"level": 1, "reason": "sla_breach", **target}),
        ]
    if kind == TicketEvent.Kind.SLA_LEVEL2:
        return [(WebhookEvent.TICKET_ESCALATED, {"level": 2, "reason": "sla_level2", "target": target_kind})]
    if kind == TicketEvent.Kind.MERCHANT_MISSED:
        return [(WebhookEvent.TICKET_ESCALATED, {"level": 1, "reason": "merchant_missed", "target": target_kind})]
    return []


def ticket_webhooks(items: Iterable[tuple[Ticket, str, str, dict | None]], *, at: datetime) -> int:
    """Emit the webhooks of ticket events ``(ticket, kind, target_kind, data)``,
    each ticket described as it stands now. Returns the deliveries written.
    The services and every sweep batch call this: nothing is queried unless an
    event maps to a webhook, and no payload is built unless someone subscribed."""
    mapped = [
        (event, ticket, extra)
        for ticket, kind, target_kind, data in items
        for event, extra in ticket_event_webhooks(kind, target_kind=target_kind, data=data)
    ]
    endpoints = _subscribed({event for event, _ticket, _extra in mapped})
    if not endpoints:
        return 0
    return _deliveries_write(
        [(event, {"ticket": ticket_data(ticket), **extra}) for event, ticket, extra in mapped], endpoints, at=at
    )


def webhooks_emit(events: Sequence[tuple[str, dict]], *, at: datetime) -> int:
    """Write the deliveries of ``events`` (name, data) to every active endpoint
    subscribed to them; deliver them after the commit. Returns how many."""
    endpoints = _subscribed({name for name, _data in events})
    return _deliveries_write(events, endpoints, at=at) if endpoints else 0


def _subscribed(names: set[str]) -> list[WebhookEndpoint]:
    """The active endpoints subscribed to any of ``names`` (no query for none)."""
    if not names:
        return []
    return list(WebhookEndpoint.objects.filter(is_active=True, events__overlap=sorted(names)).only("pk", "events"))


def _deliveries_write(events: Sequence[tuple[str, dict]], endpoints: list[WebhookEndpoint], *, at: datetime) -> int:
    rows = []
    for name, data in events:
        body = json.loads(json.dumps(data, cls=DjangoJSONEncoder))  # datetimes and decimals as JSON text
        for endpoint in endpoints:
            if name in endpoint.events:
                rows.append(
                    WebhookDelivery(endpoint=endpoint, event=name, payload=body, next_attempt_at=at, created_at=at)
                )
    ids = [d.pk for d in WebhookDelivery.objects.bulk_create(rows)]
    if ids:
        transaction.on_commit(lambda: webhooks_dispatch(ids))
    return len(ids)


def webhooks_dispatch(ids: list[int]) -> None:
    """Hand delivery to Celery. A broker outage must not fail the request: the
    rows are in the outbox, and the re-sweep will deliver them."""
    from integrations.tasks import webhooks_deliver_task

    try:
        webhooks_deliver_task.delay(ids)
    except Exception:
        logger.warning("Could not dispatch %d webhook(s); the re-sweep will deliver them.", len(ids), exc_info=True)


# --- Signing -------------------------------------------------------------------------


def webhook_secret_key(secret: str) -> bytes:
    """The key of an endpoint's secret ``whsec_<base64>`` (the padding may be
    left out), as the ``standardwebhooks`` package reads it. Raises ValueError
    if the secret is not in that form."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"the signing secret does not start with {SECRET_PREFIX}")
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error:
        raise ValueError(f"the signing secret is not {SECRET_PREFIX} and base64") from None
    if not key:
        raise ValueError("the signing secret is empty")
    return key


def legacy_signature(key: bytes, timestamp: int, body: bytes) -> str:
    """``X-CS-Desk-Signature``: ``v1=`` and the hex HMAC-SHA256 of ``<timestamp>.<body>``."""
    return "v1=" + hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signed_headers(*, delivery_id: str, secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt (and, while
    ``WEBHOOK_LEGACY_SIGNATURE`` is on, the legacy ones). Raises ValueError for
    a secret not in the ``whsec_`` form."""
    key = webhook_secret_key(secret)
    at = datetime.fromtimestamp(timestamp, tz=UTC)  # the package reads it as UTC whatever its zone
    headers = {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": Webhook(secret).sign(delivery_id, at, body.decode()),
    }
    if getattr(settings, "WEBHOOK_LEGACY_SIGNATURE", True):
        headers["X-CS-Desk-Delivery"] = delivery_id
        headers["X-CS-Desk-Timestamp"] = str(timestamp)
        headers["X-CS-Desk-Signature"] = legacy_signature(key, timestamp, body)
    return headers


def request_body(delivery: WebhookDelivery) -> bytes:
    document = {
        "id": str(delivery.uuid),
        "event": delivery.event,
        "created_at": delivery.created_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


# --- Delivering ----------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """How long after the ``attempts``-th failure to try again: 30 s, 1 min, 2 min … ≤ 6 h."""
    return timedelta(seconds=min(30 * 2 ** (attempts - 1), 6 * 3600))


def _connect(entries: list[tuple], timeout: float) -> socket.socket:
    """A TCP connection to the first of the checked ``getaddrinfo`` entries that answers."""
    errors = []
    for family, type_, proto, _canonname, sockaddr in entries:
        sock = socket.socket(family, type_, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            errors.append(exc)
    raise errors[0] if errors else OSError("the host resolved to no address")


class _Checked:
    """An HTTP(S) connection to addresses checked beforehand: the Host header
    (and, for https, SNI and the certificate check) name the URL's host, but the
    socket goes to ``entries`` and nowhere else: no second lookup."""

    def __init__(self, host: str, port: int, *, entries: list[tuple], **kwargs):
        super().__init__(host, port, **kwargs)
        # http.client opens its socket through this hook (with the host and port, which we ignore).
        self._create_connection = lambda _address, timeout, _source=None: _connect(entries, timeout)


class _CheckedHTTPConnection(_Checked, http.client.HTTPConnection):
    pass


class _CheckedHTTPSConnection(_Checked, http.client.HTTPSConnection):
    pass


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str, str]:
    """POST and return (status code, start of the answer, error). A redirect is
    an answer like any other: it is never followed. Raises ``DestinationRefused``
    (before any connection) if the URL leads to an address it may not."""
    scheme, host, port = destination_split(url)
    timeout = settings.WEBHOOK_TIMEOUT_S
    try:
        entries = destination_resolve(host=host, port=port)
    except (OSError, UnicodeError) as exc:  # does not resolve (now): worth a retry
        return None, "", f"{type(exc).__name__}: {exc}"[:1000]
    if scheme == "https":
        connection = _CheckedHTTPSConnection(
            host, port, entries=entries, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = _CheckedHTTPConnection(host, port, entries=entries, timeout=timeout)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(500).decode("utf-8", "replace"), ""
    except Exception as exc:  # refused, reset, timed out, bad TLS: all worth a retry
        return None, "", f"{type(exc).__name__}: {exc}"[:1000]
    finally:
        connection.close()


def webhook_deliver(*, delivery_id: int, now: datetime | None = None) -> str | None:
    """Try one delivery if it is pending and due. Returns its status afterwards
    (None if it was not ours to try: not due, done, or another worker has it).

    The row is claimed by moving its next attempt one timeout (and a margin)
    ahead, in a short transaction: no lock is held while the receiver answers,
    and a worker that dies mid-call leaves it to be retried after the lease."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.WEBHOOK_TIMEOUT_S + 30)
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + lease, attempts=F("attempts") + 1)
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    body = request_body(delivery)
    started = time.monotonic()
    status_code, excerpt, error = None, "", ""
    if not endpoint.is_active:
        error = "The endpoint was deactivated."
    else:
        try:
            # The time of this attempt (a batch's ``now`` may be minutes old by the time its turn comes).
            signed = signed_headers(
                delivery_id=str(delivery.uuid),
                secret=endpoint.secret,
                timestamp=int(timezone.now().timestamp()),
                body=body,
            )
        except ValueError as exc:
            error = f"Cannot sign: {exc}."
        else:
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": USER_AGENT,
                "X-CS-Desk-Event": delivery.event,
                **signed,
            }
            try:
                status_code, excerpt, error = _post(endpoint.url, body, headers)
            except DestinationRefused as exc:
                error = str(exc)
                logger.warning("Webhook %s to %s (%s): %s", delivery.pk, endpoint, endpoint.pk, error)
    took = int((time.monotonic() - started) * 1000)
    ok = status_code is not None and 200 <= status_code < 300
    if not ok and not error:
        error = f"HTTP {status_code}"
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempt_log.count() + 1,
            at=now,
            status_code=status_code,
            error=error,
            response_excerpt=excerpt[:500],
            duration_ms=took,
        )
        delivery.last_status_code = status_code
        delivery.last_error = error
        if ok:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = timezone.now()
        elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS or not endpoint.is_active:
            delivery.status = WebhookDelivery.Status.FAILED
            logger.warning(
                "Webhook %s to %s: gave up after %d attempts: %s", delivery.pk, endpoint, delivery.attempts, error
            )
        else:
            delivery.next_attempt_at = now + backoff(delivery.attempts)
        delivery.save(update_fields=["status", "delivered_at", "next_attempt_at", "last_status_code", "last_error"])
    return delivery.status


def webhooks_due(*, now: datetime, limit: int = 200) -> list[int]:
    return list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def webhooks_deliver_many(*, ids: Iterable[int], now: datetime | None = None) -> dict[str, int]:
    counts: dict[str, int] = {}
    for delivery_id in ids:
        status = webhook_deliver(delivery_id=delivery_id, now=now)
        if status is not None:
            counts[status] = counts.get(status, 0) + 1
    return counts


def webhook_redeliver(*, delivery: WebhookDelivery, now: datetime | None = None) -> None:
    """An administrator sends a delivery again (a failed one gets its attempts back)."""
    now = now or timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PENDING, attempts=0, next_attempt_at=now
    )
    transaction.on_commit(lambda: webhooks_dispatch([delivery.pk]))
