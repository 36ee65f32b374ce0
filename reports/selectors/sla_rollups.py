"""The SLA report's figures read from the rollups (reports.models,
docs/reports.md): the counts from the day rows, the percentiles from the week
and day histograms, each with whatever the ledger holds that was not folded in
yet, so the figures are current to the last commit.

Rows come back keyed by the grouping's key as text ("" for none); ``group_key``
turns it back into what the targets' own query gives (an id, a code, None).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection

from reports.rollups import bucket_of, bucket_value, rollup_zone
from reports.rollups_sql import COUNTS, GROUPING_KEYS, LEDGER, ROLLUP
from reports.selectors.period import Period

# (group key, kind) → the counts of COUNTS
CountRows = dict[tuple[object, str], dict[str, int]]


class _Every:
    """The key of the figures of every group together (None is the group of none)."""

    def __repr__(self) -> str:
        return "EVERY"


EVERY = _Every()


def group_key(code: str, text: str):
    """The key of a group as the targets' query gives it: None for none, an id
    for the groupings by a related row, the code for priority and channel."""
    if text == "":
        return None
    return text if code in ("priority", "channel") else int(text)


def rollups_cover(period: Period) -> bool:
    """Whether the reader's days are the rollups' days: every day of the period
    starts at the instant a rollup day starts (a reader in the site's zone, or
    any zone with its offset throughout the period)."""
    zone = ZoneInfo(rollup_zone())
    if str(period.zone) == str(zone):
        return True
    bounds = [*period.days, period.last + timedelta(days=1)]
    return all(datetime.combine(d, time.min, period.zone) == datetime.combine(d, time.min, zone) for d in bounds)


def _teams_sql(teams: Sequence[int] | None, alias: str) -> tuple[str, list]:
    return ("", []) if teams is None else (f" AND {alias}.team_id = ANY(%s)", [list(teams)])


@dataclass
class RolledCounts:
    cells: CountRows  # per (group key, kind)
    kinds: dict[str, dict[str, int]]  # per kind, every group together
    days: dict[date, dict[str, int]]  # per day the targets' clocks started


def rolled_counts(*, code: str, first: date, last: date, teams: Sequence[int] | None) -> RolledCounts:
    """The counts of the targets started from ``first`` to ``last`` (rollup days),
    per group and kind, per kind, and per day, in one query (GROUPING SETS)."""
    key = GROUPING_KEYS[code].format(t="m")
    counts = ", ".join(COUNTS)
    sums = ", ".join(f"sum({c})::int" for c in COUNTS)
    day_teams, day_params = _teams_sql(teams, "d")
    ledger_teams, ledger_params = _teams_sql(teams, "m")
    sql = f"""
        SELECT key, kind, day, {sums}, GROUPING(key, kind, day) FROM (
            SELECT d.key, d.kind, d.day, {counts} FROM {ROLLUP} d
            WHERE d.grouping = %s AND d.span = 1 AND d.day >= %s AND d.day <= %s{day_teams}
            UNION ALL
            SELECT {key}, m.kind, m.day, {counts} FROM {LEDGER} m
            WHERE m.day >= %s AND m.day <= %s{ledger_teams}
        ) r
        GROUP BY GROUPING SETS ((key, kind), (kind), (day))
        HAVING sum(targets) <> 0
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [code, first, last, *day_params, first, last, *ledger_params])
        rows = cursor.fetchall()
    result = RolledCounts(cells={}, kinds={}, days={})
    for key_text, kind, day, *values in rows:
        unrolled = values.pop()
        figures = dict(zip(COUNTS, values, strict=True))
        if unrolled == 0b001:
            result.cells[(group_key(code, key_text), kind)] = figures
        elif unrolled == 0b101:
            result.kinds[kind] = figures
        else:
            result.days[day] = figures
    return result


def _blocks(first: date, last: date) -> tuple[list[date], list[date]]:
    """The whole weeks (Monday to Sunday) inside the days, and the days outside them."""
    weeks, days = [], []
    day = first
    while day <= last:
        if day.weekday() == 0 and day + timedelta(days=6) <= last:
            weeks.append(day)
            day += timedelta(days=7)
        else:
            days.append(day)
            day += timedelta(days=1)
    return weeks, days


def percentiles_of(counts: dict[int, int], fractions: Sequence[float]) -> list[float | None]:
    """``percentile_cont`` over a histogram: the values at the ranks below and
    above ``p × (n - 1)``, each read as its bucket's value, interpolated. Each
    is within ERROR_BOUND of the value it stands for, so the result is within
    ERROR_BOUND of the exact percentile (an interpolation of two values)."""
    buckets = sorted((b, n) for b, n in counts.items() if n > 0)
    total = sum(n for _b, n in buckets)
    if not total:
        return [None for _p in fractions]

    def value_at(rank: int) -> float:
        seen = 0
        for bucket, n in buckets:
            seen += n
            if rank < seen:
                return bucket_value(bucket)
        return bucket_value(buckets[-1][0])

    result = []
    for p in fractions:
        rank = p * (total - 1)
        low, high = int(rank), min(int(rank) + 1, total - 1)
        below = value_at(low)
        result.append(below + (rank - low) * (value_at(high) - below))
    return result


# (group key, or EVERY for every group together, kind) → (business [p…], calendar [p…])
Percentiles = dict[tuple[object, str], tuple[list[float | None], list[float | None]]]


def rolled_percentiles(
    *, code: str, first: date, last: date, teams: Sequence[int] | None, fractions: Sequence[float]
) -> Percentiles:
    """Percentiles of the clock seconds of the met targets started from ``first``
    to ``last``, per group and kind and per kind, from the histograms of the
    whole weeks in the days and of the days outside them, and the met targets
    still in the ledger. (Added up here: PostgreSQL's ``jsonb_each`` and a
    GROUP BY over the same buckets measured twice as slow.)"""
    weeks, days = _blocks(first, last)
    key = GROUPING_KEYS[code].format(t="m")
    rollup_teams, rollup_params = _teams_sql(teams, "r")
    ledger_teams, ledger_params = _teams_sql(teams, "m")
    cells: dict[tuple[object, str, str], dict[int, int]] = {}

    def add(cell: tuple[object, str, str], histogram: dict) -> None:
        counts = cells.setdefault(cell, {})
        for bucket, n in histogram.items():
            counts[bucket] = counts.get(bucket, 0) + n

    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT r.key, r.kind, r.business, r.calendar FROM {ROLLUP} r
                WHERE r.grouping = %s AND r.span = 7 AND r.day = ANY(%s){rollup_teams}
                UNION ALL
                SELECT r.key, r.kind, r.business, r.calendar FROM {ROLLUP} r
                WHERE r.grouping = %s AND r.span = 1 AND r.day = ANY(%s){rollup_teams}""",
            [code, weeks, *rollup_params, code, days, *rollup_params],
        )
        for key_text, kind, business, calendar in cursor.fetchall():
            group = group_key(code, key_text)
            # jsonb comes as text (Django's loader); bucket keys stay text until the end.
            add((group, kind, "b"), json.loads(business))
            add((group, kind, "c"), json.loads(calendar))
        cursor.execute(
            f"""SELECT {key}, m.kind, m.business_seconds, m.calendar_seconds, m.timed FROM {LEDGER} m
                WHERE m.timed <> 0 AND m.day >= %s AND m.day <= %s{ledger_teams}""",
            [first, last, *ledger_params],
        )
        for key_text, kind, business, calendar, timed in cursor.fetchall():
            for clock, seconds in (("b", business), ("c", calendar)):
                if seconds is not None:
                    add((group_key(code, key_text), kind, clock), {str(bucket_of(seconds)): timed})
    for (_group, kind, clock), counts in list(cells.items()):
        add((EVERY, kind, clock), counts)
    result: Percentiles = {}
    for (group, kind, clock), counts in cells.items():
        values = percentiles_of({int(b): n for b, n in counts.items()}, fractions)
        business, calendar = result.get((group, kind), ([None] * len(fractions), [None] * len(fractions)))
        result[(group, kind)] = (values, calendar) if clock == "b" else (business, values)
    return result
