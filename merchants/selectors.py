"""Reads for the merchant portal and the managers' merchant pages."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Case, F, IntegerField, OuterRef, QuerySet, Subquery, Value, When

from accounts.models import Merchant
from merchants.access import complaints_for
from merchants.models import MerchantPenalty, MerchantScore, MerchantStrike
from merchants.scoring import window_start
from tickets.models import SLATarget, Ticket

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


def score_trend(merchant: Merchant, *, now: datetime, days: int = 90) -> list[MerchantScore]:
    """Daily snapshots, oldest first, over the last ``days`` days."""
    since = (now - timedelta(days=days)).date()
    return list(merchant.scores.filter(day__gt=since).order_by("day"))
