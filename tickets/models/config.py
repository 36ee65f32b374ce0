"""Configuration: business calendars, teams, categories and SLA policies."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tickets.models.base import Channel, Priority, _validate_time_zone
from tickets.sla.calendar import ClockKind

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
        help_text=_("Other years count the statutory holidays and 补假, provisionally, plus the days entered by hand."),
    )
    # A random stamp replaced on every change to the calendar, its periods or its
    # days, so that processes caching the compiled calendar notice the edit.
    version = models.PositiveIntegerField(_("cache version"), default=1, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="one_default_calendar"),
        ]

    def __str__(self) -> str:
        return self.name


class WorkingPeriod(models.Model):
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="periods", verbose_name=_("business calendar")
    )
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

    class Festival(models.TextChoices):
        # The codes of tickets.sla.festivals.Festival (a test holds them equal).
        NEW_YEAR = "new_year", _("New Year's Day")
        SPRING_FESTIVAL = "spring_festival", _("Spring Festival")
        TOMB_SWEEPING = "tomb_sweeping", _("Qingming Festival")
        LABOUR_DAY = "labour_day", _("Labour Day")
        DRAGON_BOAT = "dragon_boat", _("Dragon Boat Festival")
        MID_AUTUMN = "mid_autumn", _("Mid-Autumn Festival")
        NATIONAL_DAY = "national_day", _("National Day")
        ANTI_FASCIST_70TH = "anti_fascist_70th", _("70th anniversary of the victory over fascism")

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="days", verbose_name=_("business calendar")
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # The statutory festival the day belongs to (a make-up working day names the
    # festival it makes up for), as a code read in the reader's language; the
    # name is what an administrator types (a company day off). See ``label``.
    festival = models.CharField(_("festival"), max_length=30, choices=Festival.choices, blank=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.ADMIN)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="one_override_per_calendar_day")]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"

    @property
    def label(self) -> str:
        """What the day is called, in the active language: its festival, else its name."""
        return self.get_festival_display() if self.festival else self.name


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
    # What a complaint of this category needs, in each language (see ``guidance``).
    guidance_zh = models.TextField(
        _("guidance (Chinese)"),
        blank=True,
        help_text=_(
            "What a complaint of this category should include: shown on the complaint form when the category "
            "is chosen, and in the acknowledgement email."
        ),
    )
    guidance_en = models.TextField(_("guidance (English)"), blank=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    @property
    def guidance(self) -> str:
        """What to include, in the active language ("" when there is nothing to say)."""
        return self.guidance_en if (get_language() or "").startswith("en") else self.guidance_zh


class SLAPolicyQuerySet(models.QuerySet):
    def in_order(self) -> SLAPolicyQuerySet:
        """The order policies are tried in: those with conditions by position,
        then the fallbacks (a priority and nothing else)."""
        return self.order_by(models.F("is_fallback").asc(), "position", "id")


class SLAPolicy(models.Model):
    """The targets a ticket is promised. Policies are tried in order and the
    first whose conditions all hold is chosen (``tickets.policies``); an empty
    condition holds for every ticket. A fallback names a priority and nothing
    else: one per priority, tried last. Edits apply to targets opened after the
    edit."""

    class Unit(models.TextChoices):
        MINUTES = "minutes", _("minutes")
        HOURS = "hours", _("hours")
        DAYS = "days", _("days")

    class Clock(models.TextChoices):
        CALENDAR = ClockKind.CALENDAR.value, _("calendar time (around the clock)")
        BUSINESS = ClockKind.BUSINESS.value, _("business time (working hours)")

    TARGETS = ("first_response", "next_response", "resolution", "merchant_reply")

    name = models.CharField(_("name"), max_length=100, blank=True)
    position = models.PositiveIntegerField(
        _("matching order"), default=100, help_text=_("Policies with conditions are tried from the lowest number up.")
    )
    # Conditions: blank holds for every ticket.
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("category")
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("team")
    )
    merchant = models.ForeignKey(
        "accounts.Merchant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("merchant"),
    )
    # Set on save: a priority and no other condition (tried after every other policy).
    is_fallback = models.BooleanField(_("fallback for its priority"), default=False, editable=False)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, verbose_name=_("business calendar"))

    first_response_amount = models.PositiveIntegerField(_("first response"))
    first_response_unit = models.CharField(
        _("first response unit"), max_length=10, choices=Unit.choices, default=Unit.DAYS
    )
    first_response_clock = models.CharField(
        _("first response clock"), max_length=10, choices=Clock.choices, default=ClockKind.BUSINESS
    )
    next_response_amount = models.PositiveIntegerField(_("next response"))
    next_response_unit = models.CharField(
        _("next response unit"), max_length=10, choices=Unit.choices, default=Unit.DAYS
    )
    next_response_clock = models.CharField(
        _("next response clock"), max_length=10, choices=Clock.choices, default=ClockKind.BUSINESS
    )
    resolution_amount = models.PositiveIntegerField(_("resolution"))
    resolution_unit = models.CharField(_("resolution unit"), max_length=10, choices=Unit.choices, default=Unit.DAYS)
    resolution_clock = models.CharField(
        _("resolution clock"), max_length=10, choices=Clock.choices, default=ClockKind.BUSINESS
    )
    merchant_reply_amount = models.PositiveIntegerField(_("merchant reply"), default=24)
    merchant_reply_unit = models.CharField(
        _("merchant reply unit"), max_length=10, choices=Unit.choices, default=Unit.HOURS
    )
    merchant_reply_clock = models.CharField(
        _("merchant reply clock"), max_length=10, choices=Clock.choices, default=ClockKind.CALENDAR
    )

    # xgettext:no-python-format (the % is a literal percent sign)
    warning_percent = models.PositiveSmallIntegerField(_("warning at (% elapsed)"), default=75)
    # xgettext:no-python-format (the % is a literal percent sign)
    breach_percent = models.PositiveSmallIntegerField(_("breach at (% elapsed)"), default=100)
    # xgettext:no-python-format (the % is a literal percent sign)
    level2_percent = models.PositiveSmallIntegerField(_("level 2 at (% elapsed)"), default=150)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = SLAPolicyQuerySet.as_manager()

    CONDITIONS = ("priority", "channel", "category", "team", "merchant")

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["is_fallback", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["priority"], condition=Q(is_fallback=True), name="one_fallback_policy_per_priority"
            ),
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
        return self.name or str(self.get_priority_display() or _("SLA policy"))

    def save(self, *args, **kwargs) -> None:
        self.is_fallback = bool(self.priority) and not self.has_conditions_beyond_priority
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "is_fallback"}
        super().save(*args, **kwargs)

    @property
    def has_conditions_beyond_priority(self) -> bool:
        return bool(self.channel or self.category_id or self.team_id or self.merchant_id)

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


class ConfigStamp(models.Model):
    """One row whose stamp a database trigger renews whenever the configuration
    read on every complaint changes (SLA policies, business calendars, alert
    words, webhook endpoints): what :mod:`tickets.config_cache` checks before using
    what it kept. Written only by the triggers (migrations tickets 0020 and
    integrations 0005)."""

    id = models.PositiveSmallIntegerField(_("ID"), primary_key=True)
    stamp = models.UUIDField(_("stamp"))

    class Meta:
        verbose_name = _("configuration stamp")
        verbose_name_plural = _("configuration stamps")
        default_permissions = ()

    def __str__(self) -> str:
        return str(self.stamp)
