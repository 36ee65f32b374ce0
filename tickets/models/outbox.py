"""The email channel of the outbox."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models.tickets import Ticket, TicketEvent


def message_id_new() -> str:
    """A new email's ``Message-ID``, made once when its outbox row is written and
    sent with every attempt, so that a repeat after a crash is recognisable."""
    from django.core.mail.message import make_msgid
    from django.core.mail.utils import DNS_NAME

    return make_msgid(domain=DNS_NAME)


# The same, made by the database for a row written without one (a bulk COPY that leaves the column out).
MESSAGE_ID_DB_DEFAULT = models.Func(
    models.Value("<"),
    models.Func(function="gen_random_uuid"),
    models.Value("@cs-desk.outbox>"),
    function="CONCAT",
    output_field=models.CharField(),
)


class Notification(models.Model):
    """The email channel of the outbox (tickets.outbox): written in the same
    transaction as the change that causes it, delivered by a Celery task with
    retries, claimed for each attempt by a lease."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed (gave up)")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications")
    # Set by no writer today: indexed (for the delete guard) only where it is set.
    event = models.ForeignKey(
        TicketEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=40)
    recipient = models.EmailField(_("recipient"))
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    language = models.CharField(max_length=10, default="zh-hans")
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"))
    # A notice the SLA sweep wrote as its values (tickets.notifications.notifications_insert(deferred=True)):
    # subject and body are rendered from them, in ``language``, when it is delivered.
    context = models.JSONField(null=True, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # The same on every attempt: a server or reader that got the email once can drop a repeat.
    # Blank only on rows sent before it was kept.
    message_id = models.CharField(
        _("Message-ID"),
        max_length=255,
        blank=True,
        default=message_id_new,
        db_default=MESSAGE_ID_DB_DEFAULT,
        editable=False,
    )
    # Where a reply goes: a signed address (tickets.reply_address) for a party who may
    # answer by mail, blank for staff (and rows written before it was kept).
    reply_to = models.CharField(_("reply to"), max_length=320, blank=True, default="", db_default="", editable=False)
    # While an attempt runs: the worker's lease, after which another worker may try again.
    leased_until = models.DateTimeField(_("leased until"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            # An incoming reply threaded by its In-Reply-To / References (mail.inbound).
            models.Index(fields=["message_id"], name="notification_message_id_idx"),
            # The outbox re-sweep (tickets.outbox.outbox_resweep): due retries, expired leases
            # and rows whose dispatch was lost.
            models.Index(fields=["next_attempt_at"], name="notification_pending_idx", condition=Q(status="pending")),
            models.Index(fields=["event"], name="notification_event_idx", condition=Q(event__isnull=False)),
        ]

    def __str__(self) -> str:
        # Names no address: it shows in page titles and logs (the recipient is masked for some readers).
        return f"{self.kind} #{self.pk}"
