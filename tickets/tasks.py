"""Celery tasks: thin, idempotent, taking ids and calling one service."""

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from tickets.escalation import sla_sweep
from tickets.evidence import evidence_orphans_remove
from tickets.outbox import EMAIL, outbox_deliver, outbox_resweep
from tickets.services.chat import chat_offers_expire

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def sla_sweep_task(helpers: int | None = None) -> dict[str, int]:
    """Take every escalation step that has come due (run by beat every
    SLA_SWEEP_INTERVAL_S, a second by default, so that an escalation follows its
    deadline within about a second; on the ``sla`` queue, which a worker of its own
    serves: no delivery waits in front of it).

    When the first batch comes back full, a backlog is due (an outage, a
    holiday's end): the sweep asks for one more sweeper, which may ask for the
    next, up to ``SLA_SWEEP_HELPERS`` in all, so idle worker processes share the
    work (``SKIP LOCKED`` keeps them apart)."""
    if helpers is None:
        helpers = settings.SLA_SWEEP_HELPERS

    def call_for_help() -> None:
        try:
            sla_sweep_task.apply_async(kwargs={"helpers": helpers - 1}, expires=settings.SLA_SWEEP_INTERVAL_S)
        except Exception:
            logger.warning("Could not ask for another sweeper; this one carries on alone.", exc_info=True)

    return sla_sweep(now=timezone.now(), on_backlog=call_for_help if helpers > 0 else None)


@shared_task(ignore_result=True)
def chat_offers_task() -> int:
    """Chat offers past their time pass to the next agent; queued live chats go to
    an agent who has come free (beat, every CHAT_OFFERS_INTERVAL_S, on the ``sla`` queue)."""
    return chat_offers_expire(now=timezone.now())


@shared_task(ignore_result=True)
def notifications_deliver_task(notification_ids: list[int]) -> dict[str, int]:
    """Deliver emails just written (dispatched on commit). Idempotent: a row
    already sent, not yet due or being sent elsewhere is skipped; a failed send
    is retried with back-off by the outbox's re-sweep."""
    return outbox_deliver(channel=EMAIL, ids=notification_ids)


@shared_task(ignore_result=True)
def outbox_resweep_task() -> dict[str, dict[str, int]]:
    """Every channel of the outbox (emails, webhooks): what is due a retry, whose
    dispatch was lost or whose lease expired with its worker (beat)."""
    return outbox_resweep()


@shared_task(ignore_result=True)
def evidence_orphans_task() -> int:
    """Remove evidence files left behind by transactions that rolled back (beat, hourly)."""
    return evidence_orphans_remove(now=timezone.now())
