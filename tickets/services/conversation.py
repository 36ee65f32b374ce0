"""The conversation: replies, internal notes and the consumer's messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cs_desk.exceptions import InvalidTransition
from tickets import events
from tickets.evidence import evidence_record, evidence_staged
from tickets.models import Chat, Message, SLATarget, Ticket
from tickets.notifications import tracking_url
from tickets.rules import evidence_count_check, message_clean
from tickets.services.alerts import ticket_keyword_alert
from tickets.services.changes import change_status, reopen
from tickets.services.work import Work
from tickets.targets import RESPONSE_KINDS
from tickets.uploads import CleanFile

Status = Ticket.Status
Kind = SLATarget.Kind


# --- Conversation ---------------------------------------------------------------


def _chatting(ticket: Ticket) -> bool:
    """A live chat not ended: both sides read each message as it comes (and the SLA
    ladder alerts if one goes unanswered), so no email goes out per message."""
    return (
        ticket.channel == Ticket.Channel.CHAT
        and Chat.objects.filter(ticket=ticket).exclude(state=Chat.State.ENDED).exists()
    )


def ticket_reply(
    *,
    ticket: Ticket,
    author,
    body: str,
    public: bool = True,
    evidence: Sequence[CleanFile] = (),
    now: datetime | None = None,
) -> Message:
    """An agent's public reply or internal note, perhaps with files (a picture
    the consumer sent in a chat, a courier's receipt). A public reply meets the
    response owed (first or next); a note changes nothing on the clock."""
    message_clean(body)
    evidence_count_check(evidence)
    # The files are staged under the month they arrive; the reply takes its instant
    # once it holds the ticket's lock (Work.lock), so that a sweep holding the lock
    # meanwhile and the reply agree on whether the target was met in time.
    with evidence_staged(evidence, now=now or timezone.now()) as staged, transaction.atomic():
        return _ticket_reply(ticket=ticket, author=author, body=body, public=public, staged=staged, now=now)


def _ticket_reply(*, ticket: Ticket, author, body: str, public: bool, staged, now: datetime | None) -> Message:
    work = Work.lock(ticket, now=now, actor=author, related=())
    t = work.ticket
    if t.status == Status.CLOSED:
        raise InvalidTransition(_("This ticket is closed."))
    message = Message.objects.create(
        ticket=t, author_kind=Message.AuthorKind.AGENT, author=author, body=body, is_public=public, created_at=work.now
    )
    evidence_record(ticket=t, message=message, staged=staged, now=work.now)
    if not public:
        work.add(events.internal_note(message=message))
        work.commit()
        return message
    work.add(events.public_reply(message=message))
    for target in work.active(*RESPONSE_KINDS):
        work.close_target(target, SLATarget.Status.MET)
    if t.first_responded_at is None:
        work.set(first_responded_at=work.now)
    if t.status == Status.NEW:
        work.set(status=Status.OPEN)
        work.add(events.status_changed(old=Status.NEW, new=Status.OPEN))
    if t.requester_email and not _chatting(t):
        work.notify(
            "agent_replied",
            t.requester_email,
            language=t.language,
            name=t.requester_name,
            body=body,
            tracking_url=tracking_url(t),
        )
    work.commit()
    return message


def ticket_consumer_message(
    *,
    ticket: Ticket,
    body: str,
    evidence: Sequence[CleanFile] = (),
    client_key: str = "",
    now: datetime | None = None,
) -> Message:
    """The consumer writes again, perhaps with more evidence. A reply is owed (a
    next-response target opens unless one is already running); a pending ticket
    resumes; a resolved one reopens. An alert word not alerted on this ticket
    today flags it, raises it to urgent and tells the supervisors
    (``ticket_keyword_alert``): the targets this message opens run as urgent,
    those already running keep their deadlines. ``client_key``: the chat
    client's name for the message (unique per ticket: a resend fails)."""
    message_clean(body)
    evidence_count_check(evidence)
    with evidence_staged(evidence, now=now or timezone.now()) as staged, transaction.atomic():
        work = Work.lock(ticket, now=now, related=())  # the instant is taken once the lock is held
        t = work.ticket
        if t.status == Status.CLOSED:
            raise InvalidTransition(_("This ticket is closed. Please file a new complaint."), code="ticket_closed")
        message = Message.objects.create(
            ticket=t, author_kind=Message.AuthorKind.CONSUMER, body=body, created_at=work.now, client_key=client_key
        )
        attachments = evidence_record(ticket=t, message=message, staged=staged, now=work.now)
        work.add(events.consumer_message(message=message, files=len(attachments)))
        ticket_keyword_alert(work, body)
        if t.status == Status.RESOLVED:
            reopen(work)
        elif t.status == Status.PENDING:
            change_status(work, Status.OPEN)
        if not work.active(*RESPONSE_KINDS):
            work.open_target(Kind.NEXT_RESPONSE)
        if not _chatting(t):
            work.notify_staff("consumer_replied", [t.assignee], body=body)
        work.commit()
    return message


@transaction.atomic
def ticket_unverified_note(*, ticket: Ticket, sender: str, reason: str, body: str, now: datetime | None = None):
    """A message that may not speak for the party it claims (an email whose
    sender does not fit the signed address it came to, or whose SPF, DKIM or
    DMARC failed): kept on the ticket as an internal note for an agent to read,
    never shown to the consumer and never counted as anyone's reply (no clock
    changes). ``reason`` is said in the note, in the site's language."""
    work = Work.lock(ticket, now=now)
    heading = _("Unverified email from %(sender)s (%(reason)s): not posted as the consumer's or the merchant's.") % {
        "sender": sender,
        "reason": reason,
    }
    message = Message.objects.create(
        ticket=work.ticket,
        author_kind=Message.AuthorKind.SYSTEM,
        body=f"{heading}\n\n{body}",
        is_public=False,
        created_at=work.now,
    )
    work.add(events.internal_note(message=message))
    work.commit()
    return message
