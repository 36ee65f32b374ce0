"""The agent queue (desk.queue), asked directly: what the search box finds, the
"due today" boundary in Shanghai, the order of tickets with no due instant,
the warning instant shown on each row, and what bad filters and pages fall
back to. The order of overdue and due tickets, the other filters and the saved
views are tested through the page in tests/tickets/test_desk.py."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.http import QueryDict

from desk.queue import queue_page, queue_queryset
from tests.builders import ticket_filed
from tests.factories import CategoryFactory, TeamFactory
from tickets import services
from tickets.models import SLATarget, Team, Ticket

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
FRI_15 = datetime(2026, 11, 20, 15, 0, tzinfo=SH)


def sh(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


def params(**values) -> QueryDict:
    """Query parameters as the browser sends them (a "+" typed is a "+")."""
    query = QueryDict(mutable=True)
    for name, value in values.items():
        query[name] = value
    return query


def found(user, **values) -> list[str]:
    _filter, rows = queue_queryset(user=user, params=params(**values))
    return list(rows.values_list("subject", flat=True))


class TestSearch:
    @pytest.fixture
    def filed(self, category):
        ticket_filed(category, subject="李娜", requester_phone="13812345678", requester_email="LiNa@Example.cn")
        ticket_filed(category, subject="张伟", requester_phone="13900001111")
        ticket_filed(category, subject="尾号相同", requester_phone="13700005678")
        old = ticket_filed(category, subject="旧号码")
        # stored as typed, before numbers were kept in E.164
        Ticket.objects.filter(pk=old.pk).update(requester_phone="138 0000 5678")

    @pytest.mark.parametrize("typed", ["13812345678", "138 1234 5678", "+86 138-1234-5678", "+8613812345678"])
    def test_a_whole_number_finds_its_consumer_however_it_is_typed(self, agent, filed, typed):
        assert found(agent, q=typed) == ["李娜"]

    def test_a_number_as_lists_show_it_finds_stored_and_older_numbers(self, agent, filed):
        # "138****5678" is how the queue masks +8613812345678; the older row starts with 138 too
        assert sorted(found(agent, q="138****5678")) == sorted(["李娜", "旧号码"])
        assert found(agent, q="139****5678") == []

    def test_the_last_four_digits_find_every_number_ending_so_three_find_none(self, agent, filed):
        assert sorted(found(agent, q="5678")) == sorted(["李娜", "尾号相同", "旧号码"])
        assert found(agent, q="678") == []

    def test_an_email_address_in_any_case(self, agent, filed):
        assert found(agent, q="lina@example.CN") == ["李娜"]

    def test_words_of_the_subject(self, agent, filed):
        assert found(agent, q=" 张伟 ") == ["张伟"]

    def test_an_empty_search_is_no_search(self, agent, filed):
        assert len(found(agent, q="   ")) == 4


class TestDueToday:
    def test_due_before_midnight_in_shanghai_overdue_ones_included(self, agent, category):
        # given four open tickets whose soonest due instants are set as the engine leaves them
        due = {
            "yesterday": sh(11, 22, 12),
            "tonight": sh(11, 23, 23, 59),
            "midnight": sh(11, 24, 0, 0),
            "nothing owed": None,
        }
        for subject, instant in due.items():
            ticket = ticket_filed(category, subject=subject)
            Ticket.objects.filter(pk=ticket.pk).update(due_at=instant)

        # when an agent asks on Monday 23rd at 10:00 (02:00 UTC, still the 23rd in UTC too)
        with time_machine.travel(sh(11, 23, 10), tick=False):
            today = found(agent, due="today")
        # and at 07:30, when it is still the 22nd in UTC
        with time_machine.travel(sh(11, 23, 7, 30), tick=False):
            early = found(agent, due="today")

        # then "today" is Shanghai's day: until 24:00 there, whatever UTC says
        assert sorted(today) == sorted(early) == sorted(["yesterday", "tonight"])


class TestOrder:
    def test_tickets_owing_nothing_come_after_every_ticket_with_a_due_instant(self, agent, category, low_category):
        waiting = ticket_filed(category, at=FRI_15, subject="等消费者")  # the oldest
        services.ticket_reply(ticket=waiting, author=agent, body="请提供截图", now=FRI_15)
        services.ticket_change_status(ticket=waiting, status="pending", actor=agent, now=FRI_15)
        ticket_filed(low_category, at=sh(11, 23, 9), subject="低优先级")  # due in 5 working days
        ticket_filed(category, at=sh(11, 23, 10), subject="普通")  # due in 3

        assert found(agent) == ["普通", "低优先级", "等消费者"]


class TestRows:
    def test_each_row_carries_when_its_soonest_target_warns(self, agent, category):
        # given a normal complaint filed Fri 15:00: first response due Wed 11/25 15:00, its
        # warning at 75 % = 20.25 working hours → Tue 11/24 17:15 (resolution due much later)
        ticket = ticket_filed(category, at=FRI_15)

        [row] = queue_page(user=agent, params=params()).rows
        assert row.warn_at == sh(11, 24, 17, 15)

        # once the warning is taken the row reports the clock's start: a moment in the past
        SLATarget.objects.filter(ticket=ticket, kind="first_response").update(steps_taken=1)
        [row] = queue_page(user=agent, params=params()).rows
        assert row.warn_at == FRI_15

    def test_a_page_below_one_is_the_first(self, agent, category):
        for n in range(3):
            ticket_filed(category, subject=f"投诉 {n}")
        page = queue_page(user=agent, params=params(), page=0, size=2)
        assert (page.number, len(page.rows), page.has_previous, page.has_next) == (1, 2, False, True)


class TestBadFilters:
    def test_a_filter_that_does_not_validate_shows_the_open_queue(self, agent, category):
        ticket_filed(category, subject="开着的")
        closed = ticket_filed(category, subject="关了的")
        services.ticket_change_status(ticket=closed, status="closed", actor=agent)

        filterset, rows = queue_queryset(user=agent, params=params(priority="max", status="closed"))

        assert not filterset.is_valid()
        assert list(rows.values_list("subject", flat=True)) == ["开着的"]

    def test_an_agent_chooses_among_their_own_teams_a_manager_among_all(self, agent, manager, team):
        other = TeamFactory(name="Fraud")
        CategoryFactory(team=other)
        agent_filter, _rows = queue_queryset(user=agent, params=params())
        manager_filter, _rows = queue_queryset(user=manager, params=params())
        assert list(agent_filter.form.fields["team"].queryset) == [team]
        appeals = Team.objects.get(name="账号申诉")  # shipped with its category (tickets 0018)
        assert set(manager_filter.form.fields["team"].queryset) == {team, other, appeals}


def test_a_filter_not_set_says_any_not_dashes(client, agent, category):
    client.force_login(agent)
    page = client.get("/desk/").content.decode()
    assert "---------" not in page
    for name in ("priority", "category", "team", "channel"):
        select = page[page.index(f'name="{name}"') :]
        assert select[: select.index("</option>")].endswith('<option value="" selected>全部'), name
