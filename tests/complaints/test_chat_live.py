"""The chat over real WebSockets: the WebSocket server as ``make run`` starts it
(uvicorn, cs_desk.asgi), a WebSocket client as the consumer's chat page (the
tracking token in the path) and another as the agent's desk, with the session
cookie of a signed-in agent. Changes the test makes through the services in this
process reach the sockets through the after-commit push, as in production."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.factories import CategoryFactory, MerchantFactory, MerchantUserFactory, TeamFactory, UserFactory
from tests.servers import ServedForTest, session_cookie
from tickets.escalation import sla_sweep
from tickets.models import Chat, Message, Ticket
from tickets.services import ticket_change_status, ticket_reply
from tickets.services.chat import (
    availability_set,
    chat_accept,
    chat_consumer_send,
    chat_end,
    chat_offers_expire,
    chat_start,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ORIGIN = {"Origin": "http://127.0.0.1:8000"}


@pytest.fixture
def live(tmp_path):
    server = ServedForTest("live", tmp_path)
    yield server
    server.stop()


def consumer_socket(live, ticket: Ticket, *, after: int = 0, origin: dict = ORIGIN):
    url = f"ws://127.0.0.1:{live.port}/ws/chat/{ticket.tracking_token}/?after={after}"
    return connect(url, additional_headers=origin, open_timeout=10)


def desk_socket(live, user):
    headers = ORIGIN | {"Cookie": session_cookie(user)}
    return connect(f"ws://127.0.0.1:{live.port}/ws/desk/", additional_headers=headers, open_timeout=10)


def until(ws, kind: str, *, timeout: float = 10) -> dict:
    """The next message of type ``kind`` on ``ws`` (others are skipped)."""
    while (message := json.loads(ws.recv(timeout=timeout)))["type"] != kind:
        pass
    return message


def quiet(ws, kind: str, *, timeout: float = 1.0) -> bool:
    """No message of type ``kind`` arrives within ``timeout``."""
    try:
        until(ws, kind, timeout=timeout)
    except TimeoutError:
        return True
    return False


def start(category, body="我的快递三天没动了") -> Ticket:
    return chat_start(category=category, body=body, requester_name="李娜", requester_phone="13812345678")


def test_a_consumer_and_an_agent_chat_live_with_typing_and_read_marks(live, category, agent):
    availability_set(user=agent, status="online")
    with desk_socket(live, agent) as desk:
        ticket = start(category)
        offer = until(desk, "offer")
        assert (offer["ticket"], offer["reference"], offer["subject"]) == (
            ticket.pk,
            ticket.reference,
            "我的快递三天没动了",
        )
        with consumer_socket(live, ticket) as chat:
            hello = until(chat, "hello")
            assert hello["state"]["state"] == "offered"
            assert [(m["side"], m["body"]) for m in hello["messages"]] == [("consumer", "我的快递三天没动了")]

            chat_accept(ticket=ticket, agent=agent)
            assert until(chat, "state")["state"]["state"] == "connected"
            assert until(desk, "offer.gone")["ticket"] == ticket.pk

            desk.send(json.dumps({"type": "watch", "ticket": ticket.pk, "after": 0}))
            opened = until(desk, "chat")
            assert [m["body"] for m in opened["messages"]] == ["我的快递三天没动了"]

            chat.send(json.dumps({"type": "typing"}))
            assert until(desk, "chat.typing")["ticket"] == ticket.pk
            desk.send(json.dumps({"type": "chat.send", "body": "您好，我来帮您查一下物流。", "key": "a1"}))
            sent = until(desk, "chat.sent")
            heard = until(chat, "message")["message"]
            assert (heard["id"], heard["side"], heard["body"]) == (sent["id"], "agent", "您好，我来帮您查一下物流。")
            assert heard["author"] == "客服"  # never the agent's name

            chat.send(json.dumps({"type": "read", "upto": heard["id"]}))
            assert until(desk, "chat.read")["upto"] == heard["id"]
            chat.send(json.dumps({"type": "message", "body": "好的，谢谢", "key": "c-1"}))
            ack = until(chat, "sent")
            assert until(desk, "chat.message")["message"]["id"] == ack["id"]
            desk.send(json.dumps({"type": "chat.read", "upto": ack["id"]}))
            assert until(chat, "read") == {"type": "read", "side": "agent", "upto": ack["id"]}
    assert list(ticket.messages.values_list("author_kind", "body")) == [
        ("consumer", "我的快递三天没动了"),
        ("agent", "您好，我来帮您查一下物流。"),
        ("consumer", "好的，谢谢"),
    ]
    assert Chat.objects.get(ticket=ticket).agent_read_upto == ack["id"]


def test_a_reconnecting_consumer_loses_nothing_and_a_resent_message_is_stored_once(live, category, agent):
    availability_set(user=agent, status="online")
    ticket = start(category)
    chat_accept(ticket=ticket, agent=agent)
    with consumer_socket(live, ticket) as chat:
        last = until(chat, "hello")["messages"][-1]["id"]
        chat.send(json.dumps({"type": "message", "body": "单号是 SF123456789", "key": "k-7"}))
        first = until(chat, "sent")["id"]
        last = first
    # The connection drops; meanwhile the agent answers twice.
    one = ticket_reply(ticket=ticket, author=agent, body="查到了，在中转站。")
    two = ticket_reply(ticket=ticket, author=agent, body="预计明天送达。")
    with consumer_socket(live, ticket, after=last) as chat:
        hello = until(chat, "hello")
        assert [m["id"] for m in hello["messages"]] == [one.pk, two.pk]
        # The page did not see its message acknowledged before the drop, and sends it again.
        chat.send(json.dumps({"type": "message", "body": "单号是 SF123456789", "key": "k-7"}))
        assert until(chat, "sent")["id"] == first
        assert quiet(chat, "message")  # nothing new to push
    assert Message.objects.filter(ticket=ticket, body="单号是 SF123456789").count() == 1


def test_an_offer_not_taken_in_time_goes_to_the_next_agent(live, category, team, agent):
    wang = UserFactory(username="wang", groups=["agents"])
    team.members.add(wang)
    availability_set(user=agent, status="online")
    availability_set(user=wang, status="online")
    with desk_socket(live, agent) as zhang_desk, desk_socket(live, wang) as wang_desk:
        ticket = start(category)
        assert until(zhang_desk, "offer")["ticket"] == ticket.pk
        assert quiet(wang_desk, "offer", timeout=0.5)
        chat_offers_expire(now=timezone.now() + timedelta(seconds=21))
        assert until(zhang_desk, "offer.gone")["ticket"] == ticket.pk
        assert until(wang_desk, "offer")["ticket"] == ticket.pk
    assert Chat.objects.get(ticket=ticket).offered_to == wang


def test_with_no_agent_online_the_consumer_is_told_when_to_expect_a_reply(live, category):
    ticket = start(category)
    with consumer_socket(live, ticket) as chat:
        state = until(chat, "hello")["state"]
    assert (state["live"], state["state"]) == (False, "queued")
    assert state["due"] == ticket.targets.get(kind="first_response").due_at.isoformat()


def test_a_chat_unanswered_for_a_minute_alerts_the_supervisor_at_once(live, category, agent, supervisor):
    availability_set(user=agent, status="online")
    ticket = start(category)
    chat_accept(ticket=ticket, agent=agent)
    with desk_socket(live, supervisor) as desk:
        sla_sweep(now=ticket.created_at + timedelta(seconds=61))
        alert = until(desk, "alert")
    assert (alert["ticket"], alert["kind"]) == (ticket.pk, "sla_breach")


def test_a_socket_gets_only_its_own_chat(live, category, agent, team):
    availability_set(user=agent, status="online")
    mine, theirs = start(category, "我的问题"), start(category, "别人的问题")
    with consumer_socket(live, mine) as chat:
        until(chat, "hello")
        ticket_reply(ticket=theirs, author=agent, body="给别人的答复")
        assert quiet(chat, "message")
    with pytest.raises(InvalidStatus) as refused:
        connect(f"ws://127.0.0.1:{live.port}/ws/chat/not-a-token/", additional_headers=ORIGIN, open_timeout=10)
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus):  # another site's page cannot open it
        consumer_socket(live, mine, origin={"Origin": "https://evil.example"})


def test_another_teams_agent_or_a_merchant_hears_nothing_of_a_chat(live, category, agent):
    other = TeamFactory(name="账户安全")
    outsider = UserFactory(username="li.agent", groups=["agents"])
    other.members.add(outsider)
    CategoryFactory(code="account", team=other)
    merchant_user = MerchantUserFactory(merchant=MerchantFactory()).user
    availability_set(user=agent, status="online")
    availability_set(user=outsider, status="online")
    with desk_socket(live, outsider) as desk:
        ticket = start(category)
        assert quiet(desk, "offer")
        desk.send(json.dumps({"type": "watch", "ticket": ticket.pk}))
        assert until(desk, "watching")["ticket"] is None
        desk.send(json.dumps({"type": "chat.send", "body": "冒充客服", "key": "x"}))
        assert quiet(desk, "chat.sent")
    with pytest.raises(InvalidStatus) as refused:
        desk_socket(live, merchant_user)
    assert refused.value.response.status_code == 403
    assert ticket.messages.count() == 1


def test_an_ended_chat_takes_no_more_messages_over_the_socket(live, category, agent):
    availability_set(user=agent, status="online")
    ticket = start(category)
    chat_accept(ticket=ticket, agent=agent)
    chat_end(ticket=ticket, actor=agent)
    with consumer_socket(live, ticket) as chat:
        until(chat, "hello")
        chat.send(json.dumps({"type": "message", "body": "还在吗", "key": "late"}))
        error = until(chat, "error")
    assert (error["code"], error["key"]) == ("chat_ended", "late")
    assert ticket.messages.count() == 1


def test_a_chats_lines_reach_its_agents_desk_and_not_every_teammates(live, category, team, agent):
    """At 1,000 chats, every line sent to every page of the team would refresh their
    queues many times a second: a line goes to the chat's agent; a change of the
    chat itself (its status) to everyone who may see it."""
    wang = UserFactory(username="wang", groups=["agents"])
    team.members.add(wang)
    availability_set(user=agent, status="online")
    ticket = start(category)
    chat_accept(ticket=ticket, agent=agent)
    with desk_socket(live, agent) as mine, desk_socket(live, wang) as teammate:
        until(mine, "alerts")
        until(teammate, "alerts")
        chat_consumer_send(ticket=ticket, body="在吗？", client_key="line-1")
        assert until(mine, "tickets")["ids"] == [ticket.pk]
        assert quiet(teammate, "tickets")
        ticket_change_status(ticket=ticket, status="pending", actor=agent)
        assert until(teammate, "tickets")["ids"] == [ticket.pk]


def test_a_consumer_flooding_is_typing_reaches_the_agent_once_a_second(live, category, agent):
    availability_set(user=agent, status="online")
    ticket = start(category)
    chat_accept(ticket=ticket, agent=agent)
    with desk_socket(live, agent) as desk, consumer_socket(live, ticket) as chat:
        desk.send(json.dumps({"type": "watch", "ticket": ticket.pk}))
        until(desk, "chat")
        until(chat, "hello")
        for _ in range(20):
            chat.send(json.dumps({"type": "typing"}))
        assert until(desk, "chat.typing")["ticket"] == ticket.pk
        assert quiet(desk, "chat.typing", timeout=0.5)
