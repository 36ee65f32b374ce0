"""SLA compliance: targets met and breached, times taken, escalations, the trend."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from cs_desk.db import Grouping as GroupingBits
from cs_desk.db import PercentilesCont, grouping_sets_rows
from reports.selectors.period import Grouping, Period
from reports.selectors.sla_rollups import EVERY, rolled_counts, rolled_percentiles, rollups_cover
from tickets.access import scoped, ticket_scope, user_team_ids
from tickets.models import OPEN_STATUSES, SLATarget, Ticket, TicketEvent
from tickets.targets import ACTIVE

Kind = SLATarget.Kind
EventKind = TicketEvent.Kind
MET = Q(status=SLATarget.Status.MET) & SLATarget.NOT_BREACHED
OPEN = Q(status__in=ACTIVE) & SLATarget.NOT_BREACHED
PERCENTILES = (0.5, 0.9)
# Up to this many targets in the period, the percentiles are computed from the
# targets themselves (exact, and cheap at that size); above, from the histograms.
EXACT_PERCENTILES_MAX = 10_000
KIND_ORDER = [Kind.FIRST_RESPONSE, Kind.NEXT_RESPONSE, Kind.RESOLUTION, Kind.MERCHANT_REPLY]


# --- SLA compliance ----------------------------------------------------------------
def compliance(met: int, breached: int) -> float | None:
    """Met / (met + breached) in percent to 0.1, None when nothing was decided."""
    decided = met + breached
    return round(100.0 * met / decided, 1) if decided else None


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
    """Target figures per kind, per group and kind, and per day, of the targets
    started in the period. Escalations per group are the ladder steps those
    targets reached (``steps_taken``, which the sweep advances with each
    escalation event): warnings (75 %), level 1 (the breach, or a merchant's
    missed deadline), level 2 (150 %). Groups sorted by name, "none"
    (unassigned …) last.

    Read from the rollups (docs/reports.md): the counts exactly; the percentiles
    exactly when the period holds at most EXACT_PERCENTILES_MAX targets, else
    from the histograms, within ERROR_BOUND (0.99 %) of the exact value. From the
    targets themselves (``sla_report_exact``) when the rollups cannot answer:
    a reader whose days do not start when the rollups' do (another UTC offset),
    or one who sees tickets outside their teams (assigned to them elsewhere)."""
    teams = _rollup_teams(reader)
    if teams is False or not rollups_cover(period):
        return sla_report_exact(period=period, reader=reader, grouping=grouping)
    code = grouping.code
    counted = rolled_counts(code=code, first=period.first, last=period.last, teams=teams)
    total = sum(figures["targets"] for figures in counted.kinds.values())
    if total <= EXACT_PERCENTILES_MAX:
        times = _exact_percentiles(period, reader, grouping)
    else:
        times = rolled_percentiles(code=code, first=period.first, last=period.last, teams=teams, fractions=PERCENTILES)

    def figures(group, kind: str, counts: dict[str, int]) -> TargetFigures:
        business, calendar = times.get((group, kind), ([None, None], [None, None]))
        return TargetFigures(
            kind=kind,
            met=counts["met"],
            breached=counts["breached"],
            open=counts["open"],
            business=list(business),
            calendar=list(calendar),
        )

    summary = {kind: figures(EVERY, kind, counts) for kind, counts in counted.kinds.items()}
    per_group: dict[object, dict[str, TargetFigures]] = {}
    steps: dict[object, list[int]] = {}
    for (group, kind), counts in counted.cells.items():
        per_group.setdefault(group, {})[kind] = figures(group, kind, counts)
        counted_steps = steps.setdefault(group, [0, 0, 0])
        for i, name in enumerate(("warnings", "level1", "level2")):
            counted_steps[i] += counts[name]
    days = {day: (counts["met"], counts["breached"]) for day, counts in counted.days.items()}
    return _report(grouping, summary, per_group, steps, days)


def _rollup_teams(reader) -> list[int] | bool | None:
    """The teams whose rollups hold what ``reader`` may see: None for every team,
    False when the rollups cannot say (tickets assigned to them in another team)."""
    if reader is None or ticket_scope(reader) is None:
        return None
    teams = user_team_ids(reader)
    if Ticket.objects.filter(assignee=reader).exclude(team_id__in=teams).exists():
        return False
    return teams


def _exact_percentiles(period: Period, reader, grouping: Grouping) -> dict:
    """The percentiles over the met targets themselves, per group and kind and
    per kind (EVERY), in one scan (GROUPING SETS)."""
    key = f"ticket__{grouping.field}"
    queryset = (
        _targets(period, reader)
        .filter(status=SLATarget.Status.MET)
        .values(key, "kind")
        .annotate(
            business=PercentilesCont("business_seconds", PERCENTILES),
            calendar=PercentilesCont("calendar_seconds", PERCENTILES),
            unrolled=GroupingBits(key, "kind"),
        )
    )
    return {
        (EVERY if row["unrolled"] else row[key], row["kind"]): (
            row["business"] or [None, None],
            row["calendar"] or [None, None],
        )
        for row in grouping_sets_rows(queryset, ((1, 2), (2,)))
    }


def _report(grouping: Grouping, summary: dict, per_group: dict, steps: dict, days: dict) -> SLAReport:
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


def sla_report_exact(*, period: Period, reader, grouping: Grouping) -> SLAReport:
    """``sla_report`` computed from the targets themselves (the rollups' check,
    and the readers they cannot answer): ONE scan of
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
    return _report(grouping, summary, per_group, steps, days)


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
        # COUNT(*): the created_at index alone answers it (an index-only scan), where
        # COUNT(id) read every ticket of the period from the table.
        .annotate(n=Count("*"))
    )
    for row in created:
        days[row["day"]].tickets = row["n"]
    for day, (met, breached) in report.days.items():
        days[day].met, days[day].breached = met, breached
    return list(days.values())


def overdue_tickets(*, reader, limit: int | None = 100):
    """Open tickets with a breached target now, longest overdue first (the first
    ``limit``, or all of them with None), and how many there are."""
    tickets = scoped(Ticket.objects.filter(status__in=OPEN_STATUSES, is_overdue=True), reader)
    ordered = tickets.select_related("category", "team", "assignee", "merchant").order_by("due_at", "created_at", "id")
    return (ordered if limit is None else ordered[:limit]), tickets.count()
