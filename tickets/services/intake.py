"""Filing a ticket: the one intake every channel goes through."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cs_desk.exceptions import ApplicationError
from feedback.models import KeywordHit
from feedback.services import keywords_in
from tickets.evidence import evidence_record, evidence_staged
from tickets.models import Category, Message, SLATarget, Ticket, TicketEvent
from tickets.notifications import tracking_url
from tickets.phones import phone_normalise
from tickets.recipients import supervisors_by_team
from tickets.rules import evidence_count_check, message_clean, order_number_clean
from tickets.services.changes import recompute_for_priority
from tickets.services.work import Work, reference_next
from tickets.uploads import CleanFile

Status = Ticket.Status
Kind = SLATarget.Kind
EventKind = TicketEvent.Kind


# --- Creating ------------------------------------------------------------------


def ticket_create(
    *,
    category: Category,
    subject: str,
    body: str,
    requester_name: str,
    requester_email: str = "",
    requester_phone: str = "",
    channel: str = Ticket.Channel.WEB,
    merchant=None,
    order_number: str = "",
    language: str | None = None,
    priority: str | None = None,
    author=None,
    follows: Ticket | None = None,
    evidence: Sequence[CleanFile] = (),
    now: datetime | None = None,
) -> Ticket:
    """File a ticket: the consumer's first message with its evidence files, and
    the first-response and resolution targets, whose clocks start now.
    ``author`` is the agent who logged it (a phone call), if any; ``follows``
    the closed ticket this one continues.

    An alert word in the subject or the message flags the ticket, raises it to
    urgent before its clocks start, and tells the team's supervisors."""
    now = now or timezone.now()
    requester_email = requester_email.strip()
    requester_phone = phone_normalise(requester_phone)
    if not requester_email and not requester_phone:
        raise ApplicationError(
            _("Give a phone number or an email address so that we can reply."), code="contact_required"
        )
    order_number = order_number_clean(order_number)
    if not subject.strip():
        raise ApplicationError(_("Describe the problem in a few words."), code="required", field="subject")
    if not body.strip():
        raise ApplicationError(_("Describe what happened."), code="required", field="body")
    message_clean(body)
    evidence_count_check(evidence)
    if priority is not None and priority not in Ticket.Priority.values:
        raise ApplicationError(_("Unknown priority."), code="invalid_priority", field="priority")

    if follows is not None and follows.status != Status.CLOSED:
        raise ApplicationError(_("Only a closed complaint can be followed up."), code="follows_open")
    with evidence_staged(evidence, now=now) as staged, transaction.atomic():
        return _ticket_create(
            category=category,
            subject=subject,
            body=body,
            requester_name=requester_name,
            requester_email=requester_email,
            requester_phone=requester_phone,
            channel=channel,
            merchant=merchant,
            order_number=order_number,
            language=language,
            priority=priority,
            author=author,
            follows=follows,
            staged=staged,
            now=now,
        )


def _ticket_create(*, category: Category, body: str, priority: str | None, author, staged, now, **fields) -> Ticket:
    ticket = Ticket.objects.create(
        reference=reference_next(now),
        subject=fields["subject"].strip()[:200],
        requester_name=fields["requester_name"].strip()[:100],
        requester_email=fields["requester_email"],
        requester_phone=fields["requester_phone"],
        language=fields["language"] or settings.LANGUAGE_CODE,
        channel=fields["channel"],
        category=category,
        priority=priority or category.default_priority,
        team_id=category.team_id,
        merchant=fields["merchant"],
        order_number=fields["order_number"].strip(),
        follows=fields["follows"],
        created_at=now,
    )
    message = Message.objects.create(ticket=ticket, author_kind=Message.AuthorKind.CONSUMER, body=body, created_at=now)
    evidence_record(ticket=ticket, message=message, staged=staged, now=now)
    work = Work(ticket=ticket, now=now, actor=author)
    data = {"channel": ticket.channel, "priority": ticket.priority}
    if ticket.follows_id:
        data["follows"] = ticket.follows.reference
    work.event(EventKind.CREATED, data=data)
    _keyword_alert(work, f"{ticket.subject}\n{body}")
    first = work.open_target(Kind.FIRST_RESPONSE)
    work.open_target(Kind.RESOLUTION)
    if ticket.requester_email:
        work.notify(
            "ticket_received",
            ticket.requester_email,
            language=ticket.language,
            name=ticket.requester_name,
            due=first.due_at,
            tracking_url=tracking_url(ticket),
        )
    work.commit()
    return ticket


def _keyword_alert(work: Work, text: str) -> None:
    """Flag the ticket for each alert word in ``text``, raise it to urgent and
    tell the supervisors (before its targets open, so they run as urgent)."""
    words = keywords_in(text)
    if not words:
        return
    t = work.ticket
    KeywordHit.objects.bulk_create([KeywordHit(ticket=t, keyword=w, created_at=work.now) for w in words])
    work.set(is_flagged=True)
    found = [w.word for w in words]
    work.event(EventKind.KEYWORD_ALERT, data={"words": found})
    if t.priority != Ticket.Priority.URGENT:
        recompute_for_priority(work, Ticket.Priority.URGENT, reason="keyword")
    supervisors = supervisors_by_team([t.team_id]).get(t.team_id, [])
    work.notify_staff("keyword_alert", supervisors, words=", ".join(found))
