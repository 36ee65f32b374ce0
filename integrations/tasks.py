"""Thin Celery entry points; the work is the outbox's (tickets.outbox), with the
webhook channel of integrations.webhooks. The re-sweep is the outbox's one task
(tickets.tasks.outbox_resweep_task), for every channel."""

from celery import shared_task

from integrations.webhooks import WEBHOOK
from tickets.outbox import outbox_deliver


@shared_task(ignore_result=True)
def webhooks_deliver_task(delivery_ids: list[int]) -> dict[str, int]:
    """Deliver webhooks just written (dispatched on commit). Idempotent: a
    delivery already done, not yet due or being tried elsewhere is skipped."""
    return outbox_deliver(channel=WEBHOOK, ids=delivery_ids)
