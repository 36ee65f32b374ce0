"""The report period and the grouping (who reads, which days, by what)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext_lazy as _

from tickets.models import Category, Priority, SLATarget, Team, Ticket, TicketEvent

Kind = SLATarget.Kind

Kind = SLATarget.Kind
EventKind = TicketEvent.Kind

MAX_PERIOD_DAYS = 366
DEFAULT_DAYS = 30
# Report dates outside these are typing mistakes (and 0001-01-01 minus 29 days is no date at all).
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def out_of_range_text() -> str:
    return _("Give a date from %(first)s to %(last)s.") % {"first": EARLIEST.isoformat(), "last": LATEST.isoformat()}


def period_problems(start: date | None, end: date | None) -> dict[str, str]:
    """What is wrong with the dates a reader asked for (field → message), for
    the report pages' form and the API alike."""
    problems = {
        name: str(out_of_range_text())
        for name, value in (("start", start), ("end", end))
        if value and not EARLIEST <= value <= LATEST
    }
    if not problems and start and end:
        if start > end:
            problems["end"] = str(_("The end date is before the start date."))
        elif (end - start).days + 1 > MAX_PERIOD_DAYS:
            problems["end"] = str(_("Choose a period of at most %(days)s days.") % {"days": MAX_PERIOD_DAYS})
    return problems


def period_asked(start: date | None, end: date | None, *, now: datetime, zone: ZoneInfo) -> Period:
    """The period for the dates asked: a missing end is today, a missing start
    DEFAULT_DAYS - 1 days before the end. (It can still run backwards when only
    a start after today was given; callers refuse that.)"""
    end = end or now.astimezone(zone).date()
    return Period(start or end - timedelta(days=DEFAULT_DAYS - 1), end, zone)


# --- The period and the grouping ---------------------------------------------------


def reader_zone(user) -> ZoneInfo:
    """The reader's time zone: their staff profile's, else the site's."""
    try:
        name = user.staff_profile.time_zone
    except (AttributeError, ObjectDoesNotExist):
        name = ""
    return ZoneInfo(name or settings.TIME_ZONE)


@dataclass(frozen=True)
class Period:
    """Whole days ``first`` … ``last`` (inclusive) in ``zone``."""

    first: date
    last: date
    zone: ZoneInfo

    @classmethod
    def last_days(cls, days: int, *, now: datetime, zone: ZoneInfo) -> Period:
        today = now.astimezone(zone).date()
        return cls(today - timedelta(days=days - 1), today, zone)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, self.zone)

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.last + timedelta(days=1), time.min, self.zone)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def _user_label(user) -> str:
    return user.get_full_name() or user.username


@dataclass(frozen=True)
class Grouping:
    code: str
    label: str
    field: str  # on Ticket

    def names(self, keys: Iterable) -> dict:
        """Display names of the group keys (one query, none for choices)."""
        keys = [k for k in set(keys) if k is not None]
        if self.code == "priority":
            return {k: str(Priority(k).label) for k in keys}
        if self.code == "channel":
            return {k: str(Ticket.Channel(k).label) for k in keys if k in Ticket.Channel.values}
        if self.code == "category":
            return {c.pk: c.name for c in Category.objects.filter(pk__in=keys)}
        if self.code == "team":
            return dict(Team.objects.filter(pk__in=keys).values_list("pk", "name"))
        if self.code == "agent":
            return {u.pk: _user_label(u) for u in get_user_model().objects.filter(pk__in=keys)}
        if self.code == "merchant":
            from accounts.models import Merchant

            return {m.pk: f"{m.name} ({m.shop_id})" for m in Merchant.objects.filter(pk__in=keys)}
        return {}

    def none_label(self) -> str:
        return str({"agent": _("Unassigned"), "merchant": _("No merchant")}.get(self.code, "—"))


GROUPINGS = {
    g.code: g
    for g in (
        Grouping("priority", _("Priority"), "priority"),
        Grouping("category", _("Category"), "category_id"),
        Grouping("team", _("Team"), "team_id"),
        Grouping("agent", _("Agent"), "assignee_id"),
        Grouping("merchant", _("Merchant"), "merchant_id"),
        Grouping("channel", _("Channel"), "channel"),
    )
}
