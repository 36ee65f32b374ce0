"""Tickets, their messages, SLA targets and audit trail."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Func, Q, TextField, Value
from django.db.models.functions import Lower, Reverse, Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models.base import OPEN_STATUSES, Channel, Priority
from tickets.models.config import BusinessCalendar, Category, SLAPolicy, Team

# --- Tickets ----------------------------------------------------------------------


class TicketQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def overdue(self):
        return self.open().filter(is_overdue=True)

    def due_before(self, when):
        return self.open().filter(due_at__lte=when)


def _tracking_token() -> str:
    return secrets.token_urlsafe(32)


class Ticket(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        AWAITING_MERCHANT = "awaiting_merchant", _("Awaiting merchant")
        PENDING = "pending", _("Pending (waiting on the consumer)")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    Channel = Channel
    Priority = Priority

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    # Unique through Meta.constraints: a field's unique=True would add a second,
    # LIKE-pattern index that no lookup of an exact token uses.
    tracking_token = models.CharField(_("tracking token"), max_length=64, default=_tracking_token, editable=False)
    subject = models.CharField(_("subject"), max_length=200)
    requester_name = models.CharField(_("requester name"), max_length=100)
    requester_email = models.EmailField(_("requester email"), blank=True)
    requester_phone = models.CharField(_("requester phone"), max_length=20, blank=True)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.WEB)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("category"))
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.NEW)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("team"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
        db_index=False,  # ticket_assignee_status_idx leads with it
    )
    merchant = models.ForeignKey(
        "accounts.Merchant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("merchant"),
        db_index=False,  # ticket_merchant_status_idx leads with it
    )
    order_number = models.CharField(_("order number"), max_length=40, blank=True)
    # A new complaint filed from the tracking page of a closed one.
    # The Message-ID of the email that opened the ticket: our mails to the consumer
    # answer it (In-Reply-To, References), so their mail client keeps one thread.
    # (db_default: bulk COPY loads that leave the column out get "" too.)
    mail_thread = models.CharField(
        _("email thread"), max_length=998, blank=True, default="", db_default="", editable=False
    )
    # Mostly NULL: indexed by ticket_follows_idx, on the rows that have one.
    follows = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("follow-up of"),
        db_index=False,
    )
    # A duplicate merged into another ticket: closed, its conversation shown there.
    # Mostly NULL: indexed by ticket_merged_into_idx, on the rows that have one.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_tickets",
        verbose_name=_("merged into"),
        db_index=False,
    )
    # Set when an administrator-defined alert word appears in the complaint.
    is_flagged = models.BooleanField(_("flagged by a keyword alert"), default=False)

    # Denormalised from the running targets, maintained by the services and the sweep.
    due_at = models.DateTimeField(_("next due"), null=True, blank=True)
    is_overdue = models.BooleanField(_("overdue"), default=False)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    # When the sweep last escalated it (a breach, level 2, a merchant's miss): the desk's
    # "newly escalated" view sorts by it, so a fresh escalation is never below older ones.
    escalated_at = models.DateTimeField(_("last escalated"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first responded"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            # The agent queue: open tickets, overdue first, then soonest due.
            models.Index(
                fields=["team", "-is_overdue", "due_at", "created_at"],
                name="ticket_queue_idx",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            # The same order across teams (managers, agents of several teams, filters):
            # the first page is the first rows of this index that pass the filters.
            models.Index(
                fields=["-is_overdue", "due_at", "created_at", "id"],
                name="ticket_open_order_idx",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            models.Index(fields=["merchant", "status"], name="ticket_merchant_status_idx"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status_idx"),
            # Follow-ups and merges (the workspace's links, the delete guards of
            # SET_NULL and PROTECT): the few rows that have one, so that the many
            # that have none cost no index entry when they are written (the SLA sweep
            # rewrites thousands of tickets a batch).
            models.Index(fields=["follows"], name="ticket_follows_idx", condition=Q(follows__isnull=False)),
            models.Index(fields=["merged_into"], name="ticket_merged_into_idx", condition=Q(merged_into__isnull=False)),
            # The queue's search box (tickets.search.ticket_search): each kind of query
            # through an index of its own, never a walk of the open tickets. An order
            # number or its beginning:
            models.Index(fields=["order_number"], name="ticket_order_number_idx", opclasses=["varchar_pattern_ops"]),
            # the last digits of a phone number (the number read backwards, by prefix):
            models.Index(
                OpClass(Reverse("requester_phone"), name="text_pattern_ops"), name="ticket_phone_reversed_idx"
            ),
            # an email address in any case:
            models.Index(Upper("requester_email"), name="ticket_email_upper_idx"),
            # words of the subject, Chinese included: its characters (tickets.search.SUBJECT_CHARS).
            GinIndex(
                Func(Lower("subject"), Value(None), function="string_to_array", output_field=ArrayField(TextField())),
                name="ticket_subject_chars_idx",
            ),
        ]
        constraints = [models.UniqueConstraint(fields=["tracking_token"], name="ticket_tracking_token_unique")]
        permissions = [("view_reports", _("Can read the SLA, backlog, satisfaction and volume reports"))]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TicketCounter(models.Model):
    """Per-day sequence behind the human reference ``CS-YYYYMMDD-NNNNNN``."""

    day = models.DateField(_("day"), primary_key=True)
    value = models.PositiveIntegerField(_("last number issued"), default=0)

    class Meta:
        verbose_name = _("reference counter")
        verbose_name_plural = _("reference counters")

    def __str__(self) -> str:
        return f"{self.day}: {self.value}"


class Message(models.Model):
    class AuthorKind(models.TextChoices):
        CONSUMER = "consumer", _("Consumer")
        AGENT = "agent", _("Agent")
        MERCHANT = "merchant", _("Merchant")
        SYSTEM = "system", _("System")

    # Indexed by message_ticket_created_idx, which leads with it.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages", db_index=False, verbose_name=_("ticket")
    )
    author_kind = models.CharField(_("author"), max_length=10, choices=AuthorKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    body = models.TextField(_("message"))
    is_public = models.BooleanField(_("public"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # The key a chat client gave the message: sent again after a dropped connection,
    # it is stored once (tickets.services.chat.chat_consumer_send).
    client_key = models.CharField(_("chat client's key"), max_length=40, blank=True, default="", editable=False)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "client_key"], condition=~Q(client_key=""), name="one_message_per_client_key"
            ),
        ]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="message_ticket_created_idx"),
            # Merchants' replies by time, for the daily risk signals (odd hours, bursts).
            models.Index(
                fields=["created_at"], name="message_merchant_created_idx", condition=Q(author_kind="merchant")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_author_kind_display()}: {self.body[:40]}"


class SLATargetQuerySet(models.QuerySet):
    def running(self):
        return self.filter(status=SLATarget.Status.RUNNING)

    def active(self):
        """Targets still owed (running or paused)."""
        return self.filter(status__in=(SLATarget.Status.RUNNING, SLATarget.Status.PAUSED))

    def steps_due(self, now):
        return self.filter(next_step_at__lt=now)


class SLATarget(models.Model):
    """One promise on one ticket: a first response, a next response (one per
    cycle), the resolution, or a merchant's reply."""

    class Kind(models.TextChoices):
        FIRST_RESPONSE = "first_response", _("First response")
        NEXT_RESPONSE = "next_response", _("Next response")
        RESOLUTION = "resolution", _("Resolution")
        MERCHANT_REPLY = "merchant_reply", _("Merchant reply")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        MET = "met", _("Met")
        MISSED = "missed", _("Missed")
        CANCELLED = "cancelled", _("No longer owed")

    # Indexed by sla_target_ticket_status_idx, which leads with it.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="targets", db_index=False, verbose_name=_("ticket")
    )
    kind = models.CharField(_("target"), max_length=20, choices=Kind.choices)
    cycle = models.PositiveIntegerField(_("cycle"), default=1)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    clock = models.CharField(_("clock"), max_length=10, choices=SLAPolicy.Clock.choices)
    duration = models.DurationField(_("duration"))
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, related_name="+", verbose_name=_("business calendar")
    )
    # xgettext:no-python-format (the % is a literal percent sign)
    warning_percent = models.PositiveSmallIntegerField(_("warning at (% elapsed)"), default=75)
    # xgettext:no-python-format (the % is a literal percent sign)
    breach_percent = models.PositiveSmallIntegerField(_("breach at (% elapsed)"), default=100)
    # xgettext:no-python-format (the % is a literal percent sign)
    level2_percent = models.PositiveSmallIntegerField(_("level 2 at (% elapsed)"), default=150)
    started_at = models.DateTimeField(_("clock started"))
    # Closed pauses as [[paused_at, resumed_at], ...] in ISO-8601; see sla.clock.
    pauses = models.JSONField(_("pauses"), default=list, blank=True)
    paused_at = models.DateTimeField(_("paused since"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    # The promise: the instants of the warning and of level 2, with due_at the
    # breach, computed when the clock starts or resumes and only then, or when a
    # person re-dates the target (a priority change, a calendar re-date). The
    # sweep reads them and never recomputes, so an edit to the calendar cannot
    # move a promise already made. NULL while paused.
    warning_at = models.DateTimeField(_("warning due"), null=True, blank=True)
    level2_at = models.DateTimeField(_("level 2 due"), null=True, blank=True)
    # The last time a person re-dated the target, and why ("priority_changed",
    # "calendar_redated"): a step that was already due then names it as its cause.
    redated_at = models.DateTimeField(_("re-dated"), null=True, blank=True)
    redate_reason = models.CharField(_("re-dated because"), max_length=30, blank=True)
    # The policy that gave the target its clock, duration and ladder.
    policy = models.ForeignKey(
        SLAPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("SLA policy")
    )
    # The instant of the next escalation step not yet taken; NULL once the ladder
    # is done, while paused, and after the target is closed.
    next_step_at = models.DateTimeField(_("next escalation step"), null=True, blank=True)
    steps_taken = models.PositiveSmallIntegerField(_("escalation steps taken"), default=0)
    met_at = models.DateTimeField(_("met"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Clock time the target took to be met (pauses excluded), measured by the SLA
    # clock when it was met, in both clock kinds whatever its own: the reports'
    # "time to respond / resolve" percentiles read these, never a second definition.
    business_seconds = models.PositiveIntegerField(_("business time to meet (s)"), null=True, blank=True)
    calendar_seconds = models.PositiveIntegerField(_("calendar time to meet (s)"), null=True, blank=True)

    objects = SLATargetQuerySet.as_manager()

    class Meta:
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        ordering = ["ticket_id", "started_at", "id"]
        constraints = [models.UniqueConstraint(fields=["ticket", "kind", "cycle"], name="one_target_per_kind_cycle")]
        indexes = [
            # The SLA sweep (tickets.escalation.sla_sweep): due steps by range scan,
            # touching only rows that still have a step ahead of them.
            models.Index(
                fields=["next_step_at"], name="sla_target_next_step_idx", condition=Q(next_step_at__isnull=False)
            ),
            models.Index(fields=["ticket", "status"], name="sla_target_ticket_status_idx"),
            # The SLA report: targets opened in a date range.
            models.Index(fields=["started_at"], name="sla_target_started_idx"),
        ]

    # A target is breached once the sweep took its breach step (step 2), or when it
    # was met after its due time before the sweep noticed. The reports count with
    # BREACHED and its complement NOT_BREACHED (spelled out: a target met while
    # paused has no due time); is_breached is the same rule for one row in memory.
    BREACHED = Q(steps_taken__gte=2) | Q(met_at__gt=models.F("due_at"))
    NOT_BREACHED = Q(steps_taken__lt=2) & (
        Q(met_at__isnull=True) | Q(due_at__isnull=True) | Q(met_at__lte=models.F("due_at"))
    )

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.get_kind_display()} #{self.cycle}"

    @property
    def is_breached(self) -> bool:
        return self.steps_taken >= 2 or (
            self.met_at is not None and self.due_at is not None and self.met_at > self.due_at
        )


class TicketEvent(models.Model):
    """The audit trail. Every change to a ticket writes one; reports read them."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        CONSUMER_MESSAGE = "consumer_message", _("Consumer wrote")
        PUBLIC_REPLY = "public_reply", _("Public reply")
        INTERNAL_NOTE = "internal_note", _("Internal note")
        FORWARDED_TO_MERCHANT = "forwarded_to_merchant", _("Forwarded to merchant")
        MERCHANT_REPLIED = "merchant_replied", _("Merchant replied")
        STATUS_CHANGED = "status_changed", _("Status changed")
        PRIORITY_CHANGED = "priority_changed", _("Priority changed")
        ASSIGNED = "assigned", _("Assigned")
        REOPENED = "reopened", _("Reopened")
        TARGET_OPENED = "target_opened", _("SLA target opened")
        TARGET_MET = "target_met", _("SLA target met")
        TARGET_PAUSED = "target_paused", _("SLA clock paused")
        TARGET_RESUMED = "target_resumed", _("SLA clock resumed")
        TARGET_CANCELLED = "target_cancelled", _("SLA target no longer owed")
        TARGET_RECOMPUTED = "target_recomputed", _("SLA target recomputed")
        SLA_WARNING = "sla_warning", _("SLA warning")
        SLA_BREACH = "sla_breach", _("SLA breached (level 1)")
        SLA_LEVEL2 = "sla_level2", _("SLA escalated to level 2")
        MERCHANT_MISSED = "merchant_missed", _("Merchant missed the reply deadline")
        KEYWORD_ALERT = "keyword_alert", _("Keyword alert")
        SURVEY_ANSWERED = "survey_answered", _("Satisfaction survey answered")
        MERGED = "merged", _("Merged into another ticket")
        MERGED_IN = "merged_in", _("A duplicate was merged in")
        CHAT_OFFERED = "chat_offered", _("Chat offered to an agent")
        CHAT_PASSED = "chat_passed", _("Chat offer not taken")
        CHAT_ACCEPTED = "chat_accepted", _("Chat accepted")
        CHAT_QUEUED = "chat_queued", _("Chat waiting in the team's queue")
        CHAT_ENDED = "chat_ended", _("Chat ended")

    # Indexed by event_ticket_created_idx, which leads with it.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="events", db_index=False, verbose_name=_("ticket")
    )
    kind = models.CharField(_("event"), max_length=30, choices=Kind.choices)
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    # Both NULL on many events (the sweep's have no actor; a hand-over or a priority
    # change no target): indexed by partial indexes on the rows that have one.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("done by"),
    )
    target = models.ForeignKey(
        SLATarget,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        db_index=False,
        verbose_name=_("SLA target"),
    )
    target_kind = models.CharField(_("target"), max_length=20, blank=True, choices=SLATarget.Kind.choices)
    cycle = models.PositiveIntegerField(_("cycle"), null=True, blank=True)
    # Escalation step (1 warning, 2 breach, 3 level 2) for ladder events, else NULL.
    step = models.PositiveSmallIntegerField(_("escalation step"), null=True, blank=True)
    data = models.JSONField(_("recorded values"), default=dict, blank=True)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["created_at", "id"]
        constraints = [
            # Each escalation step happens exactly once per ticket, target and cycle,
            # however many sweeps run at once.
            models.UniqueConstraint(
                fields=["ticket", "target_kind", "cycle", "step"],
                condition=Q(step__isnull=False),
                name="one_escalation_step_per_target_cycle",
            ),
        ]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="event_ticket_created_idx"),
            models.Index(fields=["kind", "created_at"], name="event_kind_created_idx"),
            models.Index(fields=["actor"], name="event_actor_idx", condition=Q(actor__isnull=False)),
            models.Index(fields=["target"], name="event_target_idx", condition=Q(target__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.get_kind_display()} @ {self.created_at:%Y-%m-%d %H:%M}"
