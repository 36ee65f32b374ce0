"""How other systems work with the helpdesk: staff API tokens (the order
system, the chat and the app call the API with them; kept in accounts.ApiKey)
and webhooks (the helpdesk calls them when something happens)."""

from __future__ import annotations

import base64
import secrets
import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKey, ApiKeysOfKind


class StaffApiToken(ApiKey):
    """The staff keys (``css_…``), as the admin lists and makes them here: a
    view of accounts.ApiKey, which holds every API key. A key acts as its user,
    with exactly their rights; the key is shown once, when an administrator
    makes it."""

    objects = ApiKeysOfKind(ApiKey.Kind.STAFF)

    class Meta:
        proxy = True
        verbose_name = _("staff API token")
        verbose_name_plural = _("staff API tokens")


class WebhookEvent(models.TextChoices):
    TICKET_CREATED = "ticket.created", _("A ticket was filed")
    TICKET_REPLIED = "ticket.replied", _("The consumer got a reply (agent or merchant)")
    TICKET_ESCALATED = "ticket.escalated", _("A ticket was escalated")
    TICKET_BREACHED = "ticket.breached", _("A ticket missed an SLA deadline")
    TICKET_RESOLVED = "ticket.resolved", _("A ticket was resolved")
    MERCHANT_PENALIZED = "merchant.penalized", _("A merchant was penalized")


def _secret() -> str:
    """A new endpoint's signing secret in the Standard Webhooks form: ``whsec_``
    and the base64 of 32 random bytes (the key)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookEndpoint(models.Model):
    """A URL an administrator registered to be told of events."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500, help_text=_("Called with POST and a JSON body."))
    events = ArrayField(
        models.CharField(max_length=30, choices=WebhookEvent.choices),
        verbose_name=_("events"),
        help_text=_("The events this URL is told about."),
    )
    # whsec_ and the base64 of the key (integrations.webhooks.webhook_secret_key). Room for the
    # secrets from before Standard Webhooks (any 100 characters), which migration 0002 encoded so.
    secret = models.CharField(
        _("signing secret"),
        max_length=600,
        default=_secret,
        help_text=_(
            "The receiver verifies each delivery's <code>webhook-signature</code> header with exactly this text "
            "(Standard Webhooks). Keep it secret."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    # The catch-up (integrations.fanout.ticket_events_catch_up) has offered this endpoint every
    # ticket event up to this id. Null until its first run, which starts after the events that
    # came before the endpoint. The mark: the newest event id seen at mark_at, trusted (every
    # lower id committed or rolled back) once WEBHOOK_CATCH_UP_SETTLE_S have passed.
    caught_up_to = models.BigIntegerField(_("caught up to ticket event"), null=True, blank=True, editable=False)
    catch_up_mark = models.BigIntegerField(_("catch-up mark"), null=True, blank=True, editable=False)
    catch_up_mark_at = models.DateTimeField(_("catch-up mark set"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """The webhook channel of the outbox (tickets.outbox): one event for one
    endpoint, delivered by Celery with retries, claimed for each attempt by a
    lease. A ticket's deliveries are written from its events once they commit
    (integrations.fanout); others (merchant.penalized) with the change itself."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed (gave up)")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    event = models.CharField(_("event"), max_length=30, choices=WebhookEvent.choices)
    # The ticket event it tells of (none for events that are not a ticket's).
    ticket_event = models.ForeignKey(
        "tickets.TicketEvent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # the unique constraint below starts with it
        verbose_name=_("ticket event"),
    )
    # Sent as webhook-id (and X-CS-Desk-Delivery): the same on every attempt, so receivers can drop repeats.
    uuid = models.UUIDField(_("delivery ID"), default=uuid.uuid4, unique=True, editable=False)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    # While an attempt runs: the worker's lease, after which another worker may try again.
    leased_until = models.DateTimeField(_("leased until"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One delivery per ticket event, endpoint and webhook event, however often the
            # on-commit fan-out and the catch-up (integrations.fanout) see the event; the
            # catch-up looks up what is already written through it.
            models.UniqueConstraint(
                fields=["ticket_event", "endpoint", "event"],
                condition=Q(ticket_event__isnull=False),
                name="webhook_one_per_ticket_event",
            ),
        ]
        indexes = [
            # The outbox re-sweep (tickets.outbox.outbox_resweep): due retries and expired leases.
            models.Index(fields=["next_attempt_at"], name="webhook_pending_idx", condition=Q(status="pending")),
            models.Index(fields=["endpoint", "created_at"], name="webhook_endpoint_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} → {self.endpoint}"


class WebhookAttempt(models.Model):
    """One try at a delivery: what the receiver answered, or why it could not."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("webhook delivery")
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    at = models.DateTimeField(_("at"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    response_excerpt = models.CharField(_("response (start)"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("took (ms)"))

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_unique")]

    def __str__(self) -> str:
        return f"#{self.number} {self.status_code or self.error[:40]}"
