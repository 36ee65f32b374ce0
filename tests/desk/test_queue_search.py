"""The queue's search box through its indexes (tickets.search, issue 21): each
kind of query finds what an agent typed, and the first page costs a fixed
number of queries. That a search never walks the open tickets is measured by
bench/queue.py at a million tickets (its plans are in bench/RESULTS.md); here,
that each kind is one the indexes answer (the plan's index names)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.http import QueryDict

from desk.queue import queue_queryset
from tests.builders import ticket_filed
from tickets.models import Ticket
from tickets.search import ticket_search

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)


def found(user, query: str) -> list[str]:
    params = QueryDict(mutable=True)
    params["q"] = query
    _filter, rows = queue_queryset(user=user, params=params)
    return sorted(rows.values_list("subject", flat=True))


@pytest.fixture
def filed(category):
    """Four complaints filed on Monday 23 November 2026 (references CS-20261123-000001 …)."""
    return {
        "退款七天没到账": ticket_filed(
            category, at=MON_10, subject="退款七天没到账", order_number="2026112300042", requester_phone="13812345678"
        ),
        "商家不发货": ticket_filed(
            category,
            at=MON_10,
            subject="商家不发货",
            order_number="2026112399001",
            requester_email="Wang.Fang@Example.cn",
            requester_phone="13600002222",
        ),
        "助力页面打不开": ticket_filed(category, at=MON_10, subject="助力页面打不开", requester_phone="13900005678"),
        "Refund not received": ticket_filed(
            category, at=MON_10, subject="Refund not received", requester_phone="13700001111"
        ),
    }


class TestKinds:
    def test_a_reference_in_any_case_and_its_beginning(self, agent, filed):
        reference = filed["商家不发货"].reference
        assert found(agent, reference.lower()) == ["商家不发货"]
        # every complaint of that day begins so
        assert found(agent, "cs-20261123") == sorted(filed)
        assert found(agent, "CS-20261124") == []

    def test_an_order_number_whole_or_its_first_digits(self, agent, filed):
        assert found(agent, "2026112300042") == ["退款七天没到账"]
        assert found(agent, "20261123") == ["商家不发货", "退款七天没到账"]
        assert found(agent, "2026112399") == ["商家不发货"]

    def test_the_last_four_digits_of_a_phone(self, agent, filed):
        assert found(agent, "5678") == ["助力页面打不开", "退款七天没到账"]
        assert found(agent, "05678") == ["助力页面打不开"]
        assert found(agent, "138****5678") == ["退款七天没到账"]

    def test_an_email_in_any_case(self, agent, filed):
        assert found(agent, "wang.fang@example.CN") == ["商家不发货"]
        assert found(agent, "wang@example.cn") == []

    def test_chinese_words_of_the_subject_two_characters_included(self, agent, filed):
        assert found(agent, "退款") == ["退款七天没到账"]
        assert found(agent, "发货") == ["商家不发货"]
        assert found(agent, "页面打不开") == ["助力页面打不开"]
        # all the characters, but not together: not a match
        assert found(agent, "款退") == []

    def test_latin_words_of_the_subject_in_any_case(self, agent, filed):
        assert found(agent, "REFUND") == ["Refund not received"]
        assert found(agent, "not rec") == ["Refund not received"]

    def test_one_character_searches_no_subject(self, agent, filed):
        assert found(agent, "退") == []


class TestIndexes:
    @pytest.mark.parametrize(
        ("query", "index"),
        [
            ("2026112300042", "ticket_order_number_idx"),
            ("5678", "ticket_phone_reversed_idx"),
            ("wang.fang@example.cn", "ticket_email_upper_idx"),
            ("退款", "ticket_subject_chars_idx"),
            ("cs-20261123", "tickets_ticket_reference_69015271_like"),
        ],
    )
    def test_each_kind_is_answered_by_its_index(self, agent, filed, query, index):
        rows = Ticket.objects.filter(ticket_search(query))
        with connection.cursor() as cursor:
            # as on a table too big to read whole: the planner must find an index for every branch
            cursor.execute("SET LOCAL enable_seqscan = off")
            sql, sql_params = rows.query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", sql_params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "BitmapOr" in plan and index in plan, plan
        assert "Seq Scan on tickets_ticket" not in plan, plan


def test_the_first_page_of_the_queue_costs_six_queries(client, agent, category, django_assert_max_num_queries):
    for n in range(60):
        ticket_filed(category, subject=f"投诉 {n}")
    client.force_login(agent)
    client.get("/desk/")  # the session and the caches a first request fills
    # the session, the user, the user's facts (roles, teams, chat availability), the
    # rows, the categories of the filter, the colleagues of the bulk assignment
    with django_assert_max_num_queries(6):
        response = client.get("/desk/")
    assert response.status_code == 200
    assert response.content.count(b'class="row') or Ticket.objects.count() == 60
