"""Celery tasks for merchants: thin, idempotent, each calling one service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from accounts.models import Merchant
from merchants.penalties import merchant_ladder_evaluate, merchants_daily
from merchants.risk import risk_signals_detect

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def merchant_scores_task() -> dict[str, int]:
    """Daily: the penalty ladder for every merchant it concerns, then every score."""
    return merchants_daily(now=timezone.now())


@shared_task(ignore_result=True)
def merchant_ladder_task(merchant_ids: list[int]) -> int:
    """Right after strikes are recorded (merchants.accountability): move those merchants on the ladder."""
    now = timezone.now()
    for merchant in Merchant.objects.filter(pk__in=merchant_ids).order_by("pk"):
        merchant_ladder_evaluate(merchant=merchant, now=now)
    return len(merchant_ids)


@shared_task(ignore_result=True)
def merchant_risk_signals_task() -> dict[str, int]:
    """Daily: look for signs of bought or shared merchant accounts."""
    return risk_signals_detect(now=timezone.now())


def merchant_ladder_dispatch(merchant_ids) -> None:
    """Once the strikes are committed, ask a worker to move the merchants on the
    ladder. A broker outage only delays it until the daily job."""
    ids = sorted(set(merchant_ids))
    if not ids:
        return

    def send() -> None:
        try:
            merchant_ladder_task.delay(ids)
        except Exception:
            logger.warning("Could not dispatch the penalty ladder for %s; the daily job will.", ids, exc_info=True)

    transaction.on_commit(send)
