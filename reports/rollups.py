"""The SLA report's rollups: folding the ledger in, rebuilding from the targets,
and reading a histogram bucket back (docs/reports.md).

The triggers (``reports.rollups_sql``) append each change of a target's share
to the ledger in the writer's transaction; ``rollups_compact`` (beat, every
minute) moves the ledger into the day counts and histograms; the report reads
the rollups and whatever the ledger still holds, so it is exact at any moment.
``rollups_rebuild`` recomputes everything from the targets.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

from reports.rollups_sql import ALL_SHARES, GAMMA, LEDGER, ROLLUP, TAKE_LEDGER, TARGETS, ZONE, fold, zone_sql

# Serialises the folds and the rebuild (pg_advisory_lock's key; any constant).
LOCK_KEY = 2_110_301
ERROR_BOUND = (GAMMA - 1) / (GAMMA + 1)  # relative error of a percentile read from the histograms


def bucket_value(bucket: int) -> float:
    """The value a histogram bucket stands for: the harmonic mean of its bounds,
    within ERROR_BOUND of every value in it (0 for bucket 0)."""
    if bucket <= 0:
        return 0.0
    low, high = GAMMA ** (bucket - 1), GAMMA**bucket
    return 2 * low * high / (low + high)


def bucket_of(seconds: int) -> int:
    """The bucket of ``seconds`` (what the SQL function reports_sla_bucket computes)."""
    return 0 if seconds <= 0 else 1 + math.floor(math.log(seconds) / math.log(GAMMA))


def rollups_compact() -> dict[str, int]:
    """Fold the ledger into the rollups, in one transaction; a second fold at the
    same time waits for the first. Returns the ledger rows taken and the rollup
    rows written."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        cursor.execute("SET LOCAL jit = off")  # a few thousand rows: compiling costs more than it saves
        cursor.execute(fold(TAKE_LEDGER))
        taken, written = cursor.fetchone()
    return {"changes": taken, "rollup_rows": written}


@contextmanager
def _folds_held():
    """No fold runs meanwhile (a session lock: taken before the rebuild's snapshot)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


def rollups_rebuild() -> dict[str, int]:
    """Recompute the rollups from the targets, in the site's time zone; safe to
    run again and while the desk works. On its own it is one REPEATABLE READ
    transaction: it drops the rollups and the ledger rows its snapshot sees, and
    counts the targets its snapshot sees; a change committed after the snapshot
    has its ledger rows outside the snapshot, so they survive and are folded in
    later. Inside a caller's transaction (a test, the benchmark's loader) it runs
    in it, at the caller's isolation."""
    if connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        return _rebuild()
    with _folds_held(), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return _rebuild()


def _rebuild() -> dict[str, int]:
    with connection.cursor() as cursor:
        if rollup_zone() != settings.TIME_ZONE:
            cursor.execute(zone_sql(settings.TIME_ZONE))
        for table in (LEDGER, ROLLUP):
            cursor.execute(f"DELETE FROM {table}")
        return rollups_build(cursor, ZoneInfo(settings.TIME_ZONE))


CHUNK = timedelta(days=28)  # four whole weeks: no week's rollup is split between two chunks


def rollups_build(cursor, zone: ZoneInfo) -> dict[str, int]:
    """Fold the shares of every target into empty rollups, four weeks (from a
    Monday, in the rollup zone) of clock starts at a time, so that each
    statement's aggregation stays in memory however long the history."""
    cursor.execute(f"SELECT min(started_at), max(started_at) FROM {TARGETS}")
    first, last = cursor.fetchone()
    totals = {"targets": 0, "rollup_rows": 0}
    if first is None:
        return totals
    day = first.astimezone(zone).date()
    day -= timedelta(days=day.weekday())
    # Every target, fanned out twelve times (six groupings, its day and its week): sort in memory.
    cursor.execute("SET LOCAL work_mem = '256MB'")
    while datetime.combine(day, time.min, zone) <= last:
        bounds = [datetime.combine(day, time.min, zone), datetime.combine(day + CHUNK, time.min, zone)]
        cursor.execute(fold(f"{ALL_SHARES} WHERE s.started_at >= %s AND s.started_at < %s"), bounds)
        targets, written = cursor.fetchone()
        totals["targets"] += targets
        totals["rollup_rows"] += written
        day += CHUNK
    return totals


def rollup_zone() -> str:
    """The time zone whose days the rollups count in (TIME_ZONE at their last rebuild)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {ZONE}")
        return cursor.fetchone()[0]
