"""The consumer's chat pages (complaints.chat) through the test client: starting a
chat with the intake's rules, the chat window, a picture sent in it, and the
token guard. The live conversation is tested over real sockets in test_chat_live.py."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from tests.builders import SH, ticket_filed
from tickets.models import Chat, Message, Ticket
from tickets.services.chat import availability_set

pytestmark = pytest.mark.django_db

START = {
    "description": "快递显示已签收，但我没收到。",
    "requester_name": "李娜",
    "requester_phone": "138 1234 5678",
}


@pytest.fixture
def consumer():
    return Client(HTTP_ACCEPT_LANGUAGE="zh-hans")


def png(name: str = "截图.png") -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_a_consumer_starts_a_chat_and_lands_in_its_window_with_an_agent_offered_it(consumer, category, agent):
    availability_set(user=agent, status="online")
    response = consumer.post("/chat/", START | {"category": category.pk})
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/t/{ticket.tracking_token}/chat/"
    assert (ticket.channel, ticket.requester_phone, ticket.subject) == ("chat", "+8613812345678", START["description"])
    assert Chat.objects.get(ticket=ticket).offered_to == agent
    page = consumer.get(response["Location"])
    text = page.content.decode()
    assert page.status_code == 200
    assert "正在为您接通客服" in text
    assert f'data-socket="/ws/chat/{ticket.tracking_token}/"' in text
    assert "快递显示已签收，但我没收到。" in text


def test_with_nobody_online_the_consumer_is_told_so_and_given_the_promised_time(consumer, category):
    page = consumer.get("/chat/")
    assert "当前没有客服在线" in page.content.decode()
    with time_machine.travel(datetime(2026, 12, 2, 10, 0, tzinfo=SH), tick=False):  # a Wednesday, 10:00
        response = consumer.post("/chat/", START | {"category": category.pk})
    ticket = Ticket.objects.get()
    assert ticket.channel == "chat_left"
    text = consumer.get(response["Location"]).content.decode()
    assert "当前没有客服在线。我们将在" in text
    # A refund's promise: 3 working days of 9 hours from Wednesday 10:00, Monday 10:00.
    assert 'datetime="2026-12-07T10:00:00+08:00"' in text


def test_the_chat_form_shows_each_problem_next_to_its_field_and_files_nothing(consumer, category):
    response = consumer.post("/chat/", {"category": category.pk, "description": "x", "requester_name": ""})
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"description", "requester_name", "__all__"}
    assert not Ticket.objects.exists()


def test_the_chat_window_escapes_what_people_typed(consumer, category):
    consumer.post("/chat/", START | {"category": category.pk, "description": "<script>alert(1)</script> 你好"})
    ticket = Ticket.objects.get()
    text = consumer.get(f"/t/{ticket.tracking_token}/chat/").content.decode()
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 你好" in text


def test_a_picture_sent_in_the_chat_passes_the_evidence_checks(consumer, category):
    consumer.post("/chat/", START | {"category": category.pk})
    ticket = Ticket.objects.get()
    url = f"/t/{ticket.tracking_token}/chat/picture/"
    sent = consumer.post(url, {"evidence": png()})
    assert sent.status_code == 200
    message = Message.objects.get(pk=sent.json()["id"])
    assert (message.author_kind, message.attachments.count()) == ("consumer", 1)
    fake = consumer.post(
        url, {"evidence": SimpleUploadedFile("x.png", b"MZ\x90\x00 not a picture", content_type="image/png")}
    )
    assert fake.status_code == 400
    assert fake.json()["error"]
    assert ticket.messages.count() == 2


def test_a_ticket_that_is_not_a_chat_or_a_wrong_token_has_no_chat_window(consumer, category):
    web = ticket_filed(category)
    assert consumer.get(f"/t/{web.tracking_token}/chat/").status_code == 404
    assert consumer.get("/t/not-a-token/chat/").status_code == 404


def test_the_tracking_page_offers_the_chat(consumer, category):
    web = ticket_filed(category, order_number="2026112312345")
    text = consumer.get(f"/t/{web.tracking_token}/").content.decode()
    assert f'href="/chat/?category={category.pk}&amp;order_number=2026112312345"' in text
    form = consumer.get(f"/chat/?category={category.pk}&order_number=2026112312345").context["form"]
    assert (form.initial["category"], form.initial["order_number"]) == (category.pk, "2026112312345")


def test_the_complaint_page_offers_the_chat_in_english_too(category):
    text = Client().get("/en/complaints/new/").content.decode()
    assert 'href="/en/chat/"' in text
    assert "Chat with customer service" in text
