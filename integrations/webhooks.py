"""Webhooks: telling other systems what happened, reliably and verifiably.

* **Outbox.** A ticket's webhooks are fed from its events
  (``integrations.fanout``): once a change commits, the ticket events it wrote
  become one ``WebhookDelivery`` per event and subscribed endpoint (a unique
  constraint makes it one, however often the events are seen), and a catch-up
  writes those whose fan-out was lost. A merchant's penalties
  (``merchant.penalized``) are announced by the merchants app
  (accounts.events) and written by ``merchant_events_webhooks`` in the
  transaction of their change. Either
  way the request that caused them never waits for a receiver.
* **Delivery** is the outbox's (``tickets.outbox``), as for emails: each
  attempt claims its delivery by a lease and reads its own clock; a delivery
  that fails (no answer in ``WEBHOOK_TIMEOUT_S``, a connection error, any status
  but 2xx, a redirect, a refused destination) is tried again after 30 s, 1, 2,
  4 … minutes (at most 6 h apart), ``WEBHOOK_MAX_ATTEMPTS`` times in all, then
  given up (status *failed*); an administrator can send it again. The outbox
  re-sweep picks up what is due. Every attempt is logged with the receiver's
  status code or the error.
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
  the ticket as it stands when the delivery is written (right after the change
  commits; later, for one the catch-up writes), without the consumer's contact
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
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Max
from django.utils import timezone
from standardwebhooks import Webhook

from accounts.events import PENALIZED, MerchantEvent
from integrations.destinations import DestinationRefused, destination_resolve, destination_split
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from tickets.config_cache import config_cached
from tickets.models import Ticket, TicketEvent
from tickets.outbox import Channel, Outcome, outbox_dispatch_on_commit

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


# The webhook event each merchant event stands for.
MERCHANT_EVENT_WEBHOOKS = {PENALIZED: WebhookEvent.MERCHANT_PENALIZED}


def merchant_events_webhooks(events: list[MerchantEvent]) -> None:
    """The merchant events' deliveries, written in the transaction of their
    change (registered in IntegrationsConfig.ready())."""
    for event in events:
        name = MERCHANT_EVENT_WEBHOOKS.get(event.kind)
        if name is not None:
            webhooks_emit([(name, event.data)], at=event.at)


def webhooks_emit(events: Sequence[tuple[str, dict]], *, at: datetime) -> int:
    """Write the deliveries of ``events`` (name, data) to every active endpoint
    subscribed to them; deliver them after the commit. Returns how many."""
    endpoints = endpoints_subscribed({name for name, _data in events})
    return _deliveries_write(events, endpoints, at=at) if endpoints else 0


def endpoints_subscribed(names: Iterable[str]) -> list[WebhookEndpoint]:
    """The active endpoints subscribed to any of ``names`` (no query for none)."""
    names = set(names)
    if not names:
        return []
    active = config_cached("webhook_endpoints", _endpoints_active)
    return [endpoint for endpoint in active if names & endpoint.subscribed]


def _endpoints_active() -> list[WebhookEndpoint]:
    """Every active endpoint (pk, events, created_at), read once per process and
    change (``tickets.config_cache``; a trigger watches exactly these columns)."""
    endpoints = list(WebhookEndpoint.objects.filter(is_active=True).order_by("pk").only("pk", "events", "created_at"))
    for endpoint in endpoints:
        endpoint.subscribed = frozenset(endpoint.events)
    return endpoints


def payload_json(data: dict) -> dict:
    """``data`` as it is stored and sent: datetimes and decimals as JSON text."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _deliveries_write(events: Sequence[tuple[str, dict]], endpoints: list[WebhookEndpoint], *, at: datetime) -> int:
    rows = []
    for name, data in events:
        body = payload_json(data)
        for endpoint in endpoints:
            if name in endpoint.events:
                rows.append(
                    WebhookDelivery(endpoint=endpoint, event=name, payload=body, next_attempt_at=at, created_at=at)
                )
    ids = [d.pk for d in WebhookDelivery.objects.bulk_create(rows)]
    outbox_dispatch_on_commit(WEBHOOK, ids)
    return len(ids)


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


class WebhookChannel(Channel):
    """The outbox channel of webhook deliveries."""

    name = "webhook"
    model = WebhookDelivery
    done = WebhookDelivery.Status.DELIVERED.value
    done_at = "delivered_at"
    backoff_cap = timedelta(hours=6)
    retry_permission = "integrations.change_webhookendpoint"  # those who manage the endpoints
    # A delivered one may go again (its receiver lost it): the same webhook-id lets a receiver that has it drop it.
    resend_done = True

    def max_attempts(self) -> int:
        return settings.WEBHOOK_MAX_ATTEMPTS

    def load(self, pk: int) -> WebhookDelivery:
        return WebhookDelivery.objects.select_related("endpoint").get(pk=pk)

    def send(self, row: WebhookDelivery) -> Outcome:
        endpoint = row.endpoint
        if not endpoint.is_active:
            return Outcome(ok=False, error="The endpoint was deactivated.", final=True)
        body = request_body(row)
        try:
            # Signed at the time of this attempt (a retry gets a new timestamp, never the first one's).
            signed = signed_headers(
                delivery_id=str(row.uuid), secret=endpoint.secret, timestamp=int(timezone.now().timestamp()), body=body
            )
        except ValueError as exc:
            return Outcome(ok=False, error=f"Cannot sign: {exc}.")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "X-CS-Desk-Event": row.event,
            **signed,
        }
        try:
            status_code, excerpt, error = _post(endpoint.url, body, headers)
        except DestinationRefused as exc:
            logger.warning("Webhook %s to %s (%s): %s", row.pk, endpoint, endpoint.pk, exc)
            return Outcome(ok=False, error=str(exc))
        ok = status_code is not None and 200 <= status_code < 300
        if not ok and not error:
            error = f"HTTP {status_code}"
        return Outcome(ok=ok, error=error, status_code=status_code, excerpt=excerpt)

    def recorded_fields(self, outcome: Outcome) -> dict:
        return {"last_status_code": outcome.status_code}

    def log_attempt(self, row: WebhookDelivery, *, attempt: int, outcome: Outcome, at: datetime, took_ms: int) -> None:
        # The log numbers every attempt of the delivery's life (an administrator's "send again"
        # starts ``attempts`` afresh); the row lock, held only for these writes, orders two reports.
        WebhookDelivery.objects.select_for_update().filter(pk=row.pk).values_list("pk").first()
        last = WebhookAttempt.objects.filter(delivery_id=row.pk).aggregate(last=Max("number"))["last"] or 0
        WebhookAttempt.objects.create(
            delivery_id=row.pk,
            number=last + 1,
            at=at,
            status_code=outcome.status_code,
            error=outcome.error,
            response_excerpt=outcome.excerpt[:500],
            duration_ms=took_ms,
        )

    def dispatch_chunk(self, ids: list[int]) -> None:
        from integrations.tasks import webhooks_deliver_task

        webhooks_deliver_task.delay(ids)

    def feed(self, *, now: datetime) -> int:
        from integrations.fanout import ticket_events_catch_up

        return ticket_events_catch_up(now=now)


WEBHOOK = WebhookChannel()
