"""The live desk. Every desk page holds a WebSocket (``/ws/desk/``) on which the
server says, as soon as it is committed:

* which tickets changed: the queue fetches its rows again, the workspace of a
  changed ticket says so. Only ticket numbers, and only to those who may see
  those tickets (``tickets.access.ticket_scope``): the ticket's team, its
  assignee, and those who see every ticket. The page fetches what it shows
  through the ordinary views and their access rule;
* a breach or escalation, to the people it alerts (``tickets.staff_alerts``):
  the ticket's reference and subject, for the notice;
* who is writing on the ticket a workspace watches (the collision warning), to
  the pages watching it, each checked against ``ticket_for_staff``;
* a chat offered to the agent (accept or let pass), and its withdrawal;
* on a workspace watching a chat: its messages, the consumer's typing and read
  mark, and the chat's state, from the chat's group (``complaints.live``); the
  agent writes, types and reads on the same socket.

Who hears of a change is decided by the groups a socket joins when it opens
(a team's, the user's own, or everything's); a change of team membership takes
effect at the next connection (a page load or a reconnect). The queue's 30 s
refresh and the reply box's 10 s beat stay as the fallbacks while the socket is down.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.db.models import Case, F, JSONField, When

from cs_desk.bulk import ids_any
from cs_desk.exceptions import ApplicationError
from cs_desk.push import db_call, typing_due
from cs_desk.ratelimit import rate_limit_hit
from desk.groups import EVERYTHING, chat_group, groups_send, team_group, ticket_group, user_group
from desk.presence import presence_writers
from tickets.access import can_work, is_staff_user, sees_everything, ticket_for_staff, user_team_ids
from tickets.chats import chat_messages, chat_state_payload
from tickets.models import StaffAlert, Ticket, TicketEvent
from tickets.services import ticket_reply
from tickets.services.chat import chat_read
from tickets.staff_alerts import ALERTED, staff_alerts_unseen

logger = logging.getLogger(__name__)

# Close codes (4000–4999 are the application's). A user who may not use the desk is
# refused at the handshake (the client sees HTTP 403); one over the connection limit
# is accepted and closed at once with TOO_MANY, on which the page waits a minute.
TOO_MANY = 4429


def _watch(user, ticket_id: int, after: int) -> tuple[bool, dict | None]:
    """Whether ``user`` may watch the ticket and, for a chat, what the workspace
    has not shown yet: its state and the messages after ``after``."""
    ticket = ticket_for_staff(user, ticket_id, related=False)
    if ticket is None:
        return False, None
    state = chat_state_payload(ticket=ticket)
    if state is None:
        return True, None
    messages = chat_messages(ticket=ticket, after=after)
    return True, {"type": "chat", "ticket": ticket_id, "state": state, "messages": messages}


def _chat_send(user, ticket_id: int, body, key) -> dict:
    """The agent's public reply in a chat (``ticket_reply``: the rules of every door)."""
    ticket = ticket_for_staff(user, ticket_id, related=False)
    if ticket is None or not can_work(user):
        return {"type": "chat.error", "key": key, "code": "forbidden"}
    if not isinstance(body, str):
        return {"type": "chat.error", "key": key, "code": "invalid"}
    try:
        message = ticket_reply(ticket=ticket, author=user, body=body, public=True)
    except ApplicationError as error:
        return {"type": "chat.error", "key": key, "code": error.code, "message": str(error.message)}
    return {"type": "chat.sent", "key": key, "id": message.pk}


def _chat_read(user, ticket_id: int, upto: int) -> bool:
    ticket = ticket_for_staff(user, ticket_id, related=False)
    return ticket is not None and can_work(user) and chat_read(ticket=ticket, side="agent", upto=upto)


def desk_groups(user) -> list[str] | None:
    """The groups ``user``'s desk socket joins, or None when the user may not use
    the desk: the same rule as the tickets a staff member may see."""
    if not is_staff_user(user):
        return None
    if sees_everything(user):
        return [EVERYTHING, user_group(user.pk)]
    return [*(team_group(pk) for pk in user_team_ids(user)), user_group(user.pk)]


def _opening(user) -> tuple[list[str] | None, bool, int]:
    """The socket's groups, whether this connection is within the rate limit, and
    the user's unread alerts (the header's count: counted here, not on every page)."""
    groups = desk_groups(user)
    allowed = groups is not None and rate_limit_hit("socket_user", str(user.pk)).allowed
    return groups, allowed, staff_alerts_unseen(user) if allowed else 0


class DeskSocket(AsyncJsonWebsocketConsumer):
    """One desk page's socket. Sends, once open, ``{"type": "alerts", "unseen": n}``;
    then ``{"type": "tickets", "ids": [...]}``; to the people a breach or escalation
    alerts, ``{"type": "alert", "ticket", "reference", "subject", "kind", "count"}``
    (the latest of ``count`` new alerts of one commit); to the
    pages watching a ticket, ``{"type": "writers", "ticket", "writers": [{"id", "name"}]}``.
    Takes ``{"type": "watch", "ticket": id}``."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        groups, allowed, unseen = await db_call(_opening)(user) if user else (None, False, 0)
        if groups is None:
            await self.close()  # refused at the handshake: 403
            return
        if not allowed:
            await self.accept()  # so that the page reads the code, and waits
            await self.close(code=TOO_MANY)
            return
        self.joined = groups
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "alerts", "unseen": unseen})

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        await self._unwatch()

    async def receive_json(self, content, **kwargs) -> None:
        """``{"type": "watch", "ticket": id, "after": id}``: the workspace of that
        ticket is open here; who is writing on it is sent now and whenever it
        changes (the collision warning), and for a chat, ``{"type": "chat", "state",
        "messages"}`` (those after ``after``) then each new message, the consumer's
        typing and read mark. Answered ``{"type": "watching", "ticket": id or
        null}``: null for a ticket this user may not see. On a watched chat:
        ``chat.send`` (``body``, ``key``), ``chat.typing``, ``chat.read`` (``upto``).
        Anything else is ignored."""
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "watch":
            await self._watch(content)
        elif kind and kind.startswith("chat.") and getattr(self, "chat", None) is not None:
            await self._chat(kind, content)

    async def _watch(self, content: dict) -> None:
        ticket_id, after = content.get("ticket"), content.get("after")
        after = after if isinstance(after, int) else 0
        allowed, chat = (
            await db_call(_watch)(self.scope["user"], ticket_id, after) if isinstance(ticket_id, int) else (False, None)
        )
        await self._unwatch()
        if not allowed:
            await self.send_json({"type": "watching", "ticket": None})
            return
        self.watching = ticket_id
        await self.channel_layer.group_add(ticket_group(ticket_id), self.channel_name)
        await self.send_json({"type": "watching", "ticket": ticket_id})
        writers = await db_call(presence_writers)(ticket_id=ticket_id)
        await self.send_json({"type": "writers", "ticket": ticket_id, "writers": writers})
        if chat is not None:
            self.chat, self.sent_ids = ticket_id, {m["id"] for m in chat["messages"]}
            await self.channel_layer.group_add(chat_group(ticket_id), self.channel_name)
            await self.send_json(chat)

    async def _unwatch(self) -> None:
        if getattr(self, "watching", None) is not None:
            await self.channel_layer.group_discard(ticket_group(self.watching), self.channel_name)
            self.watching = None
        if getattr(self, "chat", None) is not None:
            await self.channel_layer.group_discard(chat_group(self.chat), self.channel_name)
            self.chat = None

    async def _chat(self, kind: str, content: dict) -> None:
        user = self.scope["user"]
        if kind == "chat.send":
            key = content.get("key") if isinstance(content.get("key"), str) else ""
            answer = await db_call(_chat_send)(user, self.chat, content.get("body"), key)
            await self.send_json(answer)
        elif kind == "chat.typing" and typing_due(self):
            await self.channel_layer.group_send(chat_group(self.chat), {"type": "chat.typing", "side": "agent"})
        elif kind == "chat.read" and isinstance(content.get("upto"), int):
            upto = content["upto"]
            if await db_call(_chat_read)(user, self.chat, upto):
                await self.channel_layer.group_send(
                    chat_group(self.chat), {"type": "chat.read", "side": "agent", "upto": upto}
                )

    async def writers_changed(self, event: dict) -> None:
        await self.send_json({"type": "writers", "ticket": event["ticket"], "writers": event["writers"]})

    async def tickets_changed(self, event: dict) -> None:
        await self.send_json({"type": "tickets", "ids": event["ids"]})

    async def alert_new(self, event: dict) -> None:
        await self.send_json({"type": "alert", **event["alert"]})

    async def offer_new(self, event: dict) -> None:
        await self.send_json({"type": "offer", **event["offer"]})

    async def offer_gone(self, event: dict) -> None:
        await self.send_json({"type": "offer.gone", "ticket": event["ticket"]})

    # The chat's group (complaints.live), while a workspace watches a chat.

    async def chat_message(self, event: dict) -> None:
        for message in event["messages"]:
            if message["id"] not in self.sent_ids:
                self.sent_ids.add(message["id"])
                await self.send_json({"type": "chat.message", "ticket": self.chat, "message": message})

    async def chat_typing(self, event: dict) -> None:
        if event["side"] == "consumer":
            await self.send_json({"type": "chat.typing", "ticket": self.chat})

    async def chat_read(self, event: dict) -> None:
        if event["side"] == "consumer":
            await self.send_json({"type": "chat.read", "ticket": self.chat, "upto": event["upto"]})

    async def chat_state(self, event: dict) -> None:
        await self.send_json({"type": "chat.state", "ticket": self.chat, "state": event["state"]})


# A live chat's lines (and the response targets they open and meet) are news to the
# chat's agent, who has it open, not to the whole team: at 1,000 chats they would
# send every page of the team a refresh many times a second. Any other change to a
# chat (taken, escalated, its status) goes to everyone who may see it, as for any ticket.
CHAT_LINES = {
    TicketEvent.Kind.CONSUMER_MESSAGE,
    TicketEvent.Kind.PUBLIC_REPLY,
    TicketEvent.Kind.TARGET_OPENED,
    TicketEvent.Kind.TARGET_MET,
}


def desk_push(event_ids: list[int]) -> None:
    """Tell the desks that may see them which tickets the events ``event_ids``
    (just committed) changed: one message per group (an events consumer, see
    ``tickets.events``). A lost message costs a page one refresh interval."""
    # The ids as one array (a sweep batch commits thousands of events); the payload
    # only of the chat offers' events, the only ones whose data is read here.
    events = TicketEvent.objects.filter(pk__in=ids_any(event_ids)).annotate(
        offer=Case(When(kind__in=OFFER_KINDS, then=F("data")), output_field=JSONField())
    )
    rows = list(
        events.values_list("ticket_id", "ticket__team_id", "ticket__assignee_id", "kind", "offer", "ticket__channel")
    )
    kinds: dict[int, set[str]] = defaultdict(set)
    for ticket_id, _team, _assignee, kind, _data, _channel in rows:
        kinds[ticket_id].add(kind)
    ids_by_group: dict[str, set[int]] = defaultdict(set)
    alerted = False
    for ticket_id, team_id, assignee_id, kind, _data, channel in rows:
        alerted = alerted or kind in ALERTED  # only then is there an alert to read and send
        if assignee_id is not None:
            ids_by_group[user_group(assignee_id)].add(ticket_id)
            if channel == Ticket.Channel.CHAT and kinds[ticket_id] <= CHAT_LINES:
                continue
        ids_by_group[EVERYTHING].add(ticket_id)
        if team_id is not None:
            ids_by_group[team_group(team_id)].add(ticket_id)
    messages = [(group, {"type": "tickets.changed", "ids": sorted(ids)}) for group, ids in ids_by_group.items()]
    if alerted:
        messages.extend(_alert_messages(event_ids))
    messages.extend(_offer_messages(rows))
    groups_send(messages)


OFFER_ENDS = {TicketEvent.Kind.CHAT_PASSED, TicketEvent.Kind.CHAT_ACCEPTED}
OFFER_KINDS = [TicketEvent.Kind.CHAT_OFFERED, *OFFER_ENDS]


def _offer_messages(rows: list[tuple]) -> list[tuple[str, dict]]:
    """A chat offered to an agent, to that agent's pages (the notice to accept it);
    an offer taken or passed, withdrawn from them."""
    offered = {ticket_id: data for ticket_id, _t, _a, kind, data, _c in rows if kind == TicketEvent.Kind.CHAT_OFFERED}
    messages = [
        (user_group(data["agent"]), {"type": "offer.gone", "ticket": ticket_id})
        for ticket_id, _t, _a, kind, data, _c in rows
        if kind in OFFER_ENDS and data.get("agent")
    ]
    if offered:
        for pk, reference, subject in Ticket.objects.filter(pk__in=offered).values_list("pk", "reference", "subject"):
            data = offered[pk]
            offer = {"ticket": pk, "reference": reference, "subject": subject, "expires_at": data["expires_at"]}
            messages.append((user_group(data["agent"]), {"type": "offer.new", "offer": offer}))
    return messages


def _alert_messages(event_ids: list[int]) -> list[tuple[str, dict]]:
    """One message per alerted person (tickets.staff_alerts wrote the alerts with the
    events): how many, and the latest, for the notice. A sweep that breaches
    thousands of tickets at once sends each supervisor one message, not thousands."""
    latest: dict[int, tuple[int, int, str]] = {}  # user -> (alert id, ticket id, kind)
    counts: dict[int, int] = defaultdict(int)
    for pk, user_id, ticket_id, kind in StaffAlert.objects.filter(event_id__in=ids_any(event_ids)).values_list(
        "pk", "user_id", "ticket_id", "kind"
    ):
        counts[user_id] += 1
        if user_id not in latest or pk > latest[user_id][0]:
            latest[user_id] = (pk, ticket_id, kind)
    if not latest:
        return []
    named = dict(
        (pk, (reference, subject))
        for pk, reference, subject in Ticket.objects.filter(pk__in={t for _a, t, _k in latest.values()}).values_list(
            "pk", "reference", "subject"
        )
    )
    messages = []
    for user_id, (_pk, ticket_id, kind) in latest.items():
        reference, subject = named[ticket_id]
        alert = {
            "ticket": ticket_id,
            "reference": reference,
            "subject": subject,
            "kind": kind,
            "count": counts[user_id],
        }
        messages.append((user_group(user_id), {"type": "alert.new", "alert": alert}))
    return messages
