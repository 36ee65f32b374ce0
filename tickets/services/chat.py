"""Live chat: a chat is a ticket on the chat channel, filed through the one intake
(``ticket_create``), whose state (who it is offered to, who took it, what each
side has read) is kept in a ``Chat`` row beside it.

Routing. A new chat is offered to the available agent of its team (a member or
supervisor who said they are online, below their capacity) with the fewest
chats (connected, or offered and not yet answered); of those equally loaded,
the one offered a chat longest ago. An offer not accepted within
``CHAT_OFFER_TIMEOUT_S`` passes to the next agent (``chat_offers_expire``,
every second from beat); an agent who let it pass is not offered it again.
With nobody left it waits in the team's queue, where any agent of the team may
take it, and is offered again as soon as someone is free.

No agent available when the chat starts: the consumer is told so and the chat
is filed on the channel "chat, left as a message", which the chat's policy of
minutes does not match: it continues as an ordinary ticket, with the category's
promise.

Lock order: the ticket (``Work.lock``), then its chat, then the agents'
availability rows (by user id)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cs_desk.exceptions import ApplicationError
from tickets import events
from tickets.access import assignable_users, can_work
from tickets.models import AgentAvailability, Category, Chat, Message, Ticket
from tickets.services.changes import assign, assignee_check
from tickets.services.conversation import ticket_consumer_message
from tickets.services.intake import ticket_create
from tickets.services.work import Work
from tickets.uploads import CleanFile

State = Chat.State
Online = AgentAvailability.Status.ONLINE
SUBJECT_CHARS = 60
CLIENT_KEY_CHARS = 40
_NEVER = datetime.min.replace(tzinfo=UTC)


# --- Availability -----------------------------------------------------------------


def availability_set(
    *, user, status: str, capacity: int | None = None, now: datetime | None = None
) -> AgentAvailability:
    """``user`` says they are online, away or offline (and, if given, how many chats
    they take at once, 1–20). Only those who work tickets take chats. Going away
    or offline keeps the chats in hand; no new one is offered."""
    if not can_work(user):
        raise ApplicationError(_("Only agents and supervisors take chats."), code="not_an_agent")
    if status not in AgentAvailability.Status.values:
        raise ApplicationError(_("Unknown availability."), code="invalid_status", field="status")
    if capacity is not None and not 1 <= capacity <= 20:
        raise ApplicationError(_("Take between 1 and 20 chats at once."), code="invalid_capacity", field="capacity")
    now = now or timezone.now()
    with transaction.atomic():
        row, _created = AgentAvailability.objects.select_for_update().get_or_create(user=user)
        fields = []
        if row.status != status:
            row.status, row.changed_at = status, now
            fields += ["status", "changed_at"]
        if capacity is not None and row.capacity != capacity:
            row.capacity = capacity
            fields.append("capacity")
        if fields:
            row.save(update_fields=fields)
    return row


def agent_loads(user_ids: Sequence[int]) -> dict[int, int]:
    """How many chats each agent has in hand: connected, or offered and unanswered."""
    loads = dict.fromkeys(user_ids, 0)
    connected = Chat.objects.filter(state=State.CONNECTED, agent_id__in=user_ids)
    offered = Chat.objects.filter(state=State.OFFERED, offered_to_id__in=user_ids)
    for rows, key in ((connected, "agent_id"), (offered, "offered_to_id")):
        for user_id, count in rows.values(key).annotate(n=Count("pk")).values_list(key, "n"):
            loads[user_id] += count
    return loads


def _free_agents(team_id: int, *, passed: Sequence[int] = (), lock: bool) -> list[tuple[AgentAvailability, int]]:
    """The online agents of the team with room for one more chat, with their load,
    best first: fewest chats, then longest since their last offer."""
    staff = assignable_users(None, Ticket(team_id=team_id)).values("pk")
    rows = AgentAvailability.objects.filter(status=Online, user__in=staff).exclude(user_id__in=list(passed))
    if lock:
        rows = rows.select_for_update(of=("self",))
    rows = list(rows.order_by("user_id"))
    loads = agent_loads([r.user_id for r in rows])
    free = [(r, loads[r.user_id]) for r in rows if loads[r.user_id] < r.capacity]
    return sorted(free, key=lambda pair: (pair[1], pair[0].last_offered_at or _NEVER, pair[0].user_id))


def chat_staffed(*, category: Category) -> bool:
    """Whether an agent of the category's team could take a chat now (for the
    page that starts one; the start decides again under lock)."""
    return bool(_free_agents(category.team_id, lock=False))


# --- Starting and routing -----------------------------------------------------------


def chat_start(
    *,
    category: Category,
    body: str,
    requester_name: str,
    requester_phone: str = "",
    requester_email: str = "",
    merchant=None,
    order_number: str = "",
    language: str | None = None,
    evidence: Sequence[CleanFile] = (),
    now: datetime | None = None,
) -> Ticket:
    """Start a chat: the ticket (the one intake, its rules and evidence checks),
    its chat, and the offer to the best agent available, or, with nobody
    available, a ticket on the channel "chat, left as a message"."""
    now = now or timezone.now()
    subject = " ".join(body.split())[:SUBJECT_CHARS] or str(category)
    with transaction.atomic():
        free = _free_agents(category.team_id, lock=True)
        ticket = ticket_create(
            category=category,
            subject=subject,
            body=body,
            requester_name=requester_name,
            requester_phone=requester_phone,
            requester_email=requester_email,
            channel=Ticket.Channel.CHAT if free else Ticket.Channel.CHAT_LEFT,
            merchant=merchant,
            order_number=order_number,
            language=language,
            evidence=evidence,
            now=now,
        )
        work = Work.lock(ticket, now=now)
        chat = Chat(ticket=work.ticket, state=State.QUEUED, started_at=now)
        if free:
            _offer(work, chat, free[0][0])
        else:
            work.add(events.chat_queued(reason="nobody_available"))
        chat.save()
        work.commit()
    return ticket


def _offer(work: Work, chat: Chat, agent: AgentAvailability) -> None:
    expires = work.now + timedelta(seconds=settings.CHAT_OFFER_TIMEOUT_S)
    chat.state, chat.offered_to_id, chat.offer_expires_at = State.OFFERED, agent.user_id, expires
    agent.last_offered_at = work.now
    agent.save(update_fields=["last_offered_at"])
    work.add(events.chat_offered(agent_id=agent.user_id, expires_at=expires))


def _route_next(work: Work, chat: Chat) -> None:
    """Offer the chat to the next free agent it has not passed, or queue it."""
    free = _free_agents(work.ticket.team_id, passed=chat.passed, lock=True)
    if free:
        _offer(work, chat, free[0][0])
        return
    chat.state, chat.offered_to_id, chat.offer_expires_at = State.QUEUED, None, None
    work.add(events.chat_queued(reason="nobody_available"))


def _pass(work: Work, chat: Chat, *, reason: str) -> None:
    agent_id = chat.offered_to_id
    chat.passed = [*chat.passed, agent_id]
    work.add(events.chat_passed(agent_id=agent_id, reason=reason))
    _route_next(work, chat)


def _locked(ticket: Ticket, *, now: datetime | None, actor=None) -> tuple[Work, Chat]:
    work = Work.lock(ticket, now=now, actor=actor)
    chat = Chat.objects.select_for_update().filter(ticket=work.ticket).first()
    if chat is None:
        raise ApplicationError(_("This ticket is not a chat."), code="not_a_chat")
    return work, chat


def chat_accept(*, ticket: Ticket, agent, now: datetime | None = None) -> Chat:
    """``agent`` takes the chat: one offered to them and not lapsed, or one
    waiting in the queue of a team they work for. The ticket is assigned to them."""
    with transaction.atomic():
        work, chat = _locked(ticket, now=now, actor=agent)
        offered = chat.state == State.OFFERED and chat.offered_to_id == agent.pk and work.now <= chat.offer_expires_at
        if not (offered or chat.state == State.QUEUED):
            raise ApplicationError(_("This chat is no longer offered to you."), code="offer_gone")
        assignee_check(work, agent)
        assign(work, agent)
        chat.state, chat.agent, chat.accepted_at = State.CONNECTED, agent, work.now
        chat.offered_to_id = chat.offer_expires_at = None
        work.add(events.chat_accepted(agent_id=agent.pk))
        chat.save()
        work.commit()
    return chat


def chat_decline(*, ticket: Ticket, agent, now: datetime | None = None) -> Chat:
    """``agent`` lets the chat offered to them pass: it goes to the next agent."""
    with transaction.atomic():
        work, chat = _locked(ticket, now=now, actor=agent)
        if chat.state != State.OFFERED or chat.offered_to_id != agent.pk:
            raise ApplicationError(_("This chat is no longer offered to you."), code="offer_gone")
        _pass(work, chat, reason="declined")
        chat.save()
        work.commit()
    return chat


def chat_end(*, ticket: Ticket, actor, now: datetime | None = None) -> Chat:
    """The agent ends the chat: it stops counting toward their load (the ticket's
    status is theirs to set). A resolved or closed ticket ends its chat too."""
    with transaction.atomic():
        work, chat = _locked(ticket, now=now, actor=actor)
        if chat.state == State.ENDED:
            return chat
        chat.state, chat.ended_at = State.ENDED, work.now
        chat.offered_to_id = chat.offer_expires_at = None
        work.add(events.chat_ended())
        chat.save()
        work.commit()
    return chat


def chat_offers_expire(*, now: datetime | None = None, limit: int = 200) -> int:
    """Every second: each offer past its time passes to the next agent, and each
    live chat waiting in a queue is offered to an agent who has come free. Bounded;
    each chat under its ticket's lock, taken before the chat's as by every change
    (an agent accepting at the same instant waits, or is waited for). Returns how
    many chats moved."""
    now = now or timezone.now()
    lapsed = list(
        Chat.objects.filter(state=State.OFFERED, offer_expires_at__lte=now)
        .order_by("offer_expires_at")
        .values_list("ticket_id", flat=True)[:limit]
    )
    waiting = list(
        Chat.objects.filter(state=State.QUEUED, ticket__channel=Ticket.Channel.CHAT)
        .order_by("started_at")
        .values_list("ticket_id", "ticket__team_id")[:limit]
    )
    moved = sum(_expire_one(pk, now) for pk in lapsed)
    free_teams: dict[int, bool] = {}
    for pk, team_id in waiting:
        if free_teams.setdefault(team_id, bool(_free_agents(team_id, lock=False))):
            moved += _requeue_one(pk, now)
    return moved


def _expire_one(ticket_id: int, now: datetime) -> int:
    with transaction.atomic():
        work, chat = _locked(Ticket(pk=ticket_id), now=now)  # the ticket first, as every change does
        if chat.state != State.OFFERED or chat.offer_expires_at > now:
            return 0  # taken, passed or offered again meanwhile
        _pass(work, chat, reason="lapsed")
        chat.save()
        work.commit()
    return 1


def _requeue_one(ticket_id: int, now: datetime) -> int:
    with transaction.atomic():
        work, chat = _locked(Ticket(pk=ticket_id), now=now)
        if chat.state != State.QUEUED:
            return 0
        free = _free_agents(work.ticket.team_id, passed=chat.passed, lock=True)
        if not free:
            return 0
        _offer(work, chat, free[0][0])
        chat.save()
        work.commit()
    return 1


# --- The conversation ----------------------------------------------------------------


def chat_consumer_send(
    *, ticket: Ticket, body: str, client_key: str = "", evidence: Sequence[CleanFile] = ()
) -> tuple[Message, bool]:
    """The consumer writes in the chat (``ticket_consumer_message``: the same rules
    as every door, and the evidence checks for a picture). ``client_key`` names the message on the consumer's device: a
    message sent again after a dropped connection is stored once. Returns the
    message and whether it is new. An ended chat takes no more messages."""
    if len(client_key) > CLIENT_KEY_CHARS or not all(c.isalnum() or c in "-_" for c in client_key):
        raise ApplicationError(_("Invalid message key."), code="invalid_key", field="client_key")
    state = Chat.objects.filter(ticket=ticket).values_list("state", flat=True).first()
    if state is None:
        raise ApplicationError(_("This ticket is not a chat."), code="not_a_chat")
    if state == State.ENDED:
        raise ApplicationError(_("This chat has ended."), code="chat_ended")
    try:
        return ticket_consumer_message(ticket=ticket, body=body, evidence=evidence, client_key=client_key), True
    except IntegrityError:  # sent before (a resend after a dropped connection): stored once
        if not client_key:
            raise
        return Message.objects.get(ticket=ticket, client_key=client_key), False


def chat_read(*, ticket: Ticket, side: str, upto: int) -> bool:
    """``side`` ("consumer" or "agent") has read the chat up to message ``upto``.
    The mark only moves forward; returns whether it moved."""
    field = {"consumer": "consumer_read_upto", "agent": "agent_read_upto"}[side]
    last = Message.objects.filter(ticket=ticket, is_public=True).order_by("-id").values_list("pk", flat=True).first()
    upto = min(upto, last or 0)  # never past what was written
    return bool(Chat.objects.filter(ticket=ticket, **{f"{field}__lt": upto}).update(**{field: upto}))
