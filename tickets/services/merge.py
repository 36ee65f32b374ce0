"""Merging duplicates and changing several tickets at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cs_desk.exceptions import ApplicationError, InvalidTransition
from tickets import events
from tickets.models import Message, SLATarget, Ticket
from tickets.services.changes import reopen, ticket_assign, ticket_change_priority, ticket_change_status
from tickets.services.work import Work
from tickets.targets import RESPONSE_KINDS

Status = Ticket.Status
Kind = SLATarget.Kind


# --- Duplicates ---------------------------------------------------------------------


@transaction.atomic
def ticket_merge(*, source: Ticket, into: Ticket, actor, now: datetime | None = None) -> Ticket:
    """Merge the duplicate ``source`` into ``into``. Nothing is moved or lost:
    ``source`` keeps its messages, evidence and audit trail, is closed with its
    targets no longer owed, and points at ``into``, whose workspace shows both
    conversations and both trails. A reply the consumer was owed on the
    duplicate becomes owed on ``into``. Tickets merged into ``source`` earlier
    follow it, so a conversation is never more than one merge away."""
    if source.pk == into.pk:
        raise ApplicationError(_("A ticket cannot be merged into itself."), code="merge_self")
    # Lock both rows in a fixed order, so two opposite merges cannot deadlock.
    first, second = sorted((source, into), key=lambda t: t.pk)
    locked = {t.pk: Work.lock(t, now=now, actor=actor) for t in (first, second)}
    src, dst = locked[source.pk], locked[into.pk]
    src.now = dst.now = now or timezone.now()  # one instant, taken once both locks are held
    if src.ticket.merged_into_id or dst.ticket.merged_into_id:
        raise InvalidTransition(_("That ticket was already merged into another."), code="already_merged")
    if dst.ticket.status == Status.CLOSED:
        raise InvalidTransition(_("Reopen or choose an open ticket to merge into."), code="merge_into_closed")

    owed_reply = bool(src.active(*RESPONSE_KINDS))
    for target in src.active():
        src.close_target(target, SLATarget.Status.CANCELLED)
    old = src.ticket.status
    if old != Status.CLOSED:
        src.set(status=Status.CLOSED, closed_at=now)
        src.add(events.status_changed(old=old, new=Status.CLOSED))
    src.set(merged_into=dst.ticket)
    src.add(events.merged(into=dst.ticket))
    followers = list(Ticket.objects.filter(merged_into=src.ticket).values_list("pk", "reference"))
    Ticket.objects.filter(pk__in=[pk for pk, _ref in followers]).update(merged_into=dst.ticket)
    messages = Message.objects.filter(ticket=src.ticket).count()
    dst.add(events.merged_in(source=src.ticket, messages=messages, also=[ref for _pk, ref in followers]))
    if dst.ticket.status == Status.RESOLVED:
        reopen(dst)
    if owed_reply and not dst.active(*RESPONSE_KINDS):
        dst.open_target(Kind.NEXT_RESPONSE)
    src.commit()
    dst.commit()
    return dst.ticket


# --- Several tickets at once --------------------------------------------------------


@dataclass
class BulkResult:
    done: list[Ticket] = field(default_factory=list)
    failed: list[tuple[Ticket, str]] = field(default_factory=list)


def tickets_bulk_update(*, tickets: Sequence[Ticket], action: str, value, actor, now=None) -> BulkResult:
    """Apply one change to each ticket through the single-ticket service, each in
    its own transaction with its own audit event; a ticket that refuses the
    change (a closed one cannot be reopened) is reported, the rest go on.
    ``value`` is a status, a priority, or for "assign" a user or None."""
    services = {
        "status": lambda t: ticket_change_status(ticket=t, status=value, actor=actor, now=now),
        "priority": lambda t: ticket_change_priority(ticket=t, priority=value, actor=actor, now=now),
        "assign": lambda t: ticket_assign(ticket=t, assignee=value, actor=actor, now=now),
    }
    if action not in services:
        raise ApplicationError(_("Unknown bulk action."), code="invalid_action", field="action")
    if action == "status" and value not in Status.values:
        raise ApplicationError(_("Unknown status."), code="invalid_status", field="status")
    if action == "priority" and value not in Ticket.Priority.values:
        raise ApplicationError(_("Unknown priority."), code="invalid_priority", field="priority")
    result = BulkResult()
    for ticket in tickets:
        try:
            services[action](ticket)
        except ApplicationError as error:
            result.failed.append((ticket, str(error.message)))
        else:
            result.done.append(ticket)
    return result
