"""The Celery application. Periodic jobs are declared in settings
(``CELERY_BEAT_SCHEDULE``), all in one place."""

import logging
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cs_desk.settings.dev")

app = Celery("cs_desk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class SweepRoutineFilter(logging.Filter):
    """The SLA sweep and the chat offers run every second, and an email or a webhook
    delivery is a task of its own (the demo alone sends hundreds): the routine INFO
    lines about them (beat sending it, a worker receiving it, its success) would bury
    everything else in the logs. A failure is logged at WARNING or above and kept.
    Kept too when SLA_SWEEP_LOG is set (bench/lag.py times the sweeps from them)."""

    MARKS = (
        "sla-sweep",
        "tickets.tasks.sla_sweep_task",
        "chat-offers",
        "tickets.tasks.chat_offers_task",
        "tickets.tasks.notifications_deliver_task",
        "integrations.tasks.webhooks_deliver_task",
    )

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO or os.environ.get("SLA_SWEEP_LOG"):
            return True
        message = record.getMessage()
        return not any(mark in message for mark in self.MARKS)


# The loggers that write those lines: beat's scheduler, the worker's "received", the task's "succeeded".
for _name in ("celery.beat", "celery.worker.strategy", "celery.app.trace"):
    logging.getLogger(_name).addFilter(SweepRoutineFilter())
