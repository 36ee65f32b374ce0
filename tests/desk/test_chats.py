"""Live chat in the desk through the test client (desk.chats): the availability
switch, taking, passing and ending a chat, the chat's bar in its workspace and
the supervisors' board, each checked against who may do it."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import CategoryFactory, TeamFactory, UserFactory
from tickets.models import AgentAvailability, Chat
from tickets.services.chat import availability_set, chat_start

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def start(category, body="想问一下退款进度"):
    return chat_start(category=category, body=body, requester_name="李娜", requester_phone="13812345678")


def test_an_agent_goes_online_with_a_capacity_from_the_header(agent):
    desk = signed_in(agent)
    response = desk.post("/desk/availability/", {"status": "online", "capacity": "2", "next": "/desk/?view=mine"})
    assert response["Location"] == "/desk/?view=mine"
    row = AgentAvailability.objects.get(user=agent)
    assert (row.status, row.capacity) == ("online", 2)
    page = desk.get("/desk/").content.decode()
    assert '<option value="online" selected>在线</option>' in page
    off_site = desk.post("/desk/availability/", {"status": "away", "next": "https://evil.example/"})
    assert off_site["Location"] == "/desk/"


def test_a_manager_takes_no_chats(manager):
    desk = signed_in(manager)
    response = desk.post("/desk/availability/", {"status": "online"}, follow=True)
    assert "只有客服和主管可以接待会话。" in response.content.decode()
    assert not AgentAvailability.objects.exists()


def test_an_agent_takes_a_chat_offered_to_them_from_its_workspace(category, agent):
    availability_set(user=agent, status="online")
    ticket = start(category)
    desk = signed_in(agent)
    page = desk.get(f"/desk/tickets/{ticket.pk}/").content.decode()
    assert "在线客服" in page and "已分配给客服，等待接入" in page
    assert f'action="/desk/tickets/{ticket.pk}/chat/accept/"' in page
    desk.post(f"/desk/tickets/{ticket.pk}/chat/accept/")
    chat = Chat.objects.get(ticket=ticket)
    ticket.refresh_from_db()
    assert (chat.state, chat.agent, ticket.assignee) == ("connected", agent, agent)
    desk.post(f"/desk/tickets/{ticket.pk}/chat/end/")
    assert Chat.objects.get(ticket=ticket).state == "ended"


def test_a_passed_chat_goes_to_the_next_agent(category, team, agent):
    wang = UserFactory(username="wang", groups=["agents"])
    team.members.add(wang)
    availability_set(user=agent, status="online")
    availability_set(user=wang, status="online")
    ticket = start(category)
    response = signed_in(agent).post(f"/desk/tickets/{ticket.pk}/chat/decline/")
    assert response["Location"] == "/desk/"
    assert Chat.objects.get(ticket=ticket).offered_to == wang


def test_another_teams_agent_cannot_take_or_end_a_chat(category, agent):
    availability_set(user=agent, status="online")
    ticket = start(category)
    outsider = UserFactory(username="li.agent", groups=["agents"])
    TeamFactory(name="账户安全").members.add(outsider)
    desk = signed_in(outsider)
    for action in ("accept", "decline", "end"):
        assert desk.post(f"/desk/tickets/{ticket.pk}/chat/{action}/").status_code == 404
    assert Chat.objects.get(ticket=ticket).state == "offered"


def test_the_supervisors_board_shows_who_is_online_their_load_and_the_chats_waiting(category, team, agent, supervisor):
    other = CategoryFactory(code="account", team=TeamFactory(name="账户安全"))
    availability_set(user=agent, status="online", capacity=2)
    mine = start(category, "我的快递丢了")
    start(other, "别的团队的会话")
    board = signed_in(supervisor).get("/desk/chats/")
    text = board.content.decode()
    assert board.status_code == 200
    assert "agent</td>" in text and "1 / 2" in text and "在线" in text
    assert mine.reference in text and "我的快递丢了" in text
    assert "别的团队的会话" not in text
    fragment = signed_in(supervisor).get("/desk/chats/", HTTP_X_REQUESTED_WITH="fetch").content.decode()
    assert "<html" not in fragment and mine.reference in fragment
    english = Client()
    english.force_login(supervisor)
    assert "Chats waiting" in english.get("/en/desk/chats/").content.decode()
    assert signed_in(agent).get("/desk/chats/").status_code == 403
