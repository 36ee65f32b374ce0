"""How other systems work with the helpdesk: staff API tokens (the order
system, the chat and the app call the API with them) and webhooks (the
helpdesk calls them when something happens)."""

from __future__ import annotations

import base64
import secrets
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class StaffApiToken(models.Model):
    """A staff user's key for the API (``Authorization: Bearer css_…``). It acts
    as that user, with exactly their rights. Only a SHA-256 of the key is kept;
    the key is shown once, when an administrator makes it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("What uses it, e.g. “order system”."))
    prefix = models.CharField(_("key starts with"), max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("staff API token")
        verbose_name_plural = _("staff API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


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
            "The receiver verifies each delivery's webhook-signature with exactly this text "
            "(Standard Webhooks). Keep it secret."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """The webhook outbox: one event for one endpoint, written in the same
    transaction as the change that caused it, delivered by Celery with retries."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed (gave up)")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    event = models.CharField(_("event"), max_length=30, choices=WebhookEvent.choices)
    # Sent as webhook-id (and X-CS-Desk-Delivery): the same on every attempt, so receivers can drop repeats.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="webhook_pending_idx", condition=Q(status="pending")),
            models.Index(fields=["endpoint", "created_at"], name="webhook_endpoint_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"


class WebhookAttempt(models.Model):
    """One try at a delivery: what the receiver answered, or why it could not."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
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
