"""Celery tasks: thin, idempotent, taking ids and calling one service."""

from celery import shared_task
from django.utils import timezone

from tickets.escalation import sla_sweep
from tickets.notifications import notifications_deliver_many, notifications_due


@shared_task(ignore_result=True)
def sla_sweep_task() -> dict[str, int]:
    """Take every escalation step that has come due (run by beat every 30 s)."""
    return sla_sweep(now=timezone.now())


@shared_task(ignore_result=True)
def notifications_deliver_task(notification_ids: list[int]) -> dict[str, int]:
    """Deliver outbox rows; a row already sent or being sent elsewhere is skipped,
    a failed send is rescheduled with back-off and left to the re-sweep."""
    return notifications_deliver_many(ids=notification_ids, now=timezone.now())


@shared_task(ignore_result=True)
def notifications_resweep_task() -> dict[str, int]:
    """Deliver outbox rows whose dispatch was lost or whose retry is due."""
    now = timezone.now()
    return notifications_deliver_many(ids=notifications_due(now=now), now=now)
