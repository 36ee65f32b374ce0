"""Tickets, their SLA targets, the audit trail and the notification outbox."""

from __future__ import annotations

import secrets
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tickets.sla.calendar import ClockKind
from tickets.storage import evidence_storage

OPEN_STATUSES = ("new", "open", "awaiting_merchant", "pending")


def _validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(_("Unknown time zone: %(zone)s"), params={"zone": value}) from exc


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent")

    @classmethod
    def raised(cls, value: str) -> str:
        """One step more urgent (urgent stays urgent)."""
        order = [cls.LOW, cls.NORMAL, cls.URGENT]
        return order[min(order.index(cls(value)) + 1, len(order) - 1)].value


# --- Calendars ------------------------------------------------------------------


class BusinessCalendar(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[_validate_time_zone]
    )
    is_default = models.BooleanField(_("default calendar"), default=False)
    official_years = ArrayField(
        models.PositiveSmallIntegerField(),
        verbose_name=_("years with the official schedule loaded"),
        default=list,
        blank=True,
        help_text=_("Years outside this list fall back to weekends plus the days entered here by hand."),
    )
    # A random stamp replaced on every change to the calendar, its periods or its
    # days, so that processes caching the compiled calendar notice the edit.
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_calendar"),
        ]

    def __str__(self) -> str:
        return self.name


class WorkingPeriod(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="periods")
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        verbose_name = _("working period")
        verbose_name_plural = _("working periods")
        ordering = ["opens"]
        constraints = [
            models.CheckConstraint(condition=Q(closes__gt=models.F("opens")), name="working_period_closes_after_opens"),
        ]

    def __str__(self) -> str:
        return f"{self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self) -> None:
        if self.opens is not None and self.closes is not None and self.closes <= self.opens:
            raise ValidationError({"closes": _("A working period must close after it opens.")})


class CalendarDay(models.Model):
    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday (day off)")
        WORKDAY = "workday", _("Make-up working day (调休)")

    class Source(models.TextChoices):
        OFFICIAL = "official", _("Official schedule")
        ADMIN = "admin", _("Entered by an administrator")

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.ADMIN)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="one_override_per_calendar_day")]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"


# --- Organisation -----------------------------------------------------------------


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    email = models.EmailField(_("team email"), blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="teams", blank=True, verbose_name=_("members")
    )
    supervisors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="supervised_teams", blank=True, verbose_name=_("supervisors")
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    default_priority = models.CharField(_("default priority"), max_length=10, choices=Priority.choices)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="categories", verbose_name=_("team"))
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh


class SLAPolicy(models.Model):
    """Targets for one priority. Edits apply to targets opened after the edit."""

    class Unit(models.TextChoices):
        MINUTES = "minutes", _("minutes")
        HOURS = "hours", _("hours")
        DAYS = "days", _("days")

    class Clock(models.TextChoices):
        CALENDAR = ClockKind.CALENDAR.value, _("calendar time (around the clock)")
        BUSINESS = ClockKind.BUSINESS.value, _("business time (working hours)")

    TARGETS = ("first_response", "next_response", "resolution", "merchant_reply")

    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, unique=True)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, verbose_name=_("business calendar"))

    first_response_amount = models.PositiveIntegerField(_("first response"))
    first_response_unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.DAYS)
    first_response_clock = models.CharField(max_length=10, choices=Clock.choices, default=ClockKind.BUSINESS)
    next_response_amount = models.PositiveIntegerField(_("next response"))
    next_response_unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.DAYS)
    next_response_clock = models.CharField(max_length=10, choices=Clock.choices, default=ClockKind.BUSINESS)
    resolution_amount = models.PositiveIntegerField(_("resolution"))
    resolution_unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.DAYS)
    resolution_clock = models.CharField(max_length=10, choices=Clock.choices, default=ClockKind.BUSINESS)
    merchant_reply_amount = models.PositiveIntegerField(_("merchant reply"), default=24)
    merchant_reply_unit = models.CharField(max_length=10, choices=Unit.choices, default=Unit.HOURS)
    merchant_reply_clock = models.CharField(max_length=10, choices=Clock.choices, default=ClockKind.CALENDAR)

    # xgettext:no-python-format (the % is a literal percent sign)
    warning_percent = models.PositiveSmallIntegerField(_("warning at (% elapsed)"), default=75)
    # xgettext:no-python-format (the % is a literal percent sign)
    breach_percent = models.PositiveSmallIntegerField(_("breach at (% elapsed)"), default=100)
    # xgettext:no-python-format (the % is a literal percent sign)
    level2_percent = models.PositiveSmallIntegerField(_("level 2 at (% elapsed)"), default=150)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(warning_percent__gt=0)
                & Q(warning_percent__lt=models.F("breach_percent"))
                & Q(breach_percent__lt=models.F("level2_percent")),
                name="sla_policy_ladder_in_order",
            ),
            models.CheckConstraint(
                condition=Q(first_response_amount__gt=0)
                & Q(next_response_amount__gt=0)
                & Q(resolution_amount__gt=0)
                & Q(merchant_reply_amount__gt=0),
                name="sla_policy_targets_positive",
            ),
        ]

    def __str__(self) -> str:
        return str(self.get_priority_display())

    def clean(self) -> None:
        if not (0 < self.warning_percent < self.breach_percent < self.level2_percent):
            raise ValidationError(_("The ladder must rise: 0 < warning < breach < level 2."))
        for target in self.TARGETS:
            if getattr(self, f"{target}_amount") == 0:
                raise ValidationError({f"{target}_amount": _("A target must be longer than zero.")})

    def target(self, name: str, daily_working_time: timedelta) -> tuple[ClockKind, timedelta]:
        """The clock kind and duration of target ``name``.

        "N days" on the business clock means N working days, i.e. N × the
        calendar's daily working hours; on the calendar clock it means N × 24 h.
        """
        amount = getattr(self, f"{name}_amount")
        unit = getattr(self, f"{name}_unit")
        clock = ClockKind(getattr(self, f"{name}_clock"))
        if unit == self.Unit.MINUTES:
            return clock, timedelta(minutes=amount)
        if unit == self.Unit.HOURS:
            return clock, timedelta(hours=amount)
        if clock == ClockKind.BUSINESS:
            return clock, amount * daily_working_time
        return clock, timedelta(days=amount)


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

    class Channel(models.TextChoices):
        WEB = "web", _("Web form")
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Phone")
        CHAT = "chat", _("Chat")
        APP = "app", _("App")

    Priority = Priority

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    # Unique through Meta.constraints: a field's unique=True would add a second,
    # LIKE-pattern index that no lookup of an exact token uses.
    tracking_token = models.CharField(max_length=64, default=_tracking_token, editable=False)
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
        "merchants.Merchant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("merchant"),
        db_index=False,  # ticket_merchant_status_idx leads with it
    )
    order_number = models.CharField(_("order number"), max_length=40, blank=True)
    # A new complaint filed from the tracking page of a closed one.
    follows = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("follow-up of"),
    )
    # A duplicate merged into another ticket: closed, its conversation shown there.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_tickets",
        verbose_name=_("merged into"),
    )
    # Set when an administrator-defined alert word appears in the complaint.
    is_flagged = models.BooleanField(_("flagged by a keyword alert"), default=False)

    # Denormalised from the running targets, maintained by the services and the sweep.
    due_at = models.DateTimeField(_("next due"), null=True, blank=True)
    is_overdue = models.BooleanField(_("overdue"), default=False)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
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

    day = models.DateField(primary_key=True)
    value = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.value}"


class Message(models.Model):
    class AuthorKind(models.TextChoices):
        CONSUMER = "consumer", _("Consumer")
        AGENT = "agent", _("Agent")
        MERCHANT = "merchant", _("Merchant")
        SYSTEM = "system", _("System")

    # Indexed by message_ticket_created_idx, which leads with it.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages", db_index=False)
    author_kind = models.CharField(_("author"), max_length=10, choices=AuthorKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField(_("message"))
    is_public = models.BooleanField(_("public"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
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
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="targets", db_index=False)
    kind = models.CharField(_("target"), max_length=20, choices=Kind.choices)
    cycle = models.PositiveIntegerField(_("cycle"), default=1)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    clock = models.CharField(_("clock"), max_length=10, choices=SLAPolicy.Clock.choices)
    duration = models.DurationField(_("duration"))
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="+")
    warning_percent = models.PositiveSmallIntegerField(default=75)
    breach_percent = models.PositiveSmallIntegerField(default=100)
    level2_percent = models.PositiveSmallIntegerField(default=150)
    started_at = models.DateTimeField(_("clock started"))
    # Closed pauses as [[paused_at, resumed_at], ...] in ISO-8601; see sla.clock.
    pauses = models.JSONField(default=list, blank=True)
    paused_at = models.DateTimeField(_("paused since"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    # The instant of the next escalation step not yet taken; NULL once the ladder
    # is done, while paused, and after the target is closed.
    next_step_at = models.DateTimeField(null=True, blank=True)
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
        return f"{self.ticket_id} {self.kind}#{self.cycle}"

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

    # Indexed by event_ticket_created_idx, which leads with it.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events", db_index=False)
    kind = models.CharField(_("event"), max_length=30, choices=Kind.choices)
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target = models.ForeignKey(SLATarget, on_delete=models.SET_NULL, null=True, blank=True, related_name="events")
    target_kind = models.CharField(max_length=20, blank=True, choices=SLATarget.Kind.choices)
    cycle = models.PositiveIntegerField(null=True, blank=True)
    # Escalation step (1 warning, 2 breach, 3 level 2) for ladder events, else NULL.
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

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
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} @ {self.created_at:%Y-%m-%d %H:%M}"


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
    event = models.ForeignKey(TicketEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=40)
    recipient = models.EmailField(_("recipient"))
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    language = models.CharField(max_length=10, default="zh-hans")
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"))
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
    # While an attempt runs: the worker's lease, after which another worker may try again.
    leased_until = models.DateTimeField(_("leased until"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The outbox re-sweep (tickets.outbox.outbox_resweep): due retries, expired leases
            # and rows whose dispatch was lost.
            models.Index(fields=["next_attempt_at"], name="notification_pending_idx", condition=Q(status="pending")),
        ]

    def __str__(self) -> str:
        # Names no address: it shows in page titles and logs (the recipient is masked for some readers).
        return f"{self.kind} #{self.pk}"


# --- Evidence and staff profiles ----------------------------------------------------


class Attachment(models.Model):
    """A file sent as evidence with a message. Checked and cleaned on the way in
    (tickets.uploads), stored outside the static and media URL space under a
    random name, and served only through a view that checks who is asking."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments", db_index=False)
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments", verbose_name=_("message")
    )
    file = models.FileField(storage=evidence_storage, max_length=120)
    # The name the sender's device gave the file; shown, never used as a path.
    original_name = models.CharField(_("file name"), max_length=120)
    content_type = models.CharField(_("type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64)
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

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile")
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
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
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
