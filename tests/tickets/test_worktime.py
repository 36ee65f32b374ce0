"""Agents' working time on tickets: ``work_time_add`` (one upsert per Shanghai day)
and the reply box's beat that feeds it (``desk.presence.presence_beat``): each beat
adds the seconds since the agent's previous beat on the ticket, at most 10."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from cs_desk.redis import redis_client
from desk.presence import _key
from tests.builders import SH, ticket_filed
from tests.factories import UserFactory
from tickets.models import WorkTime
from tickets.services.worktime import work_time_add

pytestmark = pytest.mark.django_db
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)


def worked(ticket) -> dict:
    """(username, day) → seconds of the ticket's working time."""
    rows = WorkTime.objects.filter(ticket=ticket).select_related("user")
    return {(w.user.username, w.day.isoformat()): w.seconds for w in rows}


class TestWorkTimeAdd:
    def test_the_seconds_of_a_day_add_up_in_one_row(self, category, agent, supervisor):
        ticket = ticket_filed(category, at=MON_10)
        work_time_add(ticket_id=ticket.pk, user_id=agent.pk, seconds=10, now=MON_10)
        work_time_add(ticket_id=ticket.pk, user_id=agent.pk, seconds=7, now=MON_10 + timedelta(hours=3))
        work_time_add(ticket_id=ticket.pk, user_id=supervisor.pk, seconds=4, now=MON_10)
        assert worked(ticket) == {("agent", "2026-11-23"): 17, ("supervisor", "2026-11-23"): 4}
        assert WorkTime.objects.filter(ticket=ticket).count() == 2

    def test_the_day_is_shanghais(self, category, agent):
        ticket = ticket_filed(category, at=MON_10)
        # 15:59:50 UTC is 23:59:50 on the 23rd in Shanghai; 16:00:05 UTC is already the 24th there.
        before, after = datetime(2026, 11, 23, 15, 59, 50, tzinfo=UTC), datetime(2026, 11, 23, 16, 0, 5, tzinfo=UTC)
        work_time_add(ticket_id=ticket.pk, user_id=agent.pk, seconds=10, now=before)
        work_time_add(ticket_id=ticket.pk, user_id=agent.pk, seconds=5, now=after)
        assert worked(ticket) == {("agent", "2026-11-23"): 10, ("agent", "2026-11-24"): 5}

    def test_no_time_writes_no_row(self, category, agent):
        ticket = ticket_filed(category, at=MON_10)
        work_time_add(ticket_id=ticket.pk, user_id=agent.pk, seconds=0, now=MON_10)
        assert worked(ticket) == {}


@pytest.fixture
def writing(client, agent, category):
    """The agent signed in at the desk, about to write on a fresh ticket (no beat of
    theirs left in Redis for it)."""
    ticket = ticket_filed(category, at=MON_10)
    redis_client().delete(_key(ticket.pk))
    client.force_login(agent)
    return ticket


def beat(client, ticket, **data) -> None:
    assert client.post(f"/desk/tickets/{ticket.pk}/presence/", data).status_code == 200


class TestTheReplyBoxBeat:
    def test_each_beat_adds_the_time_since_the_previous_one(self, client, writing):
        with time_machine.travel(MON_10, tick=False) as clock:
            beat(client, writing)  # the first beat: nothing to measure from
            assert worked(writing) == {}
            clock.shift(timedelta(seconds=10))
            beat(client, writing)  # 10 s after the first
            assert worked(writing) == {("agent", "2026-11-23"): 10}
            clock.shift(timedelta(seconds=4))
            beat(client, writing)  # typing after a pause of 4 s beats early: + 4
            assert worked(writing) == {("agent", "2026-11-23"): 14}

    def test_a_beat_after_a_long_pause_adds_one_beat_at_most(self, client, writing):
        with time_machine.travel(MON_10, tick=False) as clock:
            beat(client, writing)
            clock.shift(timedelta(minutes=5))  # the agent went away with the page open
            beat(client, writing)
            assert worked(writing) == {("agent", "2026-11-23"): 10}

    def test_after_leaving_the_next_beat_starts_afresh(self, client, writing):
        with time_machine.travel(MON_10, tick=False) as clock:
            beat(client, writing)
            clock.shift(timedelta(seconds=10))
            beat(client, writing)
            beat(client, writing, leaving="1")
            clock.shift(timedelta(seconds=8))
            beat(client, writing)  # the first beat since leaving: nothing
            assert worked(writing) == {("agent", "2026-11-23"): 10}

    def test_each_agent_counts_their_own_beats(self, client, writing, team):
        colleague = UserFactory(username="colleague", groups=["agents"])
        team.members.add(colleague)
        other = client.__class__()
        other.force_login(colleague)
        with time_machine.travel(MON_10, tick=False) as clock:
            beat(client, writing)
            clock.shift(timedelta(seconds=6))
            beat(other, writing)  # the colleague's first beat: it adds nothing, to either of them
            clock.shift(timedelta(seconds=4))
            beat(client, writing)  # the agent's: 10 s since their own previous beat
            clock.shift(timedelta(seconds=10))
            beat(other, writing)  # the colleague's: 14 s since theirs, capped at 10
        assert worked(writing) == {("agent", "2026-11-23"): 10, ("colleague", "2026-11-23"): 10}
