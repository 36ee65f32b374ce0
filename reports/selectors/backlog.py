"""The backlog (open tickets by age and team) and volume peaks (hour of week, forecast)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay
from django.utils.translation import gettext_lazy as _

from reports.selectors.period import Period
from tickets.access import scoped
from tickets.models import OPEN_STATUSES, Priority, SLATarget, Ticket, TicketEvent

Kind = SLATarget.Kind
EventKind = TicketEvent.Kind
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


def hour_of_week(
    *, start: datetime, end: datetime, zone: ZoneInfo, reader, channels: Collection[str] | None = None
) -> list[list[int]]:
    """Complaints created in [start, end) by weekday (0 = Monday) and hour in ``zone``;
    only those that came in on ``channels`` when given (None: every channel)."""
    grid = [[0] * 24 for _ in range(7)]
    tickets = Ticket.objects.filter(created_at__gte=start, created_at__lt=end)
    if channels is not None:
        tickets = tickets.filter(channel__in=channels)
    rows = (
        scoped(tickets, reader)
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


def forecast(
    *, now: datetime, zone: ZoneInfo, reader, weeks: int = FORECAST_WEEKS, channels: Collection[str] | None = None
) -> Forecast:
    """Next week's expected complaints per hour of week: the mean of the same hour
    over the last ``weeks`` whole weeks (the 7 × ``weeks`` days before today); of
    the complaints on ``channels`` only, when given (the staffing's chats and tickets)."""
    today = now.astimezone(zone).date()
    since = today - timedelta(weeks=weeks)
    counts = hour_of_week(
        start=datetime.combine(since, time.min, zone),
        end=datetime.combine(today, time.min, zone),
        zone=zone,
        reader=reader,
        channels=channels,
    )
    grid = [[round(n / weeks, 2) for n in row] for row in counts]
    return Forecast(first=today + timedelta(days=1), weeks=weeks, since=since, grid=grid)
