"""The live desk over real WebSockets: the WebSocket server as make run starts
it (uvicorn, cs_desk.asgi), a WebSocket client with the session cookie of a
signed-in agent and the Origin of the desk's pages, changes made through the
services in this process. Each agent hears only of the tickets they may see; anyone else is
refused at the handshake."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.builders import ticket_filed
from tests.factories import CategoryFactory, MerchantFactory, MerchantUserFactory, TeamFactory, UserFactory
from tests.servers import ServedForTest, session_cookie
from tickets import services
from tickets.escalation import sla_sweep

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class Server(ServedForTest):
    """``make run``'s ``web`` or ``live`` process on this test's database and Redis."""

    def socket(self, user=None, *, origin: str | None = None):
        """A WebSocket on /ws/desk/ as a desk page (served at ``origin``) opens it, signed in as ``user``."""
        headers = {"Origin": origin or "http://127.0.0.1:8000"}
        if user is not None:
            headers["Cookie"] = session_cookie(user)
        return connect(f"ws://127.0.0.1:{self.port}/ws/desk/", additional_headers=headers, open_timeout=10)


@pytest.fixture
def live(tmp_path):
    server = Server("live", tmp_path)
    yield server
    server.stop()


def heard(ws) -> dict:
    """The next message on ``ws`` after the count of unread alerts it starts with (the
    change it names arrives within seconds, or the test fails)."""
    while (message := json.loads(ws.recv(timeout=10)))["type"] == "alerts":
        pass
    return message


@pytest.fixture
def two_teams(team, category, agent):
    """The agent's team (Orders) and another team with its own agent and category."""
    other = TeamFactory(name="账户安全")
    other_agent = UserFactory(username="li.agent", groups=["agents"])
    other.members.add(other_agent)
    return category, CategoryFactory(code="account", team=other), other_agent


def test_an_agent_hears_of_a_change_to_a_ticket_of_their_team_as_soon_as_it_is_committed(live, agent, two_teams):
    category, _other_category, _other_agent = two_teams
    ticket = ticket_filed(category)
    with live.socket(agent) as ws:
        services.ticket_reply(ticket=ticket, author=agent, body="您好，我们正在核实退款进度。")
        assert heard(ws) == {"type": "tickets", "ids": [ticket.pk]}
        services.ticket_consumer_message(ticket=ticket, body="好的，谢谢")
        assert heard(ws) == {"type": "tickets", "ids": [ticket.pk]}


def test_an_agent_hears_nothing_of_another_teams_tickets(live, agent, two_teams):
    category, other_category, other_agent = two_teams
    theirs = ticket_filed(other_category)
    ours = ticket_filed(category)
    with live.socket(agent) as ws, live.socket(other_agent) as other_ws:
        services.ticket_reply(ticket=theirs, author=other_agent, body="已收到")
        services.ticket_reply(ticket=ours, author=agent, body="已收到")
        # Pushed in that order: had the agent heard of the other team's ticket, it would come first.
        assert heard(ws) == {"type": "tickets", "ids": [ours.pk]}
        assert heard(other_ws) == {"type": "tickets", "ids": [theirs.pk]}


def test_a_ticket_of_another_team_assigned_to_someone_reaches_them(live, agent, two_teams, supervisor):
    _category, other_category, _other_agent = two_teams
    theirs = ticket_filed(other_category)
    with live.socket(supervisor) as ws:  # opened while the supervisor works for the Orders team only
        theirs.team.supervisors.add(supervisor)  # then asked to help 账户安全 (heard of at the next connection)
        services.ticket_assign(ticket=theirs, assignee=supervisor, actor=supervisor)
        assert heard(ws) == {"type": "tickets", "ids": [theirs.pk]}


@pytest.mark.parametrize("who", ["anonymous", "merchant", "inactive agent"])
def test_the_socket_is_refused_to_anyone_who_may_not_use_the_desk(live, who, agent):
    user = {
        "anonymous": lambda: None,
        "merchant": lambda: MerchantUserFactory(merchant=MerchantFactory()).user,
        "inactive agent": lambda: UserFactory(username="gone", groups=["agents"], is_active=False),
    }[who]()
    with pytest.raises(InvalidStatus) as refused:
        live.socket(user).close()
    assert refused.value.response.status_code == 403


def test_a_page_of_another_site_cannot_open_it_with_the_agents_cookie(live, agent):
    with pytest.raises(InvalidStatus) as refused:
        live.socket(agent, origin="https://evil.example").close()
    assert refused.value.response.status_code == 403


def test_a_breach_alerts_the_supervisor_live_and_the_unread_count_comes_with_each_socket(
    live, supervisor, urgent_category
):
    urgent = urgent_category
    # Urgent: 24 calendar hours to the first response; filed 25 hours ago, it breaches at the next sweep.
    ticket = ticket_filed(urgent, at=timezone.now() - timedelta(hours=25), subject="付款成功但没有订单")
    with live.socket(supervisor) as ws:
        assert json.loads(ws.recv(timeout=10)) == {"type": "alerts", "unseen": 0}
        sla_sweep()
        # The change comes to the supervisor's team group and, as the ticket's new assignee, to
        # the supervisor's own; then the alert (pushed after the changes, in one call).
        messages = [json.loads(ws.recv(timeout=10)) for _ in range(3)]
    alert = {"type": "alert", "ticket": ticket.pk, "reference": ticket.reference, "subject": "付款成功但没有订单"}
    assert messages == [{"type": "tickets", "ids": [ticket.pk]}] * 2 + [alert | {"kind": "sla_breach", "count": 1}]
    with live.socket(supervisor) as ws:
        assert json.loads(ws.recv(timeout=10)) == {"type": "alerts", "unseen": 1}


def test_who_else_is_writing_reaches_the_other_pages_on_the_ticket_at_once(live, agent, supervisor, two_teams):
    category, _other_category, other_agent = two_teams
    ticket = ticket_filed(category)
    with live.socket(supervisor) as reading, live.socket(other_agent) as outsider:
        reading.send(json.dumps({"type": "watch", "ticket": ticket.pk}))
        outsider.send(json.dumps({"type": "watch", "ticket": ticket.pk}))
        assert heard(reading) == {"type": "watching", "ticket": ticket.pk}
        assert heard(reading) == {"type": "writers", "ticket": ticket.pk, "writers": []}
        assert heard(outsider) == {"type": "watching", "ticket": None}  # another team's ticket

        # The agent starts writing: the reply box's first beat (the page posts it on input).
        writer = Client()
        writer.force_login(agent)
        assert writer.post(f"/desk/tickets/{ticket.pk}/presence/").json() == {"others": []}
        writing = [{"id": agent.pk, "name": "agent"}]
        assert heard(reading) == {"type": "writers", "ticket": ticket.pk, "writers": writing}

        # and leaves the page: the warning goes.
        writer.post(f"/desk/tickets/{ticket.pk}/presence/", {"leaving": "1"})
        assert heard(reading) == {"type": "writers", "ticket": ticket.pk, "writers": []}

        # Writes again, and sends the reply: the warning goes with it (after the change itself).
        writer.post(f"/desk/tickets/{ticket.pk}/presence/")
        assert heard(reading) == {"type": "writers", "ticket": ticket.pk, "writers": writing}
        sent = writer.post(f"/desk/tickets/{ticket.pk}/reply/", {"body": "您好，已为您核实。", "kind": "public"})
        assert sent.status_code == 302
        assert heard(reading) == {"type": "tickets", "ids": [ticket.pk]}
        assert heard(reading) == {"type": "writers", "ticket": ticket.pk, "writers": []}

        # The outsider heard nothing of it: the next thing it hears is its own team's change.
        theirs = ticket_filed(_other_category)
        services.ticket_reply(ticket=theirs, author=other_agent, body="已收到")
        assert heard(outsider) == {"type": "tickets", "ids": [theirs.pk]}


def test_a_sweep_that_breaches_many_tickets_sends_each_supervisor_one_alert(live, supervisor, urgent_category):
    filed = timezone.now() - timedelta(hours=25)
    late = [ticket_filed(urgent_category, at=filed, subject=f"第 {n} 单超时") for n in range(3)]
    with live.socket(supervisor) as ws:
        sla_sweep()
        alerts = []
        while not alerts:
            message = heard(ws)
            if message["type"] == "alert":
                alerts.append(message)
    # The latest of the three, and how many came with it.
    assert alerts == [
        {"type": "alert", "ticket": late[-1].pk, "reference": late[-1].reference, "subject": "第 2 单超时",
         "kind": "sla_breach", "count": 3}
    ]  # fmt: skip


def test_a_user_over_the_connection_limit_is_told_to_wait(tmp_path, agent, team):
    from websockets.exceptions import ConnectionClosed

    live = Server("live", tmp_path, SOCKET_CONNECTS_PER_USER_MINUTE="2")
    try:
        for _ in range(2):
            with live.socket(agent) as ws:
                assert json.loads(ws.recv(timeout=10)) == {"type": "alerts", "unseen": 0}
        with live.socket(agent) as ws, pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd.code == 4429  # the page waits a minute before it tries again
    finally:
        live.stop()
