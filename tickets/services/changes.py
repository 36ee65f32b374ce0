"""Status, priority and assignment, and what each does to the SLA clocks."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from cs_desk.exceptions import ApplicationError, InvalidTransition
from tickets import events
from tickets.access import assignable_users
from tickets.models import Chat, SLATarget, Ticket
from tickets.notifications import tracking_url
from tickets.services.work import Work
from tickets.targets import RESPONSE_KINDS

Status = Ticket.Status
Kind = SLATarget.Kind


# --- Status -----------------------------------------------------------------------

# Which status an agent may move a ticket to from each status. awaiting_merchant
# is entered only by forwarding to the merchant; new only by filing.
ALLOWED = {
    Status.NEW: {Status.OPEN, Status.PENDING, Status.RESOLVED, Status.CLOSED},
    Status.OPEN: {Status.PENDING, Status.RESOLVED, Status.CLOSED},
    Status.AWAITING_MERCHANT: {Status.OPEN, Status.PENDING, Status.RESOLVED, Status.CLOSED},
    Status.PENDING: {Status.OPEN, Status.RESOLVED, Status.CLOSED},
    Status.RESOLVED: {Status.OPEN, Status.CLOSED},
    Status.CLOSED: set(),
}


def change_status(work: Work, new: str) -> None:
    t = work.ticket
    old = t.status
    if new == old:
        return
    if new == Status.PENDING:
        # Waiting on the consumer: the resolution clock stops and no reply is owed.
        for target in work.active(Kind.RESOLUTION):
            if target.status == SLATarget.Status.RUNNING:
                work.pause_target(target)
        for target in work.active(*RESPONSE_KINDS):
            work.close_target(target, SLATarget.Status.CANCELLED)
    elif old == Status.PENDING:
        for target in work.active(Kind.RESOLUTION):
            if target.status == SLATarget.Status.PAUSED:
                work.resume_target(target)
    if new in (Status.RESOLVED, Status.CLOSED):
        for target in work.active():
            status = SLATarget.Status.MET if target.kind == Kind.RESOLUTION else SLATarget.Status.CANCELLED
            work.close_target(target, status)
        if new == Status.RESOLVED or t.resolved_at is None:
            work.set(resolved_at=work.now)
        if new == Status.CLOSED:
            work.set(closed_at=work.now)
        # A chat ends with its ticket (no longer in its agent's hands).
        Chat.objects.filter(ticket=t).exclude(state=Chat.State.ENDED).update(
            state=Chat.State.ENDED, ended_at=work.now, offered_to=None, offer_expires_at=None
        )
    work.set(status=new)
    work.add(events.status_changed(old=old, new=new))
    if new == Status.RESOLVED and t.requester_email:
        work.notify(
            "survey_invitation",
            t.requester_email,
            language=t.language,
            name=t.requester_name,
            survey_url=tracking_url(t) + "#survey",
        )


def status_check(work: Work, status: str) -> None:
    """Refuse a move an agent may not make from the ticket's status (``ALLOWED``)."""
    old = work.ticket.status
    if status not in ALLOWED[old]:
        raise InvalidTransition(
            _("A ticket cannot go from %(old)s to %(new)s.") % {"old": Status(old).label, "new": Status(status).label}
        )


def reopen(work: Work) -> None:
    """A resolved ticket comes back: a new resolution cycle runs from now."""
    old = work.ticket.status
    work.set(status=Status.OPEN, resolved_at=None)
    work.add(events.reopened(old=old))
    work.open_target(Kind.RESOLUTION)


@transaction.atomic
def ticket_change_status(*, ticket: Ticket, status: str, actor=None, now: datetime | None = None) -> Ticket:
    work = Work.lock(ticket, now=now, actor=actor)
    old = work.ticket.status
    if status not in Status.values:
        raise ApplicationError(_("Unknown status."), code="invalid_status", field="status")
    if status == old:
        return work.ticket
    status_check(work, status)
    if old == Status.RESOLVED and status == Status.OPEN:
        reopen(work)
    else:
        change_status(work, status)
    work.commit()
    return work.ticket


# --- Priority, assignment ---------------------------------------------------------


def recompute_for_priority(work: Work, new_priority: str, *, reason: str) -> None:
    """Set the priority and re-date the owed targets under the new priority's
    policy (``targets_redate``), from the moment each clock started. A target
    this puts past due takes its step at the next sweep, once, naming the change."""
    old = work.ticket.priority
    work.set(priority=new_priority)
    work.add(events.priority_changed(old=old, new=new_priority, reason=reason))
    work.redate(work.targets, policy=work.policy, reason="priority_changed")


def priority_raise(work: Work, new_priority: str, *, reason: str) -> None:
    """Raise the priority without re-dating anything: an escalation (a breach, an
    alert word in a follow-up message) moves the ticket up the queue, and the new
    priority's policy applies to targets opened afterwards. A running target keeps
    the deadline it was promised, so a raise never makes it breach on the spot."""
    old = work.ticket.priority
    if old == new_priority:
        return
    work.set(priority=new_priority)
    work.add(events.priority_changed(old=old, new=new_priority, reason=reason))


@transaction.atomic
def ticket_change_priority(*, ticket: Ticket, priority: str, actor=None, now: datetime | None = None) -> Ticket:
    if priority not in Ticket.Priority.values:
        raise ApplicationError(_("Unknown priority."), code="invalid_priority", field="priority")
    work = Work.lock(ticket, now=now, actor=actor)
    if work.ticket.priority != priority:
        recompute_for_priority(work, priority, reason="manual")
        work.commit()
    return work.ticket


def assignee_check(work: Work, assignee) -> None:
    """Refuse an assignee outside the ticket's team (an active member or
    supervisor): an assignment opens the ticket to its assignee on every door,
    so it may not reach outside the team. Keeping the current assignee is no
    change and always allowed."""
    if (
        assignee is not None
        and assignee.pk != work.ticket.assignee_id
        and not assignable_users(work.actor, work.ticket).filter(pk=assignee.pk).exists()
    ):
        raise ApplicationError(
            _("%(user)s is not in this ticket's team.") % {"user": assignee}, code="not_assignable", field="assignee"
        )


def assign(work: Work, assignee) -> None:
    """Give the locked ticket to ``assignee`` (None: nobody), checked first with
    ``assignee_check``; no change writes nothing."""
    old = work.ticket.assignee_id
    new = assignee.pk if assignee else None
    if old != new:
        work.add(events.assigned(old=old, new=new))
        work.set(assignee=assignee)


@transaction.atomic
def ticket_assign(*, ticket: Ticket, assignee, actor=None, now: datetime | None = None) -> Ticket:
    """Give the ticket to ``assignee`` (None: nobody), who must be an active member
    or supervisor of the ticket's team (``assignee_check``)."""
    work = Work.lock(ticket, now=now, actor=actor)
    assignee_check(work, assignee)
    if work.ticket.assignee_id != (assignee.pk if assignee else None):
        assign(work, assignee)
        work.commit()
    return work.ticket
