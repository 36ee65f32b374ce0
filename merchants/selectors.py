"""Reads for the merchant portal and the managers' merchant pages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When

from accounts.models import Merchant
from merchants.access import complaints_for
from merchants.models import MerchantPenalty, MerchantScorecard, MerchantStrike
from merchants.scoring import score_day, window_start
from tickets.models import OPEN_STATUSES, SLATarget, Ticket

TStatus = SLATarget.Status
OWED = (TStatus.RUNNING, TStatus.PAUSED)


def portal_complaints(merchant: Merchant, *, owed_only: bool) -> QuerySet[Ticket]:
    """The merchant's forwarded complaints with the state of their latest
    forward: those awaiting a reply first (soonest deadline first), then the
    rest, newest forward first."""
    latest = SLATarget.objects.filter(ticket=OuterRef("pk"), kind=SLATarget.Kind.MERCHANT_REPLY).order_by("-cycle")
    rows = (
        complaints_for(merchant)
        .select_related("category")
        .annotate(
            reply_state=Subquery(latest.values("status")[:1]),
            reply_due=Subquery(latest.values("due_at")[:1]),
            forwarded_at=Subquery(latest.values("started_at")[:1]),
        )
        .annotate(owed=Case(When(reply_state__in=OWED, then=Value(0)), default=Value(1), output_field=IntegerField()))
    )
    if owed_only:
        rows = rows.filter(reply_state__in=OWED)
    return rows.order_by("owed", F("reply_due").asc(nulls_last=True), "-forwarded_at", "-pk")


def warn_at(started: datetime | None, due: datetime | None, percent: int = 75) -> datetime | None:
    """The instant the countdown turns amber (the reminder's point)."""
    if started is None or due is None:
        return None
    return started + (due - started) * percent / 100


def merchant_penalties(merchant: Merchant) -> QuerySet[MerchantPenalty]:
    """A merchant's penalties, newest first, with the tickets behind each."""
    return merchant.penalties.prefetch_related("tickets").order_by("-created_at", "-id")


def strikes_in_window(merchant: Merchant, *, now: datetime) -> QuerySet[MerchantStrike]:
    return (
        merchant.strikes.filter(created_at__gt=window_start(now), created_at__lte=now)
        .select_related("ticket")
        .order_by("-created_at")
    )


@dataclass(frozen=True)
class TrendPoint:
    """One day of the trend: the figures in force at the end of ``day``."""

    day: date
    score: Decimal
    reply_rate: Decimal | None


def score_trend(merchant: Merchant, *, now: datetime, days: int = 90) -> list[TrendPoint]:
    """A point for each day of the last ``days`` days up to today (oldest
    first), from the merchant's first snapshot on: a day without a snapshot
    kept the previous one's figures. Today's point is the merchant's stored
    scorecard, as every door shows it."""
    today = score_day(now)
    first = today - timedelta(days=days - 1)
    before = merchant.scores.filter(day__lt=first).order_by("-day")[:1]
    rows = [*before, *merchant.scores.filter(day__gte=first, day__lte=today).order_by("day")]
    points: list[TrendPoint] = []
    for i, row in enumerate(rows):
        until = rows[i + 1].day if i + 1 < len(rows) else today + timedelta(days=1)
        day = max(row.day, first)
        while day < until:
            points.append(TrendPoint(day=day, score=row.score, reply_rate=row.reply_rate))
            day += timedelta(days=1)
    return points


# --- The score, as every door shows it ---------------------------------------------------


def scorecard_of(merchant: Merchant) -> MerchantScorecard:
    """The merchant's stored scorecard (``merchants.scoring``); an empty one
    (score 100, nothing forwarded) for a merchant never scored yet."""
    try:
        return merchant.scorecard
    except MerchantScorecard.DoesNotExist:
        return MerchantScorecard(merchant=merchant)


def awaiting_reply(merchant: Merchant) -> int:
    """Complaints whose reply deadline is still running (not part of the score)."""
    return SLATarget.objects.filter(
        kind=SLATarget.Kind.MERCHANT_REPLY, status__in=OWED, ticket__merchant=merchant
    ).count()


def open_complaints(merchant_ids=None) -> dict[int, int]:
    """Open tickets about each merchant (those in ``merchant_ids``, or every
    merchant with one), now."""
    rows = Ticket.objects.filter(status__in=OPEN_STATUSES, merchant_id__isnull=False)
    if merchant_ids is not None:
        rows = rows.filter(merchant_id__in=list(merchant_ids))
    return dict(rows.values("merchant_id").annotate(n=Count("pk")).values_list("merchant_id", "n"))


# --- The managers' scorecard list ------------------------------------------------------

# Each order the list offers, the merchant's id breaking ties; every one but
# "open" reads an index of MerchantScorecard (see its Meta).
LIST_ORDERS = {
    "score": ("score", "merchant_id"),
    "-score": ("-score", "-merchant_id"),
    "reply_rate": (F("reply_rate").asc(nulls_last=True), "merchant_id"),
    "median": (F("median_reply_seconds").desc(nulls_last=True), "-merchant_id"),
    "strikes": ("-strikes", "-merchant_id"),
    "open": None,  # most open complaints first, counted now (OpenComplaintsFirst)
}


@dataclass
class ScorecardRow:
    merchant: Merchant
    card: MerchantScorecard
    open_complaints: int = 0


def scorecard_rows(
    *, q: str = "", status: str = "", verification: str = "", below: Decimal | None = None, sort: str = "score"
):
    """The merchants' stored scorecards matching the filters, in the order
    ``sort`` names: a sliceable sequence with ``count()`` (for a Paginator) of
    ``MerchantScorecard`` with their merchant; a page's rows come from
    :func:`scorecard_page_rows`."""
    rows = MerchantScorecard.objects.select_related("merchant")
    if q:
        rows = rows.filter(Q(merchant__name__icontains=q) | Q(merchant__shop_id__iexact=q))
    if status:
        rows = rows.filter(merchant__status=status)
    if verification:
        rows = rows.filter(merchant__verification=verification)
    if below is not None:
        rows = rows.filter(score__lt=below)
    order = LIST_ORDERS[sort]
    if order is None:
        return OpenComplaintsFirst(rows)
    rows = rows.order_by(*order)
    if q or status or verification:
        return rows  # filtered on the merchant: read with it
    return IdsFirst(rows)


def scorecard_page_rows(cards) -> list[ScorecardRow]:
    """Rows for the scorecards of one page, with their open complaints now."""
    cards = list(cards)
    counts = open_complaints([c.merchant_id for c in cards])
    return [ScorecardRow(c.merchant, c, counts.get(c.merchant_id, 0)) for c in cards]


class IdsFirst:
    """Scorecards filtered and ordered on the scorecard alone: a page's ids are
    read from the order's index first (a deep page skips index entries, not
    joined rows), then those rows with their merchants."""

    def __init__(self, rows: QuerySet[MerchantScorecard]) -> None:
        self.rows = rows

    def count(self) -> int:
        return self.rows.count()

    def __getitem__(self, index: slice) -> list[MerchantScorecard]:
        ids = list(self.rows.values_list("merchant_id", flat=True)[index])
        cards = {c.merchant_id: c for c in self.rows.filter(merchant_id__in=ids)}
        return [cards[pk] for pk in ids if pk in cards]

    def __iter__(self) -> Iterator[MerchantScorecard]:
        return self.rows.iterator(chunk_size=2000)


class OpenComplaintsFirst:
    """Scorecards ordered by the merchant's open complaints now (most first,
    then the merchant's id, highest first). Open complaints change with every
    ticket, so they are not stored: the merchants with any are counted in one
    grouped query (few, beside all merchants) and come first; the others follow
    in id order, read a page at a time."""

    def __init__(self, rows: QuerySet[MerchantScorecard]) -> None:
        self.rows = rows
        self.counts = open_complaints()
        with_open = Ticket.objects.filter(status__in=OPEN_STATUSES, merchant_id__isnull=False).values("merchant_id")
        self.with_open = with_open
        ids = rows.filter(merchant_id__in=with_open).values_list("merchant_id", flat=True)
        self.head = sorted(ids, key=lambda pk: (self.counts.get(pk, 0), pk), reverse=True)

    def count(self) -> int:
        return self.rows.count()

    def _cards(self, ids: list[int]) -> list[MerchantScorecard]:
        cards = {c.merchant_id: c for c in self.rows.filter(merchant_id__in=ids)}
        return [cards[pk] for pk in ids if pk in cards]

    def _rest(self) -> QuerySet[MerchantScorecard]:
        return self.rows.exclude(merchant_id__in=self.with_open).order_by("-merchant_id")

    def __getitem__(self, index: slice) -> list[MerchantScorecard]:
        start, stop = index.start or 0, index.stop if index.stop is not None else self.count()
        page = self._cards(self.head[start:stop])
        wanted = stop - start - len(self.head[start:stop])
        if wanted > 0:
            skip = max(0, start - len(self.head))
            page += list(self._rest()[skip : skip + wanted])
        return page

    def __iter__(self) -> Iterator[MerchantScorecard]:
        """All of them in order, read in chunks (the CSV export)."""
        for i in range(0, len(self.head), 2000):
            yield from self._cards(self.head[i : i + 2000])
        yield from self._rest().iterator(chunk_size=2000)
