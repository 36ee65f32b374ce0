"""Every message that came in by email, kept whole, with what became of it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class InboundMail(models.Model):
    """One incoming message, however it came (IMAP, a provider's webhook, the
    local SMTP receiver). ``key`` makes it once: the same message delivered twice
    (a provider's retry, a mailbox re-read after a crash) is the same row and is
    processed once. The raw message is kept, for staff to read and for a
    processing interrupted half-way to be done again."""

    class Via(models.TextChoices):
        IMAP = "imap", _("Mailbox (IMAP)")
        WEBHOOK = "webhook", _("Provider's webhook")
        SMTP = "smtp", _("Local SMTP receiver")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received, not processed yet")
        POSTED = "posted", _("Posted")
        HELD = "held", _("Held for an agent (unverified)")
        IGNORED = "ignored", _("Recorded, not answered")
        REFUSED = "refused", _("Refused")

    class Outcome(models.TextChoices):
        CONSUMER_MESSAGE = "consumer_message", _("The consumer's reply, on the ticket")
        MERCHANT_REPLY = "merchant_reply", _("The merchant's reply to a complaint")
        APPEAL = "appeal", _("A merchant's appeal of a penalty")
        NEW_TICKET = "new_ticket", _("A new complaint")
        SENDER_MISMATCH = "sender_mismatch", _("Sender does not fit the signed address")
        AUTH_FAILED = "auth_failed", _("SPF, DKIM or DMARC failed")
        AUTO_REPLY = "auto_reply", _("Automatic reply (out of office)")
        BOUNCE = "bounce", _("Delivery failure report (bounce)")
        LIST = "list", _("Mailing list or bulk mail")
        RATE_LIMITED = "rate_limited", _("Too many messages from this sender")
        TOO_LARGE = "too_large", _("Too large")
        UNREADABLE = "unreadable", _("Not a readable message")
        CLOSED = "closed", _("The ticket is closed")
        INVALID = "invalid", _("Refused by the complaint rules")

    # sha256 of the Message-ID, else of the bytes
    key = models.CharField(_("key"), max_length=64, unique=True, editable=False)
    header_message_id = models.CharField(_("Message-ID"), max_length=998, blank=True)
    via = models.CharField(_("received via"), max_length=10, choices=Via.choices)
    raw = models.BinaryField(_("original message"), editable=False)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    sender = models.CharField(_("sender"), max_length=320, blank=True)
    recipient = models.CharField(_("recipient"), max_length=320, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("processing attempts"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    detail = models.TextField(_("detail"), blank=True)
    # The text stored as the reply (quoted history and signature stripped), shown beside the original.
    text = models.TextField(_("text"), blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_mails",
        verbose_name=_("ticket"),
    )
    message = models.OneToOneField(
        "tickets.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_mail",
        verbose_name=_("message"),
    )

    class Meta:
        verbose_name = _("incoming email")
        verbose_name_plural = _("incoming email")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["status", "received_at"], name="inbound_status_received_idx"),
            models.Index(fields=["sender", "received_at"], name="inbound_sender_received_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_via_display()} #{self.pk}"
