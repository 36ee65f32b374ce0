"""Evidence files, staff profiles, canned answers and report digests."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models.base import _validate_time_zone
from tickets.models.config import Category
from tickets.models.tickets import Message, SLATarget, Ticket
from tickets.storage import evidence_storage

# --- Evidence and staff profiles ----------------------------------------------------


class Attachment(models.Model):
    """A file sent as evidence with a message. Checked and cleaned on the way in
    (tickets.uploads), stored outside the static and media URL space under a
    random name, and served only through a view that checks who is asking."""

    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="attachments", db_index=False, verbose_name=_("ticket")
    )
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments", verbose_name=_("message")
    )
    file = models.FileField(_("file"), storage=evidence_storage, max_length=120)
    # The name the sender's device gave the file; shown, never used as a path.
    original_name = models.CharField(_("file name"), max_length=120)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    # Named as the API has always labelled them (its schema reads these names).
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    sha256 = models.CharField(_("sha256"), max_length=64)
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="attachment_ticket_idx")]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class StaffProfile(models.Model):
    """What a staff member shows consumers and reads in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile", verbose_name=_("user")
    )
    alias = models.CharField(
        _("alias shown to consumers"),
        max_length=30,
        blank=True,
        help_text=_("Consumers see “Customer service” and this name on your replies; never your full name."),
    )
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, blank=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[_validate_time_zone],
        help_text=_("Days and hours in the reports are counted here. Empty: Asia/Shanghai."),
    )

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return str(self.user)


class CannedAnswer(models.Model):
    """A prepared reply (or FAQ answer) an agent inserts from the reply box.
    Supervisors keep them, in Chinese and in English; ``{reference}`` and the
    other VARIABLES are filled in from the ticket being answered."""

    VARIABLES = {
        "reference": _("the ticket's reference"),
        "consumer_name": _("the consumer's name"),
        "promised_time": _("when the resolution is promised (due time)"),
        "agent_name": _("your alias"),
        "category": _("the category"),
        "merchant": _("the shop's name"),
        "order_number": _("the order number"),
    }

    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("text"), max_length=5000)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    category = models.ForeignKey(
        Category,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="canned_answers",
        verbose_name=_("category"),
        help_text=_("Offered first on tickets of this category; leave empty for every ticket."),
    )
    is_faq = models.BooleanField(_("FAQ"), default=False, help_text=_("A frequently asked question's answer."))
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("canned answer")
        verbose_name_plural = _("canned answers")
        ordering = ["language", "title"]
        constraints = [models.UniqueConstraint(fields=["language", "title"], name="canned_answer_title_unique")]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        from tickets.canned import unknown_variables

        unknown = unknown_variables(self.body)
        if unknown:
            raise ValidationError(
                {
                    "body": _("Unknown variable(s): %(names)s. Available: %(known)s.")
                    % {
                        "names": ", ".join(f"{{{n}}}" for n in unknown),
                        "known": ", ".join(f"{{{n}}}" for n in self.VARIABLES),
                    }
                }
            )


class ReportDigest(models.Model):
    """One daily digest sent to the managers, per day reported (so that a re-run
    of the beat job, or two workers running it at once, send it once)."""

    day = models.DateField(_("day"), unique=True)
    recipients = models.PositiveSmallIntegerField(_("recipients"), default=0)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("daily digest")
        verbose_name_plural = _("daily digests")
        ordering = ["-day"]

    def __str__(self) -> str:
        return str(self.day)


# --- Alerts in the desk -------------------------------------------------------------


class StaffAlert(models.Model):
    """A breach or an escalation, shown in the desk of someone who must act on it:
    the ticket's assignee and its team's supervisors (written by
    :mod:`tickets.staff_alerts` with the event, pushed live by the desk)."""

    class Kind(models.TextChoices):
        BREACH = "sla_breach", _("Deadline missed")
        LEVEL2 = "sla_level2", _("Escalated to level 2")
        MERCHANT_MISSED = "merchant_missed", _("The merchant did not answer in time")

    # Indexed by staff_alert_user_idx, which leads with it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_alerts",
        db_index=False,
        verbose_name=_("alerted"),
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="staff_alerts", verbose_name=_("ticket"))
    # Indexed by the unique staff_alert_once, which leads with it.
    event = models.ForeignKey(
        "tickets.TicketEvent",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("ticket event"),
    )
    kind = models.CharField(_("alert"), max_length=20, choices=Kind.choices)
    target_kind = models.CharField(_("target"), max_length=20, blank=True, choices=SLATarget.Kind.choices)
    created_at = models.DateTimeField(_("raised"), default=timezone.now)
    seen_at = models.DateTimeField(_("seen"), null=True, blank=True)

    class Meta:
        verbose_name = _("desk alert")
        verbose_name_plural = _("desk alerts")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="staff_alert_once")]
        indexes = [models.Index(fields=["user", "-created_at"], name="staff_alert_user_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.ticket_id}"
