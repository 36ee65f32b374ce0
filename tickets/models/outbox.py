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

    class Kind(models.TextChoices):
        """What a notification tells: each kind's subject and body are in
        tickets.notifications.TEMPLATES (a test holds the two lists equal), the
        managers' daily digest's in reports.digest."""

        TICKET_RECEIVED = "ticket_received", _("Complaint received")
        AGENT_REPLIED = "agent_replied", _("Customer service replied")
        MERCHANT_ANSWERED = "merchant_answered", _("The shop answered the consumer")
        MAIL_REFUSED = "mail_refused", _("Email not taken")
        MAIL_FILES_REFUSED = "mail_files_refused", _("Files of an email not added")
        CONSUMER_REPLIED = "consumer_replied", _("Consumer wrote")
        SLA_WARNING = "sla_warning", _("SLA warning")
        SLA_BREACH = "sla_breach", _("SLA breached (level 1)")
        SLA_LEVEL2 = "sla_level2", _("SLA escalated to level 2")
        MERCHANT_FORWARDED = "merchant_forwarded", _("Forwarded to merchant")
        MERCHANT_WARNING = "merchant_warning", _("Reminder to the merchant to reply")
        MERCHANT_MISSED = "merchant_missed", _("Merchant missed the reply deadline")
        SURVEY_INVITATION = "survey_invitation", _("Satisfaction survey invitation")
        KEYWORD_ALERT = "keyword_alert", _("Keyword alert")
        KEYWORD_ALERT_MESSAGE = "keyword_alert_message", _("Keyword alert in a consumer's message")
        FEEDBACK_ALERT = "feedback_alert", _("Keyword alert in feedback")
        MERCHANT_PENALIZED = "merchant_penalized", _("Penalty imposed on the merchant")
        MERCHANT_PENALTY_LIFTED = "merchant_penalty_lifted", _("Penalty lifted")
        MERCHANT_PENALTY_REVOKED = "merchant_penalty_revoked", _("Penalty revoked")
        MERCHANT_REMOVED = "merchant_removed", _("Merchant removed")
        MERCHANT_REPLIED = "merchant_replied", _("Merchant replied")
        MERCHANT_APPEAL_RECEIVED = "merchant_appeal_received", _("Appeal received")
        MERCHANT_APPEAL_FILED = "merchant_appeal_filed", _("Appeal to decide")
        MERCHANT_APPEAL_UPHELD = "merchant_appeal_upheld", _("Penalty upheld")
        DAILY_DIGEST = "daily_digest", _("Daily digest")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed (gave up)")

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications", verbose_name=_("ticket")
    )
    # Set by no writer today: indexed (for the delete guard) only where it is set.
    event = models.ForeignKey(
        TicketEvent,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("ticket event"),
    )
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    recipient = models.EmailField(_("recipient"))
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recipient's account"),
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"))
    # A notice the SLA sweep wrote as its values (tickets.notifications.notifications_insert(deferred=True)):
    # subject and body are rendered from them, in ``language``, when it is delivered.
    context = models.JSONField(_("values to render"), null=True, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
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
        return f"{self.get_kind_display()} #{self.pk}"
