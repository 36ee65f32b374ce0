"""The tracking page served from the cache (issue 21): rendered once per version of
its ticket, never stale, each visitor's forms working with their own CSRF token."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from feedback.services import survey_submit
from tests.builders import ticket_filed
from tests.ports import free_port
from tickets import services

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Monday 10:00 in Beijing; the category promises a first reply within 3 working days.
FILED = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)


def page(client: Client, ticket) -> str:
    response = client.get(reverse("complaints:tracking", kwargs={"token": ticket.tracking_token}))
    assert response.status_code == 200
    return response.content.decode()


def csrf_tokens(html: str) -> set[str]:
    return set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html))


@pytest.fixture
def ticket(category):
    return ticket_filed(category, requester_phone="", requester_email="lina@example.cn")


@pytest.mark.django_db
class TestTrackingPageCache:
    def test_a_second_load_costs_one_query_and_reads_the_same(self, client, ticket, django_assert_max_num_queries):
        first = page(client, ticket)
        with django_assert_max_num_queries(1):
            second = page(client, ticket)
        assert "申请退款七天了还没有到账。" in second
        # The same page but for the visitor's own CSRF token, put in afresh on each load.
        assert re.sub(r'value="[^"]+"', "", first) == re.sub(r'value="[^"]+"', "", second)

    def test_each_visitor_replies_with_the_token_of_their_own_cookie(self, ticket):
        lina, stranger = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
        page(stranger, ticket)  # renders and caches the page for a first visitor
        html = page(lina, ticket)  # served from the cache
        (token,) = csrf_tokens(html)
        url = reverse("complaints:tracking", kwargs={"token": ticket.tracking_token})
        response = lina.post(url, {"body": "请问退款什么时候到账？", "csrfmiddlewaretoken": token})
        assert response.status_code == 302
        assert ticket.messages.filter(body="请问退款什么时候到账？").exists()

    def test_an_agents_reply_shows_on_the_next_load(self, client, ticket, agent):
        assert "我们已联系财务核实" not in page(client, ticket)
        services.ticket_reply(ticket=ticket, author=agent, body="您好，我们已联系财务核实。", public=True)
        assert "我们已联系财务核实" in page(client, ticket)

    def test_an_internal_note_changes_nothing_the_consumer_reads(self, client, ticket, agent):
        before = page(client, ticket)
        services.ticket_reply(ticket=ticket, author=agent, body="内部：疑似重复退款", public=False)
        after = page(client, ticket)
        assert "疑似重复退款" not in after
        assert re.sub(r'value="[^"]+"', "", before) == re.sub(r'value="[^"]+"', "", after)

    def test_the_survey_answered_shows_at_once(self, client, ticket, agent):
        services.ticket_reply(ticket=ticket, author=agent, body="已为您退款。", public=True)
        services.ticket_change_status(ticket=ticket, actor=agent, status="resolved")
        opened = page(client, ticket)
        assert 'class="card survey"' in opened and "survey-done" not in opened
        survey_submit(ticket=ticket, rating=4)
        answered = page(client, ticket)
        assert 'class="card survey"' not in answered and 'class="card survey-done"' in answered

    def test_the_page_says_late_once_the_promised_time_passes_with_no_change(self, client, category):
        with time_machine.travel(FILED, tick=False):
            ticket = ticket_filed(category, at=FILED)
            assert 'class="on-track"' in page(client, ticket)
        # Three working days later, 10:00 on Thursday: the promise is due, nothing changed.
        with time_machine.travel(FILED + timedelta(days=3, seconds=-1), tick=False):
            assert 'class="on-track"' in page(client, ticket)
        with time_machine.travel(FILED + timedelta(days=3, seconds=1), tick=False):
            assert 'class="late"' in page(client, ticket)

    def test_a_renamed_category_shows_its_new_name(self, client, ticket, category):
        assert category.name_zh in page(client, ticket)
        category.name_zh = "退款与售后"
        category.save(update_fields=["name_zh"])
        assert "退款与售后" in page(client, ticket)

    def test_each_language_its_own_page(self, client, ticket):
        assert "您的投诉" in page(client, ticket)
        client.post(reverse("set_language"), {"language": "en", "next": "/"})
        english = client.get(f"/en/t/{ticket.tracking_token}/").content.decode()
        assert "Your complaint" in english
        # A visitor without the language cookie, at the unprefixed address: Chinese, as before.
        chinese = Client().get(f"/t/{ticket.tracking_token}/").content.decode()
        assert "您的投诉" in chinese and "Your complaint" not in chinese

    def test_a_consumer_message_from_another_door_shows(self, client, ticket):
        page(client, ticket)
        services.ticket_consumer_message(ticket=ticket, body="补充：订单号是 E20260302001。")
        assert "补充：订单号是 E20260302001。" in page(client, ticket)

    def test_a_redis_outage_renders_every_load(self, client, ticket, agent, settings):
        settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
        assert "申请退款七天了还没有到账。" in page(client, ticket)
        services.ticket_reply(ticket=ticket, author=agent, body="您好，已经在处理。", public=True)
        assert "您好，已经在处理。" in page(client, ticket)
