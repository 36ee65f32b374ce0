"""Forwarding a complaint to the merchant and the merchant's reply."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from cs_desk.exceptions import ApplicationError, InvalidTransition
from tickets import events
from tickets.models import Message, SLATarget, Ticket
from tickets.notifications import tracking_url
from tickets.recipients import supervisors_by_team
from tickets.rules import message_clean
from tickets.services.changes import change_status
from tickets.services.work import Work

Status = Ticket.Status
Kind = SLATarget.Kind


# --- Merchants ----------------------------------------------------------------------


@transaction.atomic
def ticket_forward_to_merchant(*, ticket: Ticket, actor, note: str = "", now: datetime | None = None) -> SLATarget:
    """Ask the merchant to reply in the portal: 24 calendar hours by default."""
    work = Work.lock(ticket, now=now, actor=actor)
    t = work.ticket
    if t.merchant is None:
        raise ApplicationError(_("This ticket is not about a merchant."), code="no_merchant")
    if t.status in (Status.RESOLVED, Status.CLOSED):
        raise InvalidTransition(_("Reopen the ticket before forwarding it."))
    if work.active(Kind.MERCHANT_REPLY):
        raise InvalidTransition(_("The merchant already has this complaint."), code="already_forwarded")
    if t.status == Status.PENDING:
        change_status(work, Status.OPEN)
    old = t.status
    work.set(status=Status.AWAITING_MERCHANT)
    work.add(events.status_changed(old=old, new=Status.AWAITING_MERCHANT))
    target = work.open_target(Kind.MERCHANT_REPLY)
    work.add(events.forwarded_to_merchant(target=target, merchant_id=t.merchant_id, note=note))
    work.notify_merchant("merchant_forwarded", merchant=t.merchant.name, due=target.due_at, body=note)
    work.commit()
    return target


@transaction.atomic
def ticket_merchant_reply(*, ticket: Ticket, author, body: str, now: datetime | None = None) -> Message:
    """The merchant answers in the portal: the message joins the consumer's
    conversation and meets the merchant-reply target."""
    message_clean(body)
    work = Work.lock(ticket, now=now, actor=author)
    t = work.ticket
    link = getattr(author, "merchant_link", None)
    forwarded = any(target.kind == Kind.MERCHANT_REPLY for target in work.targets)
    if link is None or t.merchant_id != link.merchant_id or not forwarded:
        raise ApplicationError(_("Ticket not found."), code="not_found")
    if t.status == Status.CLOSED:
        raise InvalidTransition(_("This ticket is closed."))
    message = Message.objects.create(
        ticket=t, author_kind=Message.AuthorKind.MERCHANT, author=author, body=body, created_at=work.now
    )
    work.add(events.merchant_replied(message=message))
    for target in work.active(Kind.MERCHANT_REPLY):
        work.close_target(target, SLATarget.Status.MET)
    if t.status == Status.AWAITING_MERCHANT:
        work.set(status=Status.OPEN)
        work.add(events.status_changed(old=Status.AWAITING_MERCHANT, new=Status.OPEN))
    recipients = [t.assignee] if t.assignee else supervisors_by_team([t.team_id]).get(t.team_id, [])
    work.notify_staff("merchant_replied", recipients, merchant=t.merchant.name, body=body)
    if t.requester_email:  # the consumer hears it too, with the way back to the conversation
        work.notify(
            "merchant_answered",
            t.requester_email,
            language=t.language,
            name=t.requester_name,
            merchant=t.merchant.name,
            body=body,
            tracking_url=tracking_url(t),
        )
    work.commit()
    return message
