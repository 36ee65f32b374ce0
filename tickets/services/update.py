"""Status, priority and assignee changed together, as one change.

A door that lets a person change several of them in one go (the staff API's
PATCH, the admin's ticket page) calls ``ticket_update``: one lock of the
ticket, every change checked against the ticket as it stands under that lock
before anything is written, then each applied by the same steps as the
single-change services in ``tickets.services.changes`` (the same events, the
same SLA effects), and everything saved in one transaction. A refusal of any
one of them leaves the ticket as it was: no half-made change, no event."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from cs_desk.exceptions import ApplicationError
from tickets.models import Ticket, TicketEvent
from tickets.services.changes import (
    assign,
    assignee_check,
    change_status,
    recompute_for_priority,
    reopen,
    status_check,
)
from tickets.services.work import Work

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

Status = Ticket.Status
EventKind = TicketEvent.Kind


class Keep(enum.Enum):
    """The assignee is left as it is (``None`` means: nobody)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@transaction.atomic
def ticket_update(
    *,
    ticket: Ticket,
    actor,
    status: str | None = None,
    priority: str | None = None,
    assignee: AbstractBaseUser | Keep | None = KEEP,
    now: datetime | None = None,
) -> Ticket:
    """Apply the changes given (``None``, or ``KEEP`` for the assignee: leave it)
    all or nothing. The priority goes first, so that a reopened ticket's new
    resolution clock runs on the new priority's policy; then the assignee, then
    the status. A value equal to the ticket's is no change and writes nothing."""
    if status is not None and status not in Status.values:
        raise ApplicationError(_("Unknown status."), code="invalid_status", field="status")
    if priority is not None and priority not in Ticket.Priority.values:
        raise ApplicationError(_("Unknown priority."), code="invalid_priority", field="priority")
    work = Work.lock(ticket, now=now, actor=actor)
    t = work.ticket
    move = status is not None and status != t.status
    regrade = priority is not None and priority != t.priority
    reassign = assignee is not KEEP and (assignee.pk if assignee else None) != t.assignee_id
    if move:
        status_check(work, status)
    if reassign:
        assignee_check(work, assignee)
    if regrade:
        recompute_for_priority(work, priority, reason="manual")
    if reassign:
        assign(work, assignee)
    if move:
        if t.status == Status.RESOLVED and status == Status.OPEN:
            reopen(work)
        else:
            change_status(work, status)
    if move or regrade or reassign:
        work.commit()
    return t
