"""What happens to a merchant's standing, for the apps that act on it.

The merchants app decides a merchant's penalties; integrations tells the
webhooks of them. The two sit side by side and neither imports the other, so
the merchants app announces each change here and integrations registers a
consumer in its AppConfig.ready(), as the ticket events do (tickets.events).

A consumer hears of a change inside the transaction that makes it, and writes
its own rows there (the webhook deliveries): the change and what follows from
it commit together or not at all, so nothing is lost and nothing is written
twice, and no catch-up is needed. A consumer's error fails the change. It must
be quick: it runs under the merchant's row lock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple


class MerchantEvent(NamedTuple):
    """One change: its kind, what it carries (as the webhooks send it), and when."""

    kind: str
    data: dict[str, Any]
    at: datetime


# The kinds.
PENALIZED = "penalized"  # a penalty was imposed (by the ladder or by hand)

MerchantEventsWritten = Callable[[list[MerchantEvent]], None]
_consumers: dict[str, MerchantEventsWritten] = {}


def merchant_events_register(name: str, consumer: MerchantEventsWritten) -> None:
    """Call ``consumer(events)`` inside every transaction that changes a merchant's
    standing (once per name: a second registration replaces the first)."""
    _consumers[name] = consumer


def merchant_events_written(events: Sequence[MerchantEvent]) -> None:
    """Hand ``events`` to the consumers, in the caller's transaction."""
    events = list(events)
    if not events:
        return
    for consumer in _consumers.values():
        consumer(events)
