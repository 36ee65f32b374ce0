"""Writes: the ticket lifecycle and the SLA clock it drives.

Every service locks the ticket row (the one lock guarding a ticket and its SLA
targets), applies the change, writes a TicketEvent for it, queues the
notifications it causes in the outbox, and commits all of it in one transaction.
``now`` is taken once per call (tests pass it, or move the clock).

One module per purpose: ``work`` (the unit of work every service uses),
``intake`` (filing), ``conversation`` (replies and notes), ``changes`` (status,
priority, assignment), ``merchants`` (forwarding and the merchant's reply),
``merge`` (duplicates and bulk changes). Callers import from the package.
"""

from tickets.services.changes import (
    ALLOWED,
    recompute_for_priority,
    ticket_assign,
    ticket_change_priority,
    ticket_change_status,
)
from tickets.services.conversation import ticket_consumer_message, ticket_reply, ticket_unverified_note
from tickets.services.intake import ticket_create
from tickets.services.merchants import ticket_forward_to_merchant, ticket_merchant_reply
from tickets.services.merge import BulkResult, ticket_merge, tickets_bulk_update
from tickets.services.update import KEEP, ticket_update
from tickets.services.work import Work, reference_next

__all__ = [
    "ALLOWED",
    "KEEP",
    "BulkResult",
    "Work",
    "recompute_for_priority",
    "reference_next",
    "ticket_assign",
    "ticket_change_priority",
    "ticket_change_status",
    "ticket_consumer_message",
    "ticket_create",
    "ticket_forward_to_merchant",
    "ticket_merchant_reply",
    "ticket_merge",
    "ticket_reply",
    "ticket_unverified_note",
    "ticket_update",
    "tickets_bulk_update",
]
