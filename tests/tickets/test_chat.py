"""Live chat's rules (tickets.services.chat): who a chat is offered to, an offer
that lapses, the queue, a chat nobody is online for, the chat's own SLA, and a
message sent twice. Times are moved with time-machine; the expectations are
worked out by hand in each test."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connections

from cs_desk.exceptions import ApplicationError
from tests.builders import SH, picture
from tests.factories import UserFactory
from tickets.chats import chat_lines, chat_messages
from tickets.escalation import sla_sweep
from tickets.models import AgentAvailability, Chat, Message, Notification, SLATarget, StaffProfile, Ticket, TicketEvent
from tickets.services import ticket_change_status, ticket_reply
from tickets.services.chat import (
    availability_set,
    chat_accept,
    chat_consumer_send,
    chat_decline,
    chat_end,
    chat_offers_expire,
    chat_read,
    chat_start,
)

pytestmark = pytest.mark.django_db
Kind = TicketEvent.Kind
START = datetime(2026, 12, 2, 10, 0, tzinfo=SH)  # a Wednesday, working hours


def start(category, body="我的订单显示已签收，但是我没有收到货。", **fields) -> Ticket:
    return chat_start(category=category, body=body, requester_name="李娜", requester_phone="13812345678", **fields)


@pytest.fixture
def agents(team, agent):
    """Three agents of the Orders team: 张 (the fixture's agent), 王 and 刘."""
    wang = UserFactory(username="wang", groups=["agents"])
    liu = UserFactory(username="liu", groups=["agents"])
    team.members.add(wang, liu)
    return agent, wang, liu


def online(*users, capacity: int = 3) -> None:
    for user in users:
        availability_set(user=user, status="online", capacity=capacity)


def kinds(ticket: Ticket) -> list[str]:
    return list(ticket.events.filter(kind__startswith="chat_").order_by("id").values_list("kind", flat=True))


def test_a_chat_goes_to_the_online_agent_of_its_team_with_the_fewest_chats(category, agents):
    zhang, wang, _liu = agents
    with time_machine.travel(START, tick=False):
        online(zhang, wang)  # 刘 stays offline
        first = start(category)  # both at 0 chats, neither offered one before: the lower id, 张
        second = start(category)  # 张 has an offer in hand (1), 王 none
    assert Chat.objects.get(ticket=first).offered_to == zhang
    chat = Chat.objects.get(ticket=second)
    assert (chat.state, chat.offered_to, chat.offer_expires_at) == ("offered", wang, START + timedelta(seconds=20))
    assert second.channel == Ticket.Channel.CHAT
    event = second.events.get(kind=Kind.CHAT_OFFERED)
    assert event.data == {"agent": wang.pk, "expires_at": "2026-12-02T02:00:20+00:00"}  # 10:00:20 in Shanghai


def test_of_two_agents_equally_loaded_the_one_idle_longest_gets_the_chat(category, agents):
    zhang, wang, _liu = agents
    online(zhang, wang)
    with time_machine.travel(START, tick=False):
        first = start(category)  # to 张 (neither offered one before)
        chat_accept(ticket=first, agent=zhang)
        chat_end(ticket=first, actor=zhang)  # 张 is free again, offered one at 10:00
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        second = start(category)  # 0 chats each; 王 never offered one: idle longest
        chat_accept(ticket=second, agent=wang)
        chat_end(ticket=second, actor=wang)
    with time_machine.travel(START + timedelta(minutes=6), tick=False):
        third = start(category)  # 张 offered at 10:00, 王 at 10:05: 张
    assert Chat.objects.get(ticket=third).offered_to == zhang


def test_an_offer_not_accepted_in_20_seconds_passes_to_the_next_agent_and_never_back(category, agents):
    zhang, wang, _liu = agents
    online(zhang, wang)
    with time_machine.travel(START, tick=False):
        ticket = start(category)
    with time_machine.travel(START + timedelta(seconds=19), tick=False):
        assert chat_offers_expire() == 0  # 19 s: still 张's
    with time_machine.travel(START + timedelta(seconds=20), tick=False):
        assert chat_offers_expire() == 1
    chat = Chat.objects.get(ticket=ticket)
    assert (chat.offered_to, chat.passed) == (wang, [zhang.pk])
    assert chat.offer_expires_at == START + timedelta(seconds=40)
    with time_machine.travel(START + timedelta(seconds=40), tick=False):
        chat_offers_expire()  # 王 lets it lapse too: nobody left, the team's queue
    chat.refresh_from_db()
    assert (chat.state, chat.offered_to, chat.passed) == ("queued", None, [zhang.pk, wang.pk])
    assert kinds(ticket) == ["chat_offered", "chat_passed", "chat_offered", "chat_passed", "chat_queued"]
    assert [e.data["reason"] for e in ticket.events.filter(kind=Kind.CHAT_PASSED)] == ["lapsed", "lapsed"]
    with pytest.raises(ApplicationError) as error:
        chat_accept(ticket=ticket, agent=UserFactory(username="outsider", groups=["agents"]))
    assert error.value.code == "not_assignable"  # a queued chat: any agent of its team, nobody else


def test_a_declined_chat_goes_to_the_next_agent_and_a_late_accept_is_refused(category, agents):
    zhang, wang, _liu = agents
    online(zhang, wang)
    with time_machine.travel(START, tick=False):
        ticket = start(category)
        chat_decline(ticket=ticket, agent=zhang)
        assert Chat.objects.get(ticket=ticket).offered_to == wang
        with pytest.raises(ApplicationError) as error:
            chat_accept(ticket=ticket, agent=zhang)
    assert error.value.code == "offer_gone"
    with time_machine.travel(START + timedelta(seconds=21), tick=False), pytest.raises(ApplicationError):
        chat_accept(ticket=ticket, agent=wang)  # past its 20 s, even before the beat passes it on


def test_an_agent_at_capacity_or_away_is_not_offered_a_chat(category, agents):
    zhang, wang, liu = agents
    online(zhang, capacity=1)
    availability_set(user=wang, status="away")
    with time_machine.travel(START, tick=False):
        first = start(category)
        chat_accept(ticket=first, agent=zhang)  # 张: 1 of 1
        second = start(category)
    chat = Chat.objects.get(ticket=second)
    assert (chat.state, chat.offered_to) == ("queued", None)
    # Nobody could take it when it started: it continues as an ordinary ticket.
    assert second.channel == Ticket.Channel.CHAT_LEFT
    online(liu)
    with time_machine.travel(START + timedelta(seconds=1), tick=False):
        assert chat_offers_expire() == 0  # a chat left as a message is not offered again


def test_a_queued_live_chat_is_offered_to_an_agent_who_comes_free(category, agents):
    zhang, _wang, _liu = agents
    online(zhang, capacity=1)
    with time_machine.travel(START, tick=False):
        first = start(category)
        chat_accept(ticket=first, agent=zhang)
        online(agents[1])
        second = start(category)  # to 王
    with time_machine.travel(START + timedelta(seconds=20), tick=False):
        chat_offers_expire()  # 王 lets it lapse; 张 is full: queued
    assert Chat.objects.get(ticket=second).state == "queued"
    with time_machine.travel(START + timedelta(seconds=30), tick=False):
        chat_end(ticket=first, actor=zhang)
        assert chat_offers_expire() == 1
    chat = Chat.objects.get(ticket=second)
    assert (chat.state, chat.offered_to) == ("offered", zhang)


def test_a_chat_with_nobody_online_gets_the_categorys_promise(category):
    with time_machine.travel(START, tick=False):
        ticket = start(category)
    assert ticket.channel == Ticket.Channel.CHAT_LEFT
    first = ticket.targets.get(kind=SLATarget.Kind.FIRST_RESPONSE)
    # Normal priority: 3 working days of 9 h from Wednesday 10:00 → Monday 10:00.
    assert first.due_at == datetime(2026, 12, 7, 10, 0, tzinfo=SH)
    assert kinds(ticket) == ["chat_queued"]
    assert ticket.events.get(kind=Kind.CHAT_QUEUED).data == {"reason": "nobody_available"}


def test_a_live_chat_is_promised_a_reply_in_a_minute_and_breaches_after_it(category, agents, supervisor):
    zhang, _wang, _liu = agents
    online(zhang)
    with time_machine.travel(START, tick=False):
        ticket = start(category)
    with time_machine.travel(START + timedelta(seconds=10), tick=False):
        chat_accept(ticket=ticket, agent=zhang)  # taken, but not answered
    first = ticket.targets.get(kind=SLATarget.Kind.FIRST_RESPONSE)
    assert (first.due_at, first.warning_at, first.level2_at) == (
        START + timedelta(seconds=60),
        START + timedelta(seconds=45),
        START + timedelta(seconds=90),
    )
    sla_sweep(now=START + timedelta(seconds=60))  # a reply exactly at the deadline would meet it
    assert list(ticket.events.filter(kind__startswith="sla_").values_list("kind", flat=True)) == ["sla_warning"]
    sla_sweep(now=START + timedelta(seconds=61))
    breach = ticket.events.get(kind=Kind.SLA_BREACH)
    assert breach.created_at == START + timedelta(seconds=61)
    with time_machine.travel(START + timedelta(seconds=70), tick=False):
        ticket_reply(ticket=ticket, author=zhang, body="您好，我来帮您查一下。")
        chat_consumer_send(ticket=ticket, body="好的，谢谢", client_key="k1")
    nxt = ticket.targets.get(kind=SLATarget.Kind.NEXT_RESPONSE)
    assert nxt.due_at == START + timedelta(seconds=70 + 120)


def test_a_message_sent_again_with_its_key_is_stored_once(category, agents):
    online(agents[0])
    ticket = start(category)
    message, new = chat_consumer_send(ticket=ticket, body="还在吗？", client_key="c-1")
    again, new_again = chat_consumer_send(ticket=ticket, body="还在吗？", client_key="c-1")
    assert (new, new_again, again.pk) == (True, False, message.pk)
    assert ticket.messages.filter(body="还在吗？").count() == 1
    with pytest.raises(ApplicationError) as error:
        chat_consumer_send(ticket=ticket, body="x", client_key="<script>")
    assert error.value.code == "invalid_key"


def test_read_marks_move_forward_only_and_never_past_the_last_message(category, agents):
    online(agents[0])
    ticket = start(category)
    last = ticket.messages.get().pk
    assert chat_read(ticket=ticket, side="agent", upto=last + 1000) is True
    assert Chat.objects.get(ticket=ticket).agent_read_upto == last
    assert chat_read(ticket=ticket, side="agent", upto=last - 1) is False


def test_resolving_the_ticket_ends_its_chat_and_an_ended_chat_takes_no_message(category, agents):
    zhang = agents[0]
    online(zhang)
    with time_machine.travel(START, tick=False):
        ticket = start(category)
        chat_accept(ticket=ticket, agent=zhang)
        ticket_reply(ticket=ticket, author=zhang, body="已为您补发。")
    with time_machine.travel(START + timedelta(minutes=4), tick=False):
        ticket_change_status(ticket=ticket, status="resolved", actor=zhang)
    chat = Chat.objects.get(ticket=ticket)
    assert (chat.state, chat.ended_at) == ("ended", START + timedelta(minutes=4))
    with pytest.raises(ApplicationError) as error:
        chat_consumer_send(ticket=ticket, body="谢谢")
    assert error.value.code == "chat_ended"
    assert Message.objects.filter(ticket=ticket).count() == 2


def test_only_those_who_work_tickets_take_chats(manager):
    with pytest.raises(ApplicationError) as error:
        availability_set(user=manager, status="online")
    assert error.value.code == "not_an_agent"
    assert not AgentAvailability.objects.exists()


def test_a_live_chat_sends_no_email_per_line_and_an_ended_one_does(category, agents):
    """Both sides read a live chat's lines as they come: an email per line would be
    noise. Once the chat has ended, a reply is mailed as for any ticket."""
    zhang = agents[0]
    online(zhang)
    ticket = start(category, requester_email="li.na@example.cn")
    chat_accept(ticket=ticket, agent=zhang)
    before = set(Notification.objects.values_list("pk", flat=True))
    ticket_reply(ticket=ticket, author=zhang, body="您好，请稍等。")
    chat_consumer_send(ticket=ticket, body="好的")
    assert set(Notification.objects.values_list("pk", flat=True)) == before
    chat_end(ticket=ticket, actor=zhang)
    ticket_reply(ticket=ticket, author=zhang, body="已为您登记，稍后回电。")
    assert list(Notification.objects.exclude(pk__in=before).values_list("kind", "recipient")) == [
        ("agent_replied", "li.na@example.cn")
    ]


def test_the_push_and_the_page_show_a_line_alike_in_the_consumers_language(category, agents):
    zhang = agents[0]
    StaffProfile.objects.create(user=zhang, alias="小美")
    online(zhang)
    ticket = start(category, language="en")
    chat_accept(ticket=ticket, agent=zhang)
    reply = ticket_reply(ticket=ticket, author=zhang, body="Hello", evidence=[picture()])
    pushed = chat_lines(message_ids=[reply.pk])[ticket.pk]
    assert pushed == chat_messages(ticket=ticket, ids=[reply.pk])
    assert (pushed[0]["author"], pushed[0]["side"]) == ("Customer service · 小美", "agent")
    assert [f["image"] for f in pushed[0]["files"]] == [True]


@pytest.mark.django_db(transaction=True)
def test_two_agents_taking_one_queued_chat_at_once_one_gets_it(category, agents):
    """Two agents click "accept" on the same waiting chat at the same instant, each
    on a connection of their own: the ticket's lock lets one through; the other is
    told it is gone. The offers' beat running meanwhile waits its turn."""
    zhang, wang, _liu = agents
    ticket = start(category)  # nobody online: queued
    ready, outcomes = threading.Barrier(3), []

    def take(agent) -> None:
        try:
            ready.wait()
            chat_accept(ticket=ticket, agent=agent)
            outcomes.append(("taken", agent.username))
        except ApplicationError as error:
            outcomes.append((error.code, agent.username))
        finally:
            connections.close_all()

    def beat() -> None:
        ready.wait()
        chat_offers_expire()
        connections.close_all()

    threads = [threading.Thread(target=take, args=(a,)) for a in (zhang, wang)] + [threading.Thread(target=beat)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(code for code, _who in outcomes) == ["offer_gone", "taken"]
    winner = next(who for code, who in outcomes if code == "taken")
    chat = Chat.objects.get(ticket=ticket)
    assert (chat.state, chat.agent.username) == ("connected", winner)
    assert ticket.events.filter(kind=Kind.CHAT_ACCEPTED).count() == 1
