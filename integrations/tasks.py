"""Thin Celery entry points; the work is in integrations.webhooks."""

from celery import shared_task
from django.utils import timezone

from integrations.webhooks import webhooks_deliver_many, webhooks_due


@shared_task(ignore_result=True)
def webhooks_deliver_task(delivery_ids: list[int]) -> dict[str, int]:
    """Deliver webhooks just written (dispatched on commit). Idempotent: a
    delivery already done, not yet due or being tried elsewhere is skipped."""
    return webhooks_deliver_many(ids=delivery_ids, now=timezone.now())


@shared_task(ignore_result=True)
def webhooks_resweep_task() -> dict[str, int]:
    """Retries that have come due, and deliveries whose dispatch was lost."""
    now = timezone.now()
    return webhooks_deliver_many(ids=webhooks_due(now=now), now=now)
