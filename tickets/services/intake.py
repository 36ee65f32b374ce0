"""Filing a ticket: the one intake every channel goes through — the consumer's
web form, the phone call an agent logs, the staff API, and the mail and chat
channels to come.

Every rule of what a complaint may hold is applied here: the requester's name,
the contact (a phone number in E.164, :mod:`tickets.phones`, or an email
address), the order number, the message's length and the evidence files
(:mod:`tickets.rules`), the priority, and what a follow-up keeps of the closed
complaint it continues. A door translates what it received into these
arguments and shows the ApplicationError raised here next to its own field
(``error.field``); forms call the same rules early only to show every problem
at once. The shop a complaint is about is looked up by
``tickets.selectors.merchant_for_shop``, the same for every door."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cs_desk.exceptions import ApplicationError
from tickets import events
from tickets.evidence import evidence_record, evidence_staged
from tickets.models import Category, Message, SLATarget, Ticket
from tickets.notifications import category_guidance, tracking_url
from tickets.phones import phone_normalise
from tickets.rules import (
    contact_check,
    email_clean,
    evidence_count_check,
    message_clean,
    order_number_clean,
    requester_name_clean,
)
from tickets.services.alerts import ticket_keyword_alert
from tickets.services.changes import assign, assignee_check
from tickets.services.work import Work, reference_next
from tickets.uploads import CleanFile

Status = Ticket.Status
Kind = SLATarget.Kind

REQUESTER_FIELDS = ("requester_name", "requester_phone", "requester_email")


# --- The requester ----------------------------------------------------------------


def requester_kept(*, follows: Ticket | None, requester: dict[str, str]) -> dict[str, str]:
    """``requester`` (any of ``REQUESTER_FIELDS``) with what a follow-up keeps:
    the closed complaint's name, phone and email for each one left empty."""
    if follows is None:
        return requester
    return {name: value if value.strip() else getattr(follows, name) for name, value in requester.items()}


def requester_clean(*, name: str, phone: str, email: str, follows: Ticket | None = None) -> dict[str, str]:
    """Who filed and how to reach them, as stored: the phone in E.164, the email
    trimmed, what a follow-up left empty taken from the closed complaint (kept
    as it was stored), then a name and a phone number or an email address are
    required."""
    typed = {
        "requester_name": name or "",
        "requester_phone": phone_normalise(phone),
        "requester_email": email_clean(email),
    }
    requester = requester_kept(follows=follows, requester=typed)
    requester["requester_name"] = requester_name_clean(requester["requester_name"])
    contact_check(phone=requester["requester_phone"], email=requester["requester_email"])
    return requester


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
    mail_thread: str = "",
    now: datetime | None = None,
) -> Ticket:
    """File a ticket: the consumer's first message with its evidence files, and
    the first-response and resolution targets, whose clocks start now.
    ``author`` is the staff member who logged it (a phone call, the API), if
    any; ``follows`` the closed ticket this one continues (its name and contact
    fill those left empty); ``mail_thread`` the Message-ID of the email that
    filed it (our mails to the consumer answer it).

    A complaint taken by phone is assigned to the staff member who took it when
    they may be assigned tickets of its team (the rule of ``ticket_assign``);
    otherwise it waits in the team's queue.

    An alert word in the subject or the message flags the ticket, raises it to
    urgent before its clocks start, and tells the team's supervisors."""
    now = now or timezone.now()
    if follows is not None and follows.status != Status.CLOSED:
        raise ApplicationError(_("Only a closed complaint can be followed up."), code="follows_open")
    requester = requester_clean(name=requester_name, phone=requester_phone, email=requester_email, follows=follows)
    order_number = order_number_clean(order_number)
    if not subject.strip():
        raise ApplicationError(_("Describe the problem in a few words."), code="required", field="subject")
    if not body.strip():
        raise ApplicationError(_("Describe what happened."), code="required", field="body")
    message_clean(body)
    evidence_count_check(evidence)
    if priority is not None and priority not in Ticket.Priority.values:
        raise ApplicationError(_("Unknown priority."), code="invalid_priority", field="priority")

    # The day's number first, in a statement of its own: outside a caller's
    # transaction the counter's row is locked for that statement only, not for
    # the whole filing (other filings of the day queued behind it). A filing that
    # fails after this leaves its number unused, as a sequence would.
    reference = reference_next(now)
    with evidence_staged(evidence, now=now) as staged, transaction.atomic():
        return _ticket_create(
            reference=reference,
            category=category,
            subject=subject,
            body=body,
            **requester,
            channel=channel,
            merchant=merchant,
            order_number=order_number,
            language=language,
            priority=priority,
            author=author,
            follows=follows,
            mail_thread=mail_thread,
            staged=staged,
            now=now,
        )


def _ticket_create(
    *, reference: str, category: Category, body: str, priority: str | None, author, staged, now, **fields
) -> Ticket:
    ticket = Ticket.objects.create(
        reference=reference,
        subject=fields["subject"].strip()[:200],
        requester_name=fields["requester_name"],
        requester_email=fields["requester_email"],
        requester_phone=fields["requester_phone"],
        language=fields["language"] or settings.LANGUAGE_CODE,
        channel=fields["channel"],
        category=category,
        priority=priority or category.default_priority,
        team_id=category.team_id,
        merchant=fields["merchant"],
        order_number=fields["order_number"],
        follows=fields["follows"],
        mail_thread=fields["mail_thread"][:998],
        created_at=now,
    )
    message = Message.objects.create(ticket=ticket, author_kind=Message.AuthorKind.CONSUMER, body=body, created_at=now)
    evidence_record(ticket=ticket, message=message, staged=staged, now=now)
    work = Work(ticket=ticket, now=now, actor=author)
    work.add(events.created(channel=ticket.channel, priority=ticket.priority, follows=ticket.follows))
    ticket_keyword_alert(work, f"{ticket.subject}\n{body}", filing=True)  # before the targets open: urgent ones
    first = work.open_target(Kind.FIRST_RESPONSE)
    work.open_target(Kind.RESOLUTION)
    _phone_call_assign(work)
    if ticket.requester_email:
        work.notify(
            "ticket_received",
            ticket.requester_email,
            language=ticket.language,
            name=ticket.requester_name,
            due=first.due_at,
            tracking_url=tracking_url(ticket),
            guidance=category_guidance(category),
        )
    work.commit()
    return ticket


def _phone_call_assign(work: Work) -> None:
    """A complaint taken by phone goes to the staff member who took it, when the
    ticket may be assigned to them (a member or supervisor of its team, as
    ``ticket_assign`` requires at every door: ``assignee_check``)."""
    t, author = work.ticket, work.actor
    if t.channel != Ticket.Channel.PHONE or author is None or not getattr(author, "pk", None):
        return
    try:
        assignee_check(work, author)
    except ApplicationError:
        return  # a call about another team's category goes to that team's queue, unassigned
    assign(work, author)
