"""The consumer's chat socket (``/ws/chat/<token>/``) and the push that feeds it.

The tracking token is the only key, as on the tracking page: it opens that one
chat, a wrong token is refused at the handshake (HTTP 403) and counted against
the address like a wrong link (``guess_guarded``), and an address over its
limits is refused too. A chat's messages, typing, read marks and state go to
its group (``cs_desk.push.chat_group``), which the consumer's pages and the
agents' workspaces on it join.

Protocol (JSON). The server sends, once open, ``{"type": "hello", "state": …,
"messages": [...]}`` with every public message after ``?after=<id>`` (what the
page has not shown: a reconnect loses nothing), then ``message`` (each new one,
never one already sent on this socket), ``typing`` and ``read`` (the agent's),
``state`` (offered, with an agent, queued, ended; the promised time), ``sent``
(the acknowledgement of a message, by its key) and ``error``. It takes
``{"type": "message", "body", "key"}`` (the key makes a resend after a dropped
connection harmless), ``{"type": "typing"}`` and ``{"type": "read", "upto": id}``.
Pictures go through the page's upload (``complaints.chat``), with the evidence checks."""

from __future__ import annotations

import logging

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from cs_desk.bulk import ids_any
from cs_desk.exceptions import ApplicationError
from cs_desk.push import chat_group, db_call, groups_send, typing_due
from cs_desk.ratelimit import (
    GuessesExceeded,
    guess_guarded,
    rate_limit_hit,
    rate_limited_text,
    rate_limits_check,
    rate_limits_count,
    socket_client_ip,
)
from tickets.chats import chat_lines, chat_messages, chat_state_payload
from tickets.models import Chat, Ticket, TicketEvent
from tickets.selectors import ticket_for_token
from tickets.services.chat import chat_consumer_send, chat_read

logger = logging.getLogger(__name__)

# Events after which each side is sent the chat's state again (not a target's: the
# promised time a page shows is the one it was loaded with, or the state's last).
STATE_EVENTS = {
    TicketEvent.Kind.CHAT_OFFERED,
    TicketEvent.Kind.CHAT_ACCEPTED,
    TicketEvent.Kind.CHAT_QUEUED,
    TicketEvent.Kind.CHAT_ENDED,
    TicketEvent.Kind.STATUS_CHANGED,
}
MESSAGE_EVENTS = {
    TicketEvent.Kind.CONSUMER_MESSAGE,
    TicketEvent.Kind.PUBLIC_REPLY,
    TicketEvent.Kind.MERCHANT_REPLIED,
}


def _opening(token: str, address: str) -> Ticket | None:
    """The chat ``token`` opens for ``address``, or None: a wrong token (counted as
    a guess), an address refused for guessing or over its connection limit, a
    ticket that is not a chat."""
    if not rate_limit_hit("socket_ip", address).allowed:
        return None
    try:
        ticket = guess_guarded("token_guess", address, lambda: ticket_for_token(token=token))
    except GuessesExceeded:
        return None
    if ticket is None or not Chat.objects.filter(ticket=ticket).exists():
        return None
    return ticket


def _hello(ticket: Ticket, after: int) -> dict:
    messages = chat_messages(ticket=ticket, after=after)
    return {"type": "hello", "state": chat_state_payload(ticket=ticket), "messages": messages}


def _send(ticket: Ticket, address: str, body, key) -> dict:
    """Store the consumer's message (or find it, sent before with the same key); the
    answer for the socket. The push brings the message itself."""
    if not isinstance(body, str) or not isinstance(key, str):
        return {"type": "error", "code": "invalid", "key": key if isinstance(key, str) else ""}
    limits = [("chat_ip", address), ("chat_ticket", ticket.tracking_token)]
    verdict = rate_limits_check(limits)
    if not verdict.allowed:
        return {"type": "error", "code": "rate_limited", "message": rate_limited_text(verdict), "key": key}
    try:
        message, new = chat_consumer_send(ticket=ticket, body=body, client_key=key)
    except ApplicationError as error:
        return {"type": "error", "code": error.code, "message": str(error.message), "key": key}
    if new:
        rate_limits_count(limits)
    return {"type": "sent", "key": key, "id": message.pk}


def _read(ticket: Ticket, upto: int) -> bool:
    return chat_read(ticket=ticket, side="consumer", upto=upto)


class ChatSocket(AsyncJsonWebsocketConsumer):
    """One consumer page's socket on one chat."""

    async def connect(self) -> None:
        self.address = socket_client_ip(self.scope)
        token = self.scope["url_route"]["kwargs"]["token"]
        ticket = await db_call(_opening)(token, self.address)
        if ticket is None:
            await self.close()  # refused at the handshake: 403
            return
        self.ticket = ticket
        self.group = chat_group(ticket.pk)
        self.sent_ids: set[int] = set()
        await self.channel_layer.group_add(self.group, self.channel_name)  # before reading: nothing falls between
        await self.accept()
        hello = await db_call(_hello)(ticket, _after(self.scope))
        self.sent_ids.update(m["id"] for m in hello["messages"])
        await self.send_json(hello)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "message":
            answer = await db_call(_send)(self.ticket, self.address, content.get("body"), content.get("key", ""))
            await self.send_json(answer)
        elif kind == "typing" and typing_due(self):
            await self.channel_layer.group_send(self.group, {"type": "chat.typing", "side": "consumer"})
        elif kind == "read" and isinstance(content.get("upto"), int):
            upto = content["upto"]
            if await db_call(_read)(self.ticket, upto):
                await self.channel_layer.group_send(self.group, {"type": "chat.read", "side": "consumer", "upto": upto})

    # Group messages (cs_desk.push.chat_group).

    async def chat_message(self, event: dict) -> None:
        for message in event["messages"]:
            if message["id"] not in self.sent_ids:
                self.sent_ids.add(message["id"])
                await self.send_json({"type": "message", "message": message})

    async def chat_typing(self, event: dict) -> None:
        if event["side"] != "consumer":
            await self.send_json({"type": "typing", "side": event["side"]})

    async def chat_read(self, event: dict) -> None:
        if event["side"] != "consumer":
            await self.send_json({"type": "read", "side": event["side"], "upto": event["upto"]})

    async def chat_state(self, event: dict) -> None:
        await self.send_json({"type": "state", "state": event["state"]})


def _after(scope: dict) -> int:
    for pair in (scope.get("query_string") or b"").decode("latin-1").split("&"):
        name, _sep, value = pair.partition("=")
        if name == "after" and value.isdigit() and len(value) < 19:
            return int(value)
    return 0


def chat_push(event_ids: list[int]) -> None:
    """After a commit: each chat's new public messages and, after a change of its
    state, the state, to the chat's group (an events consumer, see
    ``tickets.events``). Only tickets with a chat; a lost push costs the page
    nothing the next connection does not bring back."""
    rows = list(
        TicketEvent.objects.filter(
            pk__in=ids_any(event_ids), kind__in=MESSAGE_EVENTS | STATE_EVENTS, ticket__chat__isnull=False
        ).values_list("ticket_id", "kind", "data")
    )
    if not rows:
        return
    messages = []
    message_ids = [data.get("message") for _pk, kind, data in rows if kind in MESSAGE_EVENTS]
    for ticket_id, lines in (chat_lines(message_ids=message_ids) if message_ids else {}).items():
        messages.append((chat_group(ticket_id), {"type": "chat.message", "messages": lines}))
    changed = {pk for pk, kind, _data in rows if kind in STATE_EVENTS}
    for ticket in Ticket.objects.filter(pk__in=changed).select_related("merchant"):
        messages.append((chat_group(ticket.pk), {"type": "chat.state", "state": chat_state_payload(ticket=ticket)}))
    groups_send(messages)
