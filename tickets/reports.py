"""The managers' reports: SLA compliance, backlog and volume peaks.

Every figure is computed in PostgreSQL (counts, ``percentile_cont``) from the
rows the SLA engine itself writes: each ``SLATarget`` (its status, due time,
the escalation steps the sweep took, and the clock time it took to be met,
recorded by ``tickets.targets.target_close``) and the escalation events. There
is no second definition of "met" or "breached" here: ``SLATarget.BREACHED`` is
the rule, and the times are the SLA clock's own.

Definitions (shown on the pages):

* a target belongs to the period in which its clock started (the reader's time
  zone decides the days);
* **breached**: the sweep took its breach step, or it was met after its due
  time; **met**: met and not breached; **open**: still owed and not breached;
  a target no longer owed (say, a next response on a ticket resolved meanwhile)
  that never breached counts in none of them;
* **compliance** = met / (met + breached);
* times to respond / resolve are over met targets (late ones included), in
  business and in calendar hours of the target's calendar, pauses (waiting on
  the consumer) excluded.

Callers pass ``scope``: the condition on tickets the reader may see
(``tickets.access.ticket_scope``), None for all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, Q
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncDate
from django.utils.translation import gettext_lazy as _

from cs_desk.db import PercentilesCont
from tickets.models import OPEN_STATUSES, Category, Priority, SLATarget, Team, Ticket, TicketEvent

Kind = SLATarget.Kind
EventKind = TicketEvent.Kind
ACTIVE = (SLATarget.Status.RUNNING, SLATarget.Status.PAUSED)
MET = Q(status=SLATarget.Status.MET) & SLATarget.NOT_BREACHED
OPEN = Q(status__in=ACTIVE) & SLATarget.NOT_BREACHED
PERCENTILES = (0.5, 0.9)
KIND_ORDER = [Kind.FIRST_RESPONSE, Kind.NEXT_RESPONSE, Kind.RESOLUTION, Kind.MERCHANT_REPLY]

# Age buckets of the backlog: (upper bound, label); the last has no bound.
AGE_BUCKETS = [
    (timedelta(hours=4), _("under 4 h")),
    (timedelta(hours=24), _("4–24 h")),
    (timedelta(days=3), _("1–3 days")),
    (timedelta(days=7), _("3–7 days")),
    (timedelta(days=14), _("7–14 days")),
    (None, _("over 14 days")),
]
FORECAST_WEEKS = 8
MAX_PERIOD_DAYS = 366


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
            from merchants.models import Merchant

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


def _scoped(queryset, scope: Q | None):
    return queryset if scope is None else queryset.filter(scope)


# --- SLA compliance ----------------------------------------------------------------


@dataclass
class TargetFigures:
    kind: str
    met: int = 0
    breached: int = 0
    open: int = 0
    business: list[float | None] = field(default_factory=lambda: [None, None])  # p50, p90 in seconds
    calendar: list[float | None] = field(default_factory=lambda: [None, None])

    @property
    def kind_label(self) -> str:
        return str(Kind(self.kind).label)

    @property
    def decided(self) -> int:
        return self.met + self.breached

    @property
    def compliance(self) -> float | None:
        """Met / (met + breached) in percent, None when nothing was decided."""
        return round(100.0 * self.met / self.decided, 1) if self.decided else None


def _target_aggregates() -> dict:
    met_any = Q(status=SLATarget.Status.MET)
    return {
        "met": Count("pk", filter=MET),
        "breached": Count("pk", filter=SLATarget.BREACHED),
        "open": Count("pk", filter=OPEN),
        "business": PercentilesCont("business_seconds", PERCENTILES, filter=met_any),
        "calendar": PercentilesCont("calendar_seconds", PERCENTILES, filter=met_any),
    }


def _figures(row: dict) -> TargetFigures:
    return TargetFigures(
        kind=row["kind"],
        met=row["met"],
        breached=row["breached"],
        open=row["open"],
        business=row["business"] or [None, None],
        calendar=row["calendar"] or [None, None],
    )


def _targets(period: Period, scope: Q | None):
    return _scoped(SLATarget.objects.filter(started_at__gte=period.start, started_at__lt=period.end), scope)


def sla_summary(*, period: Period, scope: Q | None) -> list[TargetFigures]:
    """One row per target kind, over every ticket in scope (all four kinds, zeros
    included, in the order of the SLA)."""
    rows = {r["kind"]: _figures(r) for r in _targets(period, scope).values("kind").annotate(**_target_aggregates())}
    return [rows.get(kind, TargetFigures(kind=kind)) for kind in KIND_ORDER]


def sla_decided(*, period: Period, scope: Q | None) -> list[TargetFigures]:
    """Targets decided in the period, per kind (the daily digest's view of a
    day): met (on time) during it, or breached at a due time inside it — the
    promises that were kept or broken that day, whenever they were made."""
    targets = _scoped(SLATarget.objects.all(), scope)
    met = Q(met_at__gte=period.start, met_at__lt=period.end) & MET
    broken = Q(due_at__gte=period.start, due_at__lt=period.end) & SLATarget.BREACHED
    rows = {
        r["kind"]: TargetFigures(kind=r["kind"], met=r["met"], breached=r["breached"])
        for r in targets.filter(met | broken)
        .values("kind")
        .annotate(met=Count("pk", filter=MET), breached=Count("pk", filter=SLATarget.BREACHED))
    }
    return [rows.get(kind, TargetFigures(kind=kind)) for kind in KIND_ORDER]


@dataclass
class GroupFigures:
    key: object
    name: str
    targets: list[TargetFigures]
    warnings: int = 0
    level1: int = 0
    level2: int = 0

    @property
    def escalations(self) -> int:
        return self.level1 + self.level2


def sla_by_group(*, period: Period, scope: Q | None, grouping: Grouping) -> list[GroupFigures]:
    """Target figures per group and kind, and escalations per level per group
    (the escalation events recorded in the period). Groups sorted by name."""
    key = f"ticket__{grouping.field}"
    per_group: dict[object, dict[str, TargetFigures]] = {}
    for row in _targets(period, scope).values(key, "kind").annotate(**_target_aggregates()):
        per_group.setdefault(row[key], {})[row["kind"]] = _figures(row)
    escalations = {row[key]: row for row in escalation_counts(period=period, scope=scope, by=key)}
    names = grouping.names([*per_group, *escalations])
    groups = []
    for group_key in set(per_group) | set(escalations):
        kinds = per_group.get(group_key, {})
        counted = escalations.get(group_key, {})
        groups.append(
            GroupFigures(
                key=group_key,
                name=names.get(group_key, grouping.none_label()) if group_key is not None else grouping.none_label(),
                targets=[kinds[k] for k in KIND_ORDER if k in kinds],
                warnings=counted.get("warnings", 0),
                level1=counted.get("level1", 0),
                level2=counted.get("level2", 0),
            )
        )
    return sorted(groups, key=lambda g: (g.key is None, g.name))


def escalation_counts(*, period: Period, scope: Q | None, by: str | None = None) -> list[dict]:
    """Escalation steps the sweep took in the period: warnings (75 %), level 1
    (the breach, or a merchant's missed deadline) and level 2 (150 %)."""
    events = _scoped(
        TicketEvent.objects.filter(
            kind__in=(EventKind.SLA_WARNING, EventKind.SLA_BREACH, EventKind.MERCHANT_MISSED, EventKind.SLA_LEVEL2),
            created_at__gte=period.start,
            created_at__lt=period.end,
        ),
        scope,
    )
    counts = {
        "warnings": Count("pk", filter=Q(kind=EventKind.SLA_WARNING)),
        "level1": Count("pk", filter=Q(kind__in=(EventKind.SLA_BREACH, EventKind.MERCHANT_MISSED))),
        "level2": Count("pk", filter=Q(kind=EventKind.SLA_LEVEL2)),
    }
    if by is None:
        return [events.aggregate(**counts)]
    return list(events.values(by).annotate(**counts))


@dataclass
class Day:
    day: date
    tickets: int = 0
    met: int = 0
    breached: int = 0

    @property
    def compliance(self) -> float | None:
        decided = self.met + self.breached
        return round(100.0 * self.met / decided, 1) if decided else None


def sla_trend(*, period: Period, scope: Q | None) -> list[Day]:
    """Per day of the period: tickets created, and the compliance of the targets
    whose clock started that day (every day present, zeros included)."""
    days = {d: Day(d) for d in period.days}
    created = (
        _scoped(Ticket.objects.filter(created_at__gte=period.start, created_at__lt=period.end), scope)
        .annotate(day=TruncDate("created_at", tzinfo=period.zone))
        .values("day")
        .annotate(n=Count("pk"))
    )
    for row in created:
        days[row["day"]].tickets = row["n"]
    decided = (
        _targets(period, scope)
        .annotate(day=TruncDate("started_at", tzinfo=period.zone))
        .values("day")
        .annotate(met=Count("pk", filter=MET), breached=Count("pk", filter=SLATarget.BREACHED))
    )
    for row in decided:
        days[row["day"]].met = row["met"]
        days[row["day"]].breached = row["breached"]
    return list(days.values())


def overdue_tickets(*, scope: Q | None, limit: int = 100):
    """Open tickets with a breached target now, longest overdue first."""
    tickets = _scoped(Ticket.objects.filter(status__in=OPEN_STATUSES, is_overdue=True), scope)
    return tickets.select_related("category", "team", "assignee", "merchant").order_by("due_at", "created_at", "id")[
        :limit
    ], tickets.count()


# --- Backlog -----------------------------------------------------------------------


@dataclass
class Backlog:
    priorities: list[tuple[str, str]]
    buckets: list[str]
    # cells[bucket index][priority code]
    cells: list[dict[str, int]]
    breaching_4h: dict[str, int]
    breaching_24h: dict[str, int]

    @property
    def total(self) -> int:
        return sum(sum(row.values()) for row in self.cells)

    def bucket_totals(self) -> list[int]:
        return [sum(row.values()) for row in self.cells]

    def priority_totals(self) -> dict[str, int]:
        return {code: sum(row[code] for row in self.cells) for code, _label in self.priorities}


def backlog(*, now: datetime, scope: Q | None) -> Backlog:
    """Open tickets by age (since creation) and priority, and how many tickets
    have a target that will breach within the next 4 and 24 hours (running,
    not yet breached, due after now and by then)."""
    priorities = [(p.value, str(p.label)) for p in reversed(Priority)]
    ages = {}
    lower = None
    for index, (upper, _label) in enumerate(AGE_BUCKETS):
        condition = Q()
        if upper is not None:
            condition &= Q(created_at__gt=now - upper)
        if lower is not None:
            condition &= Q(created_at__lte=now - lower)
        for code, _p in priorities:
            ages[f"b{index}_{code}"] = Count("pk", filter=condition & Q(priority=code))
        lower = upper
    counts = _scoped(Ticket.objects.filter(status__in=OPEN_STATUSES), scope).aggregate(**ages)
    cells = [{code: counts[f"b{i}_{code}"] for code, _p in priorities} for i in range(len(AGE_BUCKETS))]

    soon = _scoped(
        SLATarget.objects.filter(
            status=SLATarget.Status.RUNNING,
            steps_taken__lt=2,
            due_at__gt=now,
            due_at__lte=now + timedelta(hours=24),
            ticket__status__in=OPEN_STATUSES,
        ),
        scope,
    )
    window = {}
    within_4h = Q(due_at__lte=now + timedelta(hours=4))
    for code, _p in priorities:
        window[f"h4_{code}"] = Count("ticket_id", distinct=True, filter=within_4h & Q(ticket__priority=code))
        window[f"h24_{code}"] = Count("ticket_id", distinct=True, filter=Q(ticket__priority=code))
    due = soon.aggregate(**window)
    return Backlog(
        priorities=priorities,
        buckets=[str(label) for _upper, label in AGE_BUCKETS],
        cells=cells,
        breaching_4h={code: due[f"h4_{code}"] for code, _p in priorities},
        breaching_24h={code: due[f"h24_{code}"] for code, _p in priorities},
    )


# --- Volume peaks ------------------------------------------------------------------


def hour_of_week(*, start: datetime, end: datetime, zone: ZoneInfo, scope: Q | None) -> list[list[int]]:
    """Complaints created in [start, end) by weekday (0 = Monday) and hour in ``zone``."""
    grid = [[0] * 24 for _ in range(7)]
    rows = (
        _scoped(Ticket.objects.filter(created_at__gte=start, created_at__lt=end), scope)
        .annotate(dow=ExtractIsoWeekDay("created_at", tzinfo=zone), hour=ExtractHour("created_at", tzinfo=zone))
        .values("dow", "hour")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        grid[row["dow"] - 1][row["hour"]] = row["n"]
    return grid


def heatmap(*, period: Period, scope: Q | None) -> list[list[int]]:
    return hour_of_week(start=period.start, end=period.end, zone=period.zone, scope=scope)


@dataclass
class Forecast:
    first: date  # the first day forecast (tomorrow)
    weeks: int
    since: date  # the first day of the weeks averaged
    grid: list[list[float]]  # by weekday (0 = Monday) and hour

    def peaks(self, n: int = 5) -> list[tuple[int, int, float]]:
        cells = [(d, h, v) for d, row in enumerate(self.grid) for h, v in enumerate(row) if v > 0]
        return sorted(cells, key=lambda c: (-c[2], c[0], c[1]))[:n]

    @property
    def total(self) -> float:
        return round(sum(sum(row) for row in self.grid), 1)


def forecast(*, now: datetime, zone: ZoneInfo, scope: Q | None, weeks: int = FORECAST_WEEKS) -> Forecast:
    """Next week's expected complaints per hour of week: the mean of the same hour
    over the last ``weeks`` whole weeks (the 7 × ``weeks`` days before today)."""
    today = now.astimezone(zone).date()
    since = today - timedelta(weeks=weeks)
    counts = hour_of_week(
        start=datetime.combine(since, time.min, zone),
        end=datetime.combine(today, time.min, zone),
        zone=zone,
        scope=scope,
    )
    grid = [[round(n / weeks, 2) for n in row] for row in counts]
    return Forecast(first=today + timedelta(days=1), weeks=weeks, since=since, grid=grid)
