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

Callers pass ``reader``: the staff user whose tickets count (those
``tickets.access.ticket_scope`` lets them see), or None for every ticket (the
digest, the benchmark).
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

from cs_desk.db import Grouping as GroupingBits
from cs_desk.db import PercentilesCont, grouping_sets_rows
from tickets.access import scoped
from tickets.models import OPEN_STATUSES, Category, Priority, SLATarget, Team, Ticket, TicketEvent
from tickets.targets import ACTIVE

Kind = SLATarget.Kind
EventKind = TicketEvent.Kind
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


def compliance(met: int, breached: int) -> float | None:
    """Met / (met + breached) in percent to 0.1, None when nothing was decided."""
    decided = met + breached
    return round(100.0 * met / decided, 1) if decided else None


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
        return compliance(self.met, self.breached)

    @classmethod
    def total(cls, figures: Iterable[TargetFigures]) -> TargetFigures:
        """The counts of several kinds added up (percentiles do not add up: none)."""
        figures = list(figures)
        return cls(
            kind="",
            met=sum(f.met for f in figures),
            breached=sum(f.breached for f in figures),
            open=sum(f.open for f in figures),
        )


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


def _targets(period: Period, reader):
    return scoped(SLATarget.objects.filter(started_at__gte=period.start, started_at__lt=period.end), reader, "ticket__")


def sla_decided(*, period: Period, reader) -> list[TargetFigures]:
    """Targets decided in the period, per kind (the daily digest's view of a
    day): met (on time) during it, or breached at a due time inside it — the
    promises that were kept or broken that day, whenever they were made."""
    targets = scoped(SLATarget.objects.all(), reader, "ticket__")
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


@dataclass
class SLAReport:
    summary: list[TargetFigures]  # per kind (all four, in the SLA's order), every group together
    groups: list[GroupFigures]
    days: dict[date, tuple[int, int]]  # (met, breached) of the targets started that day

    @property
    def escalated(self) -> dict[str, int]:
        return {
            "warnings": sum(g.warnings for g in self.groups),
            "level1": sum(g.level1 for g in self.groups),
            "level2": sum(g.level2 for g in self.groups),
        }


def sla_report(*, period: Period, reader, grouping: Grouping) -> SLAReport:
    """Target figures per kind, per group and kind, and per day, from ONE scan of
    the targets started in the period (``GROUPING SETS``: (group, kind), (kind),
    (day)). Escalations per group are the ladder steps those targets reached
    (``steps_taken``, which the sweep advances with each escalation event):
    warnings (75 %), level 1 (the breach, or a merchant's missed deadline),
    level 2 (150 %). Groups sorted by name, "none" (unassigned …) last."""
    key = f"ticket__{grouping.field}"
    queryset = (
        _targets(period, reader)
        .annotate(day=TruncDate("started_at", tzinfo=period.zone))
        .values(key, "kind", "day")
        .annotate(
            **_target_aggregates(),
            warnings=Count("pk", filter=Q(steps_taken__gte=1)),
            level1=Count("pk", filter=Q(steps_taken__gte=2)),
            level2=Count("pk", filter=Q(steps_taken__gte=3)),
            unrolled=GroupingBits(key, "kind", "day"),
        )
    )
    summary: dict[str, TargetFigures] = {}
    per_group: dict[object, dict[str, TargetFigures]] = {}
    steps: dict[object, list[int]] = {}
    days: dict[date, tuple[int, int]] = {}
    for row in grouping_sets_rows(queryset, ((1, 2), (2,), (3,))):
        if row["unrolled"] == 0b001:  # (group, kind)
            per_group.setdefault(row[key], {})[row["kind"]] = _figures(row)
            counted = steps.setdefault(row[key], [0, 0, 0])
            for i, name in enumerate(("warnings", "level1", "level2")):
                counted[i] += row[name]
        elif row["unrolled"] == 0b101:  # (kind)
            summary[row["kind"]] = _figures(row)
        else:  # (day)
            days[row["day"]] = (row["met"], row["breached"])
    names = grouping.names(per_group)
    groups = [
        GroupFigures(
            key=group_key,
            name=names.get(group_key, grouping.none_label()) if group_key is not None else grouping.none_label(),
            targets=[kinds[k] for k in KIND_ORDER if k in kinds],
            warnings=steps[group_key][0],
            level1=steps[group_key][1],
            level2=steps[group_key][2],
        )
        for group_key, kinds in per_group.items()
    ]
    return SLAReport(
        summary=[summary.get(kind, TargetFigures(kind=kind)) for kind in KIND_ORDER],
        groups=sorted(groups, key=lambda g: (g.key is None, g.name)),
        days=days,
    )


def escalation_counts(*, period: Period, reader) -> dict[str, int]:
    """Escalation steps the sweep took during the period, by their events (the
    daily digest's "yesterday"): warnings (75 %), level 1 (the breach, or a
    merchant's missed deadline) and level 2 (150 %)."""
    events = scoped(
        TicketEvent.objects.filter(
            kind__in=(EventKind.SLA_WARNING, EventKind.SLA_BREACH, EventKind.MERCHANT_MISSED, EventKind.SLA_LEVEL2),
            created_at__gte=period.start,
            created_at__lt=period.end,
        ),
        reader,
        "ticket__",
    )
    counts = {
        "warnings": Count("pk", filter=Q(kind=EventKind.SLA_WARNING)),
        "level1": Count("pk", filter=Q(kind__in=(EventKind.SLA_BREACH, EventKind.MERCHANT_MISSED))),
        "level2": Count("pk", filter=Q(kind=EventKind.SLA_LEVEL2)),
    }
    return events.aggregate(**counts)


@dataclass
class Day:
    day: date
    tickets: int = 0
    met: int = 0
    breached: int = 0

    @property
    def compliance(self) -> float | None:
        return compliance(self.met, self.breached)


def sla_trend(*, period: Period, reader, report: SLAReport) -> list[Day]:
    """Per day of the period: tickets created, and the compliance of the targets
    whose clock started that day (every day present, zeros included), the latter
    from ``report``, the period's sla_report."""
    days = {d: Day(d) for d in period.days}
    created = (
        scoped(Ticket.objects.filter(created_at__gte=period.start, created_at__lt=period.end), reader)
        .annotate(day=TruncDate("created_at", tzinfo=period.zone))
        .values("day")
        .annotate(n=Count("pk"))
    )
    for row in created:
        days[row["day"]].tickets = row["n"]
    for day, (met, breached) in report.days.items():
        days[day].met, days[day].breached = met, breached
    return list(days.values())


def overdue_tickets(*, reader, limit: int = 100):
    """Open tickets with a breached target now, longest overdue first."""
    tickets = scoped(Ticket.objects.filter(status__in=OPEN_STATUSES, is_overdue=True), reader)
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


def backlog(*, now: datetime, reader) -> Backlog:
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
    counts = scoped(Ticket.objects.filter(status__in=OPEN_STATUSES), reader).aggregate(**ages)
    cells = [{code: counts[f"b{i}_{code}"] for code, _p in priorities} for i in range(len(AGE_BUCKETS))]

    soon = scoped(
        SLATarget.objects.filter(
            status=SLATarget.Status.RUNNING,
            steps_taken__lt=2,
            due_at__gt=now,
            due_at__lte=now + timedelta(hours=24),
            ticket__status__in=OPEN_STATUSES,
        ),
        reader,
        "ticket__",
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


def hour_of_week(*, start: datetime, end: datetime, zone: ZoneInfo, reader) -> list[list[int]]:
    """Complaints created in [start, end) by weekday (0 = Monday) and hour in ``zone``."""
    grid = [[0] * 24 for _ in range(7)]
    rows = (
        scoped(Ticket.objects.filter(created_at__gte=start, created_at__lt=end), reader)
        .annotate(dow=ExtractIsoWeekDay("created_at", tzinfo=zone), hour=ExtractHour("created_at", tzinfo=zone))
        .values("dow", "hour")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        grid[row["dow"] - 1][row["hour"]] = row["n"]
    return grid


def heatmap(*, period: Period, reader) -> list[list[int]]:
    return hour_of_week(start=period.start, end=period.end, zone=period.zone, reader=reader)


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


def forecast(*, now: datetime, zone: ZoneInfo, reader, weeks: int = FORECAST_WEEKS) -> Forecast:
    """Next week's expected complaints per hour of week: the mean of the same hour
    over the last ``weeks`` whole weeks (the 7 × ``weeks`` days before today)."""
    today = now.astimezone(zone).date()
    since = today - timedelta(weeks=weeks)
    counts = hour_of_week(
        start=datetime.combine(since, time.min, zone),
        end=datetime.combine(today, time.min, zone),
        zone=zone,
        reader=reader,
    )
    grid = [[round(n / weeks, 2) for n in row] for row in counts]
    return Forecast(first=today + timedelta(days=1), weeks=weeks, since=since, grid=grid)
