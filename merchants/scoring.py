"""The merchant score: one definition, computed here and only here, stored as
the merchant's ``MerchantScorecard`` (what every door shows) and, on each day
it changes, as that day's ``MerchantScore`` snapshot (the trend). The whole
rule, with a worked example, is in docs/merchants.md ("Merchant score").

Over the rolling window (``MERCHANT_SCORE_WINDOW_DAYS``, 30 by default) ending
at the instant of the computation:

* a complaint counts when its merchant-reply target was opened (forwarded) in
  the window and its outcome is known: **answered** when the merchant replied
  by the deadline, **unanswered** when the deadline passed without a reply (a
  late reply is still unanswered). Targets still running are **pending** and
  count for nothing yet; a forward withdrawn by the platform (merged, closed)
  counts for nothing;
* **reply rate** = answered / (answered + unanswered), in percent, one decimal;
* **median reply time** = the median of the SLA clock's own time to meet
  (``SLATarget.calendar_seconds``) over the replies, on time or late — the
  figure the SLA report's percentiles read, never a second definition;
* **strikes** = strikes recorded in the window;
* **score** = 100 − ``MERCHANT_SCORE_UNANSWERED_WEIGHT`` (0.5) × the percentage
  left unanswered − the points of the point deductions in force, clamped to
  0–100 and rounded to one decimal.

When: the daily job (every merchant, as the window moves), right after a
merchant's reply or missed deadline (``merchants.tasks.merchant_ladder_task``),
after each penalty imposed, lifted or revoked, and on demand (the admin's
action, the managers' "recompute" button).
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum

from accounts.models import Merchant
from cs_desk.db import PercentileCont
from merchants.models import MerchantPenalty, MerchantScore, MerchantScorecard, MerchantStrike
from tickets.models import SLATarget

ONE_DECIMAL = Decimal("0.1")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Figures:
    """A merchant's figures over the window, as stored on its scorecard and snapshots."""

    forwarded: int = 0
    answered: int = 0
    unanswered: int = 0
    reply_rate: Decimal | None = None
    median_reply_seconds: int | None = None
    strikes: int = 0
    penalty_points: Decimal = Decimal("0.0")
    score: Decimal = Decimal("100.0")


FIGURES = [f.name for f in fields(Figures)]
EMPTY = Figures()


def figures_of(*, answered: int, unanswered: int, median: float | None, strikes: int, points: Decimal) -> Figures:
    """The score and percentages from the counts (the formula in the module's docstring)."""
    forwarded = answered + unanswered
    rate = None if not forwarded else (HUNDRED * answered / forwarded).quantize(ONE_DECIMAL, ROUND_HALF_UP)
    unanswered_percent = Decimal(0) if not forwarded else HUNDRED * unanswered / forwarded
    weight = Decimal(str(settings.MERCHANT_SCORE_UNANSWERED_WEIGHT))
    raw = HUNDRED - weight * unanswered_percent - Decimal(points)
    return Figures(
        forwarded=forwarded,
        answered=answered,
        unanswered=unanswered,
        reply_rate=rate,
        median_reply_seconds=None if median is None else round(median),
        strikes=strikes,
        penalty_points=Decimal(points).quantize(ONE_DECIMAL),
        score=min(max(raw, Decimal(0)), HUNDRED).quantize(ONE_DECIMAL, ROUND_HALF_UP),
    )


def window_start(now: datetime) -> datetime:
    return now - timedelta(days=settings.MERCHANT_SCORE_WINDOW_DAYS)


def score_day(now: datetime) -> date:
    """The day a computation at ``now`` counts for in the trend (the platform's time zone)."""
    return now.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def figures_compute(*, now: datetime, merchant_ids=None) -> dict[int, Figures]:
    """The figures at ``now`` of each merchant in ``merchant_ids`` or, without
    it, of each merchant with something in the window (the others' are
    ``EMPTY``): three grouped queries, whatever the number of merchants."""
    start = window_start(now)
    only = {} if merchant_ids is None else {"ticket__merchant_id__in": list(merchant_ids)}
    on_time = Q(status=SLATarget.Status.MET, met_at__lte=F("due_at"))
    late = Q(status=SLATarget.Status.MET, met_at__gt=F("due_at")) | Q(status=SLATarget.Status.MISSED)
    counts: dict[int, dict] = {}
    rows = (
        SLATarget.objects.filter(
            kind=SLATarget.Kind.MERCHANT_REPLY,
            started_at__gt=start,
            started_at__lte=now,
            ticket__merchant_id__isnull=False,
            **only,
        )
        .values("ticket__merchant_id")
        .annotate(
            answered=Count("pk", filter=on_time),
            unanswered=Count("pk", filter=late),
            median=PercentileCont("calendar_seconds", 0.5, filter=Q(status=SLATarget.Status.MET)),
        )
    )
    for row in rows:
        counts[row["ticket__merchant_id"]] = {
            "answered": row["answered"],
            "unanswered": row["unanswered"],
            "median": row["median"],
        }
    mine = {} if merchant_ids is None else {"merchant_id__in": list(merchant_ids)}
    strikes = (
        MerchantStrike.objects.filter(created_at__gt=start, created_at__lte=now, **mine)
        .values("merchant_id")
        .annotate(n=Count("pk"))
    )
    for row in strikes:
        counts.setdefault(row["merchant_id"], {})["strikes"] = row["n"]
    points = (
        MerchantPenalty.objects.filter(status=MerchantPenalty.Status.ACTIVE, points__gt=0, **mine)
        .values("merchant_id")
        .annotate(points=Sum("points"))
    )
    for row in points:
        counts.setdefault(row["merchant_id"], {})["points"] = row["points"]
    return {
        pk: figures_of(
            answered=c.get("answered", 0),
            unanswered=c.get("unanswered", 0),
            median=c.get("median"),
            strikes=c.get("strikes", 0),
            points=c.get("points", Decimal(0)),
        )
        for pk, c in counts.items()
    }


def _stored(merchant_ids=None) -> dict[int, tuple[Figures | None, datetime | None]]:
    """Each merchant's stored figures and the instant they were computed (None,
    None: never computed), for all merchants or those in ``merchant_ids``."""
    merchants = Merchant.objects.all() if merchant_ids is None else Merchant.objects.filter(pk__in=merchant_ids)
    stored: dict[int, tuple[Figures | None, datetime | None]] = dict.fromkeys(
        merchants.values_list("pk", flat=True), (None, None)
    )
    cards = MerchantScorecard.objects.filter(computed_at__isnull=False)
    if merchant_ids is not None:
        cards = cards.filter(merchant_id__in=list(stored))
    rows = cards.values_list("merchant_id", "computed_at", *FIGURES).iterator(chunk_size=10_000)
    for pk, at, *values in rows:
        if pk in stored:
            stored[pk] = (Figures(*values), at)
    return stored


def _previous_on(day: date, ids: list[int]) -> dict[int, Figures]:
    """The figures of the latest snapshot on or before ``day``, for a
    computation dated before the stored one (a history filled in afterwards)."""
    rows = (
        MerchantScore.objects.filter(merchant_id__in=ids, day__lte=day)
        .order_by("merchant_id", "-day")
        .distinct("merchant_id")
        .values_list("merchant_id", *FIGURES)
    )
    return {pk: Figures(*values) for pk, *values in rows}


def merchant_scores_compute(*, now: datetime, merchant_ids=None) -> int:
    """Compute the score of every merchant (or those in ``merchant_ids``) at
    ``now``, and store what changed: the merchant's scorecard, its score on
    the merchant record, and that day's snapshot, in one transaction. A
    merchant whose figures are those already stored is not written (its trend
    carries the previous snapshot forward); a merchant computed for the first
    time always gets its first snapshot. A computation dated a day before the
    stored figures (a history filled in afterwards) writes that day's snapshot
    only. Returns the number of merchants scored."""
    computed = figures_compute(now=now, merchant_ids=merchant_ids)
    stored = _stored(merchant_ids)
    day = score_day(now)
    past = {pk for pk, (_f, at) in stored.items() if at is not None and score_day(at) > day}
    previous = _previous_on(day, sorted(past)) if past else {}
    changed: list[tuple[int, Figures]] = []
    for pk, (before, _at) in stored.items():
        after = computed.get(pk, EMPTY)
        if pk in past:
            before = previous.get(pk)
        if before is None or astuple(before) != astuple(after):
            changed.append((pk, after))
    if changed:
        _write(changed, now=now, day=day, current={pk for pk, _f in changed} - past)
    return len(stored)


# Figures are written with the instant they were computed at, and a row is
# replaced only by figures computed at that instant or later: a computation that
# finishes after a newer one (the daily job beside the task that follows a reply)
# never puts older figures back.
_UPSERT = """
INSERT INTO {table} ({columns})
SELECT * FROM unnest({arrays})
ON CONFLICT ({conflict}) DO UPDATE SET {updates}
WHERE {table}.computed_at IS NULL OR {table}.computed_at <= EXCLUDED.computed_at
"""
_MIRROR = """
UPDATE {table} m SET score = v.score, score_updated_at = v.at
FROM unnest(%s::bigint[], %s::numeric[], %s::timestamptz[]) AS v(id, score, at)
WHERE m.id = v.id AND (m.score_updated_at IS NULL OR m.score_updated_at <= v.at)
"""
_TYPES = {
    "merchant_id": "bigint", "day": "date", "computed_at": "timestamptz", "forwarded": "integer",
    "answered": "integer", "unanswered": "integer", "reply_rate": "numeric", "median_reply_seconds": "integer",
    "strikes": "integer", "penalty_points": "numeric", "score": "numeric",
}  # fmt: skip


def _upsert(cursor, model, rows: list[dict], conflict: list[str]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    sql = _UPSERT.format(
        table=model._meta.db_table,
        columns=", ".join(columns),
        arrays=", ".join(f"%s::{_TYPES[c]}[]" for c in columns),
        conflict=", ".join(conflict),
        updates=", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in conflict),
    )
    cursor.execute(sql, [[row[c] for row in rows] for c in columns])


def _write(changed: list[tuple[int, Figures]], *, now: datetime, day: date, current: set[int]) -> None:
    """The changed figures: the day's snapshots, and for the merchants whose
    latest figures these are, the scorecard and the merchant record's copy of
    the score (read by nothing of ours; kept equal for whatever reads the
    record). A few statements, whatever the number of merchants."""
    snapshots = [{"merchant_id": pk, "day": day, "computed_at": now, **vars(f)} for pk, f in changed]
    cards = [{"merchant_id": pk, "computed_at": now, **vars(f)} for pk, f in changed if pk in current]
    with transaction.atomic(), connection.cursor() as cursor:
        _upsert(cursor, MerchantScore, snapshots, ["merchant_id", "day"])
        _upsert(cursor, MerchantScorecard, cards, ["merchant_id"])
        if cards:
            cursor.execute(
                _MIRROR.format(table=Merchant._meta.db_table),
                [[c["merchant_id"] for c in cards], [c["score"] for c in cards], [now] * len(cards)],
            )
