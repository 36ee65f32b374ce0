"""Reading chats: what a chat's two sides are sent (the same payloads on the
consumer's page and in the agent's workspace), and the supervisors' live view
of who is online, their load and the chats waiting. Writes are in
``tickets.services.chat``."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q
from django.utils import translation

from tickets.access import sees_everything, user_team_ids
from tickets.models import AgentAvailability, Attachment, Chat, Message, Ticket
from tickets.selectors import author_label, public_author_label, ticket_promised
from tickets.services.chat import agent_loads

SIDES = {
    Message.AuthorKind.CONSUMER: "consumer",
    Message.AuthorKind.AGENT: "agent",
    Message.AuthorKind.MERCHANT: "merchant",
    Message.AuthorKind.SYSTEM: "system",
}


def chat_message_payload(message: Message, ticket: Ticket) -> dict:
    """One public message as both sides receive it: who wrote it as the consumer
    reads it, in the consumer's language (never an agent's name), what, when, and
    its files (ids: each side opens them through its own door)."""
    with translation.override(ticket.language):
        author = public_author_label(message, ticket)
    return {
        "id": message.pk,
        "side": SIDES[message.author_kind],
        "author": author,
        "body": message.body,
        "at": message.created_at.isoformat(),
        "files": [{"id": a.pk, "name": a.original_name, "image": a.is_image} for a in message.attachments.all()],
    }


def chat_lines(*, message_ids) -> dict[int, list[dict]]:
    """The payloads of the public messages ``message_ids`` (just written), by ticket:
    read as plain values in two queries, for the push after every line of a chat."""
    rows = (
        Message.objects.filter(pk__in=message_ids, is_public=True)
        .order_by("pk")
        .values_list(
            "pk", "ticket_id", "author_kind", "body", "created_at",
            "author__staff_profile__alias", "ticket__language", "ticket__merchant__name",
        )
    )  # fmt: skip
    files: dict[int, list[dict]] = {}
    attachments = Attachment.objects.filter(message_id__in=message_ids).order_by("id")
    for message_id, pk, name, content_type in attachments.values_list(
        "message_id", "pk", "original_name", "content_type"
    ):
        files.setdefault(message_id, []).append(
            {"id": pk, "name": name, "image": Attachment(content_type=content_type).is_image}
        )
    lines: dict[int, list[dict]] = {}
    for pk, ticket_id, kind, body, created_at, alias, language, shop in rows:
        with translation.override(language):
            author = author_label(kind, alias=alias or "", shop=shop or "")
        payload = {"id": pk, "side": SIDES[kind], "author": author, "body": body, "at": created_at.isoformat()}
        lines.setdefault(ticket_id, []).append(payload | {"files": files.get(pk, [])})
    return lines


def chat_messages(*, ticket: Ticket, after: int = 0, ids=None) -> list[dict]:
    """The chat's public messages after message ``after`` (or those of ``ids``), oldest first."""
    rows = ticket.messages.filter(is_public=True, pk__gt=after)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    rows = rows.select_related("author__staff_profile").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("id"))
    )
    return [chat_message_payload(m, ticket) for m in rows.order_by("id")]


def chat_state_payload(*, ticket: Ticket) -> dict | None:
    """Where the chat stands, for both sides: its state, the agent (as the consumer
    reads them, in their language), when a reply is promised, and each side's read mark. None for a
    ticket that is not a chat."""
    chat = Chat.objects.filter(ticket=ticket).select_related("agent__staff_profile").first()
    if chat is None:
        return None
    response_due, _resolution = ticket_promised(ticket=ticket)
    agent = None
    if chat.agent is not None:
        with translation.override(ticket.language):
            agent = public_author_label(Message(author_kind=Message.AuthorKind.AGENT, author=chat.agent), ticket)
    return {
        "state": chat.state,
        "live": ticket.channel == Ticket.Channel.CHAT,
        "agent": agent,
        "due": response_due.isoformat() if response_due else None,
        "consumer_read": chat.consumer_read_upto,
        "agent_read": chat.agent_read_upto,
        "closed": ticket.status == Ticket.Status.CLOSED,
    }


def chat_board(user) -> dict:
    """The supervisors' live view over the teams ``user`` works for (every team for
    those who see everything): each agent's availability, chats in hand and
    capacity; the live chats waiting for an agent, the longest waiting first."""
    teams = None if sees_everything(user) else user_team_ids(user)
    staff = get_user_model().objects.filter(is_active=True)
    staff = (
        staff.filter(Q(teams__isnull=False) | Q(supervised_teams__isnull=False))
        if teams is None
        else (staff.filter(Q(teams__in=teams) | Q(supervised_teams__in=teams)))
    )
    people = list(staff.distinct().select_related("availability").order_by("username"))
    loads = agent_loads([p.pk for p in people])
    agents = []
    for person in people:
        availability = getattr(person, "availability", None) or AgentAvailability(user=person)
        agents.append({"user": person, "availability": availability, "load": loads[person.pk]})
    order = {AgentAvailability.Status.ONLINE: 0, AgentAvailability.Status.AWAY: 1, AgentAvailability.Status.OFFLINE: 2}
    agents.sort(key=lambda a: (order[a["availability"].status], a["user"].username))
    waiting = Chat.objects.filter(
        state__in=[Chat.State.OFFERED, Chat.State.QUEUED], ticket__channel=Ticket.Channel.CHAT
    ).select_related("ticket", "offered_to")
    if teams is not None:
        waiting = waiting.filter(ticket__team_id__in=teams)
    return {"agents": agents, "waiting": list(waiting.order_by("started_at")[:100])}
