"""Merchant scorecards: how a shop answers the complaints forwarded to it, over
the rolling window (``MERCHANT_SCORE_WINDOW_DAYS``, 30 by default).

One definition, computed in PostgreSQL, read by the daily job, the portal, the
managers' scorecards and the merchant API:

* a complaint counts in the window when its merchant-reply target was opened
  (forwarded) in the window and its outcome is known: **answered** when the
  merchant replied by the deadline, **unanswered** when the deadline passed
  without a reply (a late reply is still unanswered). Targets still running
  are **pending** and count for nothing yet; a forward withdrawn by the
  platform (merged, closed) counts for nothing;
* **reply rate** = answered / (answered + unanswered);
* **median reply time** = the median of (reply − forward) over the replies;
* **strikes** = strikes recorded in the window;
* **score** = 100 − ``MERCHANT_SCORE_UNANSWERED_WEIGHT`` (0.5) × the percentage
  left unanswered − the points of the point deductions in force, clamped to
  0–100 and rounded to one decimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from accounts.models import Merchant
from cs_desk.db import PercentileCont, seconds_between
from merchants.models import MerchantPenalty, MerchantScore, MerchantStrike
from tickets.models import OPEN_STATUSES, SLATarget, Ticket

ONE_DECIMAL = Decimal("0.1")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Scorecard:
    merchant_id: int
    answered: int = 0
    unanswered: int = 0
    pending: int = 0
    median_reply_seconds: int | None = None
    strikes: int = 0
    penalty_points: Decimal = Decimal(0)
    open_complaints: int = 0

    @property
    def forwarded(self) -> int:
        """Complaints with a known outcome in the window."""
        return self.answered + self.unanswered

    @property
    def reply_rate(self) -> Decimal | None:
        """Percentage answered by the deadline, or None when nothing was forwarded."""
        if not self.forwarded:
            return None
        return (HUNDRED * self.answered / self.forwarded).quantize(ONE_DECIMAL, ROUND_HALF_UP)

    @property
    def unanswered_percent(self) -> Decimal:
        if not self.forwarded:
            return Decimal(0)
        return HUNDRED * self.unanswered / self.forwarded

    @property
    def score(self) -> Decimal:
        return score_formula(self.unanswered_percent, self.penalty_points)


def score_formula(unanswered_percent: Decimal, penalty_points: Decimal) -> Decimal:
    weight = Decimal(str(settings.MERCHANT_SCORE_UNANSWERED_WEIGHT))
    raw = HUNDRED - weight * Decimal(unanswered_percent) - Decimal(penalty_points)
    return min(max(raw, Decimal(0)), HUNDRED).quantize(ONE_DECIMAL, ROUND_HALF_UP)


def window_start(now: datetime) -> datetime:
    return now - timedelta(days=settings.MERCHANT_SCORE_WINDOW_DAYS)


class Scorecards(dict):
    """Scorecards by merchant id; a merchant with nothing in the window has an empty one."""

    def __missing__(self, merchant_id: int) -> Scorecard:
        return Scorecard(merchant_id=merchant_id)


def scorecards(*, now: datetime, merchant_ids=None) -> Scorecards:
    """The scorecard of each merchant (all, or those in ``merchant_ids``) at
    ``now``: four grouped queries, whatever the number of merchants. For all
    merchants, only those with something in the window are read (the others'
    cards are empty)."""
    start = window_start(now)
    only = {} if merchant_ids is None else {"ticket__merchant_id__in": list(merchant_ids)}
    on_time = Q(status=SLATarget.Status.MET, met_at__lte=F("due_at"))
    late = Q(status=SLATarget.Status.MET, met_at__gt=F("due_at")) | Q(status=SLATarget.Status.MISSED)
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
            pending=Count("pk", filter=Q(status__in=(SLATarget.Status.RUNNING, SLATarget.Status.PAUSED))),
            median=PercentileCont(seconds_between("started_at", "met_at"), 0.5, filter=Q(status=SLATarget.Status.MET)),
        )
    )
    data: dict[int, dict] = {}
    for row in rows:
        data[row["ticket__merchant_id"]] = {
            "answered": row["answered"],
            "unanswered": row["unanswered"],
            "pending": row["pending"],
            "median_reply_seconds": round(row["median"]) if row["median"] is not None else None,
        }
    mine = {} if merchant_ids is None else {"merchant_id__in": list(merchant_ids)}
    strikes = (
        MerchantStrike.objects.filter(created_at__gt=start, created_at__lte=now, **mine)
        .values("merchant_id")
        .annotate(n=Count("pk"))
    )
    for row in strikes:
        data.setdefault(row["merchant_id"], {})["strikes"] = row["n"]
    points = (
        MerchantPenalty.objects.filter(status=MerchantPenalty.Status.ACTIVE, points__gt=0, **mine)
        .values("merchant_id")
        .annotate(points=Sum("points"))
    )
    for row in points:
        data.setdefault(row["merchant_id"], {})["penalty_points"] = row["points"]
    open_ = (
        Ticket.objects.filter(status__in=OPEN_STATUSES, merchant_id__isnull=False, **mine)
        .values("merchant_id")
        .annotate(n=Count("pk"))
    )
    for row in open_:
        data.setdefault(row["merchant_id"], {})["open_complaints"] = row["n"]
    return Scorecards({pk: Scorecard(merchant_id=pk, **values) for pk, values in data.items()})


def scorecard(merchant: Merchant, *, now: datetime | None = None) -> Scorecard:
    return scorecards(now=now or timezone.now(), merchant_ids=[merchant.pk])[merchant.pk]


def merchant_scores_compute(*, now: datetime, merchant_ids=None) -> int:
    """Store each merchant's score on the merchant and in that day's snapshot
    (the trend). Running it again the same day replaces the day's snapshot.
    Returns the number of merchants scored."""
    merchants = Merchant.objects.all() if merchant_ids is None else Merchant.objects.filter(pk__in=merchant_ids)
    ids = list(merchants.values_list("pk", flat=True))
    if not ids:
        return 0
    found = scorecards(now=now, merchant_ids=merchant_ids)
    cards = {pk: found[pk] for pk in ids}
    day = timezone.localtime(now, ZoneInfo(settings.TIME_ZONE)).date()
    snapshots = [
        MerchantScore(
            merchant_id=card.merchant_id,
            day=day,
            computed_at=now,
            forwarded=card.forwarded,
            answered=card.answered,
            unanswered=card.unanswered,
            reply_rate=card.reply_rate,
            median_reply_seconds=card.median_reply_seconds,
            strikes=card.strikes,
            penalty_points=card.penalty_points,
            score=card.score,
        )
        for card in cards.values()
    ]
    changed = [Merchant(pk=card.merchant_id, score=card.score, score_updated_at=now) for card in cards.values()]
    with transaction.atomic():
        MerchantScore.objects.bulk_create(
            snapshots,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["merchant", "day"],
            update_fields=[
                "computed_at",
                "forwarded",
                "answered",
                "unanswered",
                "reply_rate",
                "median_reply_seconds",
                "strikes",
                "penalty_points",
                "score",
            ],
        )
        Merchant.objects.bulk_update(changed, ["score", "score_updated_at"], batch_size=1000)
    return len(ids)
