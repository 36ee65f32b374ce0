"""Alerts in the desk (issue 20, point 7): a breach, a level 2 escalation or a
merchant's missed reply alerts the ticket's assignee and its team's active
supervisors, once; the alerts page lists one's own, opening the ticket reads
them; the queue's "newly escalated" view puts the latest escalation on top.

An urgent ticket filed Mon 2026-11-23 10:00 Beijing time owes its first response
within 24 calendar hours: warning at 75 % (Tue 04:00), breach at Tue 10:00,
level 2 at 150 % (Tue 22:00)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.builders import ticket_filed
from tests.factories import TeamFactory, UserFactory
from tickets import services
from tickets.escalation import sla_sweep
from tickets.models import StaffAlert

SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
TUE_04_30 = datetime(2026, 11, 24, 4, 30, tzinfo=SH)
TUE_10_01 = datetime(2026, 11, 24, 10, 1, tzinfo=SH)
TUE_22_01 = datetime(2026, 11, 24, 22, 1, tzinfo=SH)

pytestmark = pytest.mark.django_db


def alerts() -> list[tuple[str, str, str, datetime]]:
    return sorted(
        (a.user.username, a.kind, a.target_kind, a.created_at)
        for a in StaffAlert.objects.select_related("user").order_by("id")
    )


@pytest.fixture
def assigned(urgent_category, agent, supervisor, team):
    """Assigned to the agent; the team also has a supervisor who has left (inactive)."""
    team.supervisors.add(UserFactory(username="left", groups=["supervisors"], is_active=False))
    ticket = ticket_filed(urgent_category, at=MON_10)
    services.ticket_assign(ticket=ticket, assignee=agent, actor=supervisor, now=MON_10)
    return ticket


class TestWho:
    def test_a_breach_alerts_the_assignee_and_the_active_supervisors_once(self, assigned):
        sla_sweep(now=TUE_04_30)  # the warning alerts nobody in the desk (its email is enough)
        assert alerts() == []

        sla_sweep(now=TUE_10_01)
        sla_sweep(now=TUE_10_01 + timedelta(seconds=1))  # a second sweep adds nothing

        assert alerts() == [
            ("agent", "sla_breach", "first_response", TUE_10_01),
            ("supervisor", "sla_breach", "first_response", TUE_10_01),
        ]

    def test_level_2_alerts_whoever_holds_the_ticket_after_the_breach(self, assigned, supervisor):
        sla_sweep(now=TUE_10_01)  # the breach gives the ticket to the supervisor
        assigned.refresh_from_db()
        assert assigned.assignee == supervisor

        sla_sweep(now=TUE_22_01)

        assert [a for a in alerts() if a[1] == "sla_level2"] == [
            ("supervisor", "sla_level2", "first_response", TUE_22_01)
        ]

    def test_a_merchants_missed_reply_alerts_the_team(self, category, agent, supervisor):
        from tests.factories import MerchantFactory

        ticket = ticket_filed(category, at=MON_10, merchant=MerchantFactory())
        services.ticket_forward_to_merchant(ticket=ticket, actor=agent, note="请回复", now=MON_10)
        sla_sweep(now=TUE_10_01)  # 24 calendar hours for the merchant: missed at Tue 10:00

        assert ("supervisor", "merchant_missed", "merchant_reply", TUE_10_01) in alerts()


class TestDeskPages:
    def test_the_alerts_page_lists_ones_own_and_opening_the_ticket_reads_them(self, client, assigned, agent):
        sla_sweep(now=TUE_10_01)
        someone_else = UserFactory(username="li.agent", groups=["agents"])
        TeamFactory(name="账户安全", members=[someone_else])

        client.force_login(someone_else)
        assert assigned.reference not in client.get("/desk/alerts/").content.decode()

        client.force_login(agent)
        page = client.get("/desk/alerts/").content.decode()
        assert assigned.reference in page and "已超时" in page and 'class="unseen"' in page
        client.get(f"/desk/tickets/{assigned.pk}/")
        assert StaffAlert.objects.get(user=agent).seen_at is not None
        assert 'class="unseen"' not in client.get("/desk/alerts/").content.decode()

    def test_mark_all_as_read(self, client, assigned, supervisor):
        sla_sweep(now=TUE_10_01)
        sla_sweep(now=TUE_22_01)
        client.force_login(supervisor)

        response = client.post("/desk/alerts/seen/", follow=True)

        assert "2 条提醒已标为已读" in response.content.decode()
        assert not StaffAlert.objects.filter(user=supervisor, seen_at__isnull=True).exists()

    def test_newly_escalated_puts_the_latest_escalation_above_older_overdue_tickets(
        self, client, supervisor, urgent_category
    ):
        # Filed Fri 10:00: first response due Sat 10:00 (level 2 Sat 22:00), resolution (72 h)
        # due Mon 10:00; all three taken by the sweep of Mon 22:00, its last escalation.
        older = ticket_filed(urgent_category, at=MON_10 - timedelta(days=3), subject="三天前的投诉")
        fresh = ticket_filed(urgent_category, at=MON_10, subject="今天的投诉")
        sla_sweep(now=MON_10 + timedelta(hours=12))
        sla_sweep(now=TUE_10_01)  # the fresh one breaches, escalated Tue 10:01
        long_ago = ticket_filed(urgent_category, at=MON_10 - timedelta(days=10), subject="十天前的投诉")
        with time_machine.travel(MON_10 - timedelta(days=8), tick=False):
            sla_sweep(now=MON_10 - timedelta(days=8))  # escalated more than 24 h before
        client.force_login(supervisor)

        with time_machine.travel(TUE_10_01 + timedelta(minutes=5), tick=False):
            overdue = client.get("/desk/?view=overdue").context["page"].rows
            escalated = client.get("/desk/?view=escalated").context["page"].rows

        # Overdue, the most overdue first: the ten-day-old, then the three-day-old, then today's.
        assert [t.subject for t in overdue] == ["十天前的投诉", "三天前的投诉", "今天的投诉"]
        # Newly escalated: the last day's escalations, the latest first.
        assert [t.pk for t in escalated] == [fresh.pk, older.pk]
        assert long_ago.pk not in [t.pk for t in escalated]


def test_an_event_handed_over_again_alerts_nobody_twice(assigned):
    from tickets.events import EventRow, events_written
    from tickets.models import TicketEvent

    sla_sweep(now=TUE_10_01)
    breach = EventRow.of(TicketEvent.objects.get(ticket=assigned, kind="sla_breach"))

    events_written([breach])
    events_written([breach, breach])  # again, and twice in one call

    assert len(alerts()) == 2  # the agent's and the supervisor's, as written by the sweep
