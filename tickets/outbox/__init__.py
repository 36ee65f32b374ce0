"""The outbox: every message the helpdesk sends to the outside world (emails,
webhooks, and whatever comes next) is a row written in the transaction of the
change that causes it, dispatched to Celery once that transaction commits, and
delivered by one machine (``tickets.outbox.core``): claim by lease, a fresh
clock per message, capped exponential back-off, give-up after N attempts, one
re-sweep for every channel, one stable id per message across its attempts.

Channels: ``tickets.outbox.email.EMAIL`` (``Notification`` rows) is built in;
``integrations`` registers the webhook channel in its ``AppConfig.ready()``.
"""

from tickets.outbox.core import (
    Channel,
    Outcome,
    outbox_channel,
    outbox_channel_register,
    outbox_channels,
    outbox_claim,
    outbox_deliver,
    outbox_deliver_one,
    outbox_dispatch,
    outbox_dispatch_on_commit,
    outbox_due,
    outbox_give_up_expired,
    outbox_may_retry,
    outbox_resweep,
    outbox_retry,
)
from tickets.outbox.email import EMAIL

outbox_channel_register(EMAIL)

__all__ = [
    "EMAIL",
    "Channel",
    "Outcome",
    "outbox_channel",
    "outbox_channel_register",
    "outbox_channels",
    "outbox_claim",
    "outbox_deliver",
    "outbox_deliver_one",
    "outbox_dispatch",
    "outbox_dispatch_on_commit",
    "outbox_due",
    "outbox_give_up_expired",
    "outbox_may_retry",
    "outbox_resweep",
    "outbox_retry",
]
