"""The reports' scheduled jobs (beat): the managers' daily digest, and folding
the SLA rollups' ledger in."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from reports.digest import daily_digest_send
from reports.rollups import rollups_compact


@shared_task(ignore_result=True)
def daily_digest_task() -> int | None:
    """Email the managers yesterday's digest (beat, every morning); once per day."""
    return daily_digest_send(now=timezone.now())


@shared_task(ignore_result=True)
def sla_rollups_compact_task() -> dict[str, int]:
    """Fold the SLA rollups' ledger into the day counts and histograms (beat,
    every minute): the report reads what is left in the ledger too, so a late or
    lost run costs the report time, never a figure."""
    return rollups_compact()
