"""Celery tasks for merchants: thin, idempotent, each calling one service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from merchants.penalties import merchants_daily, merchants_rescore
from merchants.risk import risk_signals_detect

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def merchant_scores_task() -> dict[str, int]:
    """Daily: the penalty ladder for every merchant it concerns, then every score."""
    return merchants_daily(now=timezone.now())


@shared_task(ignore_result=True)
def merchant_ladder_task(merchant_ids: list[int]) -> int:
    """Right after a merchant's reply or missed deadline is committed
    (merchants.accountability): move those merchants on the ladder, then store
    their scores."""
    merchants_rescore(now=timezone.now(), merchant_ids=merchant_ids)
    return len(merchant_ids)


@shared_task(ignore_result=True)
def merchant_risk_signals_task() -> dict[str, int]:
    """Daily: look for signs of bought or shared merchant accounts."""
    return risk_signals_detect(now=timezone.now())


def merchant_ladder_dispatch(merchant_ids) -> None:
    """Once the change is committed, ask a worker to move the merchants on the
    ladder and score them. A broker outage only delays it until the daily job."""
    ids = sorted(set(merchant_ids))
    if not ids:
        return

    def send() -> None:
        try:
            merchant_ladder_task.delay(ids)
        except Exception:
            logger.warning("Could not dispatch the penalty ladder for %s; the daily job will.", ids, exc_info=True)

    transaction.on_commit(send)
