"""The reports' scheduled jobs (beat): the managers' daily digest."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from reports.digest import daily_digest_send


@shared_task(ignore_result=True)
def daily_digest_task() -> int | None:
    """Email the managers yesterday's digest (beat, every morning); once per day."""
    return daily_digest_send(now=timezone.now())
