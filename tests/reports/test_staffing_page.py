"""Staffing next week on the volume page (reports.selectors.staffing): the measured
handle times, the agents each forecast hour takes, the agents there are, and the
page in Chinese and in English. The figures are worked out by hand below.

Now is Monday 2026-11-23 10:00 (Shanghai); next week is Tuesday 24 … Monday 30.

* Chats: 5 a Tuesday between 14:00 and 14:40, on the four Tuesdays of the last
  28 days (27 Oct, 3, 10, 17 Nov): 20 chats, each accepted as it started and
  ended 300 s or 420 s later, alternately. Measured handle time: 20 chats, mean
  (10 × 300 + 10 × 420) / 20 = 360 s. Forecast for Tuesday 14:00: 20 over 8 weeks
  = 2.5 chats/h.
  Traffic A = 2.5 × 360 / 3600 = 0.25 Erlang; t / AHT = 60 / 360 = 1/6.
  N = 1: C = A = 0.25 (one agent: C(1, A) = A); SL = 1 − 0.25 × exp(−0.75 / 6)
  = 1 − 0.25 × 0.882497 = 0.779376 < 0.8.
  N = 2: B(1) = 0.25 / 1.25 = 0.2, B(2) = 0.05 / 2.05 = 1/41, C = 2 × (1/41) /
  (2 − 0.25 × 40/41) = (2/41) / (72/41) = 1/36; SL = 1 − (1/36) × exp(−1.75 / 6)
  = 1 − 0.027778 × 0.747018 = 0.979250 ≥ 0.8. Two chat agents.
* Tickets: 3 web complaints filed each Wednesday at 10:00, 10:20, 10:40 over the
  last 8 weeks: 24, forecast 24 / 8 = 3 tickets/h on Wednesday 10:00. Working
  time in the last 28 days on 20 of them: 19 × 2 400 s, and 1 200 s by the agent
  plus 1 200 s by the supervisor on another day on the 20th: 48 000 s over 20
  tickets = 2 400 s. (Not counted: work 28 days ago, and work on a chat.)
  3 × 2 400 s = 2 h of work an hour; 2 / 0.85 = 2.35 → 3 ticket agents.
* Available: the agent is online (the chats were offered to them); the Orders team
  has 2 staff (the agent and the supervisor).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
import time_machine

from reports import selectors as reports
from tests.builders import SH, ticket_filed
from tests.factories import CategoryFactory, TeamFactory, UserFactory
from tickets.models import Chat
from tickets.services.chat import availability_set, chat_accept, chat_end, chat_start
from tickets.services.worktime import work_time_add

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
TUESDAYS = [date(2026, 10, 27), date(2026, 11, 3), date(2026, 11, 10), date(2026, 11, 17)]


def chat_handled(category, agent, *, at: datetime, seconds: int):
    """A chat started at ``at``, accepted at once by ``agent`` and ended ``seconds`` later."""
    with time_machine.travel(at, tick=False):
        ticket = chat_start(category=category, body="在吗？", requester_name="李娜", requester_phone="13812345678")
        chat_accept(ticket=ticket, agent=agent)
    with time_machine.travel(at + timedelta(seconds=seconds), tick=False):
        chat_end(ticket=ticket, actor=agent)
    return ticket


@pytest.fixture
def history(category, agent, supervisor):
    availability_set(user=agent, status="online")
    chats = []
    for day in TUESDAYS:
        for k in range(5):
            at = datetime.combine(day, datetime.min.time(), SH) + timedelta(hours=14, minutes=10 * k)
            chats.append(chat_handled(category, agent, at=at, seconds=300 if len(chats) % 2 == 0 else 420))
    first_wednesday = date(2026, 9, 30)  # 8 weeks before the 25th of November
    tickets = [
        ticket_filed(category, at=datetime(d.year, d.month, d.day, 10, minute, tzinfo=SH), subject=f"工单 {w}-{minute}")
        for w in range(8)
        for d in [first_wednesday + timedelta(weeks=w)]
        for minute in (0, 20, 40)
    ]
    for ticket in tickets[:19]:
        work_time_add(ticket_id=ticket.pk, user_id=agent.pk, seconds=2400, now=NOW - timedelta(days=3))
    work_time_add(ticket_id=tickets[19].pk, user_id=agent.pk, seconds=1200, now=NOW - timedelta(days=2))
    work_time_add(ticket_id=tickets[19].pk, user_id=supervisor.pk, seconds=1200, now=NOW - timedelta(days=27))
    # Not counted: a day 28 days ago (the window is today and the 27 days before) and a live chat.
    work_time_add(ticket_id=tickets[20].pk, user_id=agent.pk, seconds=99999, now=NOW - timedelta(days=28))
    work_time_add(ticket_id=chats[0].pk, user_id=agent.pk, seconds=99999, now=NOW)
    return {"chats": chats, "tickets": tickets}


class TestTheSelector:
    def test_the_plan_for_next_week(self, history, manager):
        plan = reports.staffing_plan(now=NOW, zone=SH, reader=manager)
        assert (plan.first, plan.answer_seconds, plan.goal, plan.occupancy) == (date(2026, 11, 24), 60, 0.8, 0.85)
        assert plan.chat_handle == reports.HandleTime(seconds=360, measured=20, assumed=False)
        assert plan.ticket_handle == reports.HandleTime(seconds=2400, measured=20, assumed=False)
        assert plan.hours == [
            reports.StaffingHour(date(2026, 11, 24), 14, chats=2.5, chat_agents=2, tickets=0, ticket_agents=0),
            reports.StaffingHour(date(2026, 11, 25), 10, chats=0, chat_agents=0, tickets=3.0, ticket_agents=3),
        ]
        assert (plan.online, plan.staff) == (1, 2)
        assert (plan.most_chat_agents, plan.most_ticket_agents) == (2, 3)

    def test_a_reader_of_another_team_sees_none_of_it(self, history):
        other_supervisor = UserFactory(username="returns-lead", groups=["supervisors"])
        returns = TeamFactory(name="Returns", supervisors=[other_supervisor])
        CategoryFactory(code="return", name_zh="退货", name_en="Returns", default_priority="normal", team=returns)
        plan = reports.staffing_plan(now=NOW, zone=SH, reader=other_supervisor)
        assert plan.hours == []
        assert plan.chat_handle == reports.HandleTime(seconds=300, measured=0, assumed=True)
        assert plan.ticket_handle == reports.HandleTime(seconds=900, measured=0, assumed=True)
        assert (plan.online, plan.staff) == (0, 1)  # only themselves; the agent online is not theirs


def test_fewer_than_20_chats_measured_is_an_assumed_handle_time(category, agent):
    availability_set(user=agent, status="online")
    chat_handled(category, agent, at=NOW - timedelta(days=1), seconds=100)
    chat_handled(category, agent, at=NOW - timedelta(days=2), seconds=200)
    chat_handled(category, agent, at=NOW - timedelta(days=29), seconds=5000)  # ended before the 28 days
    with time_machine.travel(NOW - timedelta(hours=5), tick=False):  # offered, never accepted: not measured
        never = chat_start(category=category, body="有人吗", requester_name="王五", requester_phone="13812345679")
        chat_end(ticket=never, actor=agent)
    assert Chat.objects.filter(state="ended").count() == 4
    handle = reports.chat_handle_time(now=NOW, reader=None)
    assert handle == reports.HandleTime(seconds=300, measured=2, assumed=True)


def test_the_chat_answer_target_is_the_chat_policys_first_response():
    assert reports.chat_answer_seconds() == 60  # the seeded chat policy: 1 minute


class TestThePage:
    def test_in_chinese_and_in_english(self, client, manager, history):
        client.force_login(manager)
        with time_machine.travel(NOW, tick=False):
            zh = client.get("/reports/volume/").content.decode()
            en = client.get("/en/reports/volume/").content.decode()
        for html in (zh, en):
            assert 'id="staffing-online">1<' in html and 'id="staffing-staff">2<' in html
            assert 'id="staffing-most-chat">2<' in html and 'id="staffing-most-tickets">3<' in html
        assert "下周人员配置" in zh and "会话处理时长：从接入到结束平均 360 秒" in zh and "实测工单 20 个" in zh
        assert "Staffing next week" in en
        assert "answer 80% of chats within 60 seconds" in en
        assert "Chat handle time: 360 seconds" in en and "chats measured: 20" in en
        assert "Ticket handle time: 2400 seconds" in en and "tickets measured: 20" in en
        assert "an occupancy of 85%" in en
        # Forecast chats and agents, forecast tickets and agents, per hour (2.5 shown as 2.50).
        tuesday = '(Tuesday)</th><td>14:00</td><td class="num">2.50</td><td class="num">2</td><td class="num">0</td>'
        wednesday = '(Wednesday)</th><td>10:00</td><td class="num">0</td><td class="num">0</td><td class="num">3</td>'
        assert tuesday + '<td class="num">0</td></tr>' in en
        assert wednesday + '<td class="num">3</td></tr>' in en
        assert '(星期二)</th><td>14:00</td><td class="num">2.50</td><td class="num">2</td>' in zh

    def test_assumed_handle_times_say_so(self, client, manager, category):
        ticket_filed(category, at=NOW - timedelta(weeks=1))
        client.force_login(manager)
        with time_machine.travel(NOW, tick=False):
            en = client.get("/en/reports/volume/").content.decode()
        assert "Chat handle time: 300 seconds, assumed, not measured" in en
        assert "chats measured in the last 28 days: 0; at least 20 are needed" in en
        assert "Ticket handle time: 900 seconds, assumed, not measured" in en
        # Monday 10:00, 1 ticket over 8 weeks: 0.12 tickets/h (0.125 rounded by the forecast) × 900 s
        # = 0.03 h of work / 0.85 → 1 agent. No chats.
        row = '(Monday)</th><td>10:00</td><td class="num">0</td><td class="num">0</td><td class="num">0.12</td>'
        assert row + '<td class="num">1</td></tr>' in en
        assert 'id="staffing-most-chat">0<' in en and 'id="staffing-most-tickets">1<' in en

    def test_csv(self, client, manager, history):
        client.force_login(manager)
        with time_machine.travel(NOW, tick=False):
            response = client.get("/en/reports/volume/?export=staffing")
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
        assert rows == [
            [
                "Day",
                "Weekday",
                "Hour",
                "Chats per hour",
                "Chat agents needed",
                "Tickets per hour",
                "Ticket agents needed",
            ],
            ["2026-11-24", "Tuesday", "14:00", "2.5", "2", "0.0", "0"],
            ["2026-11-25", "Wednesday", "10:00", "0.0", "0", "3.0", "3"],
        ]
