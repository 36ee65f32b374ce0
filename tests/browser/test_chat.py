"""A consumer on a phone chats with an agent at the desk, in two real Chromium
contexts, against the servers as make run starts them (gunicorn for the pages,
uvicorn for the WebSockets). In Chinese, and in English: the agent goes online,
the consumer starts a chat from the complaint page, the offer reaches the agent,
who takes it; then each side's messages, the agent's typing and the read mark
arrive live, without a reload. Screenshots of both sides."""

from __future__ import annotations

import pytest

from tests.browser.conftest import browser_context
from tests.desk.test_live import Server
from tickets.models import Chat, Ticket

LIVE = "() => document.body.dataset.liveState === 'open'"  # the desk page's socket is open
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WORDS = {
    "zh-hans": {
        "prefix": "",
        "locale": "zh-CN",
        "sign_in": "登录",
        "chat_link": "联系在线客服",
        "start": "开始会话",
        "connecting": "正在为您接通客服",
        "accept": "接入",
        "answering": "客服正在为您服务。",
        "send": "发送",
        "read": "消费者已读",
        "with_agent": "客服接待中",
        "you": "您",
        "service": "客服",
        "consumer_says": "订单显示已签收，可是我没收到货。",
        "agent_says": "您好，我马上联系快递公司核实。",
        "consumer_again": "好的，谢谢！单号是 SF1234567890",
    },
    "en": {
        "prefix": "/en",
        "locale": "en-GB",
        "sign_in": "Sign in",
        "chat_link": "Chat with customer service",
        "start": "Start the chat",
        "connecting": "Connecting you to an agent",
        "accept": "Accept",
        "answering": "Customer service is answering you.",
        "send": "Send",
        "read": "Read by the consumer",
        "with_agent": "With an agent",
        "you": "You",
        "service": "Customer service",
        "consumer_says": "The parcel says delivered but I never got it.",
        "agent_says": "Hello, I am checking with the courier now.",
        "consumer_again": "Thank you! The waybill is SF1234567890",
    },
}


@pytest.fixture
def servers(tmp_path):
    live = Server("live", tmp_path)
    web = Server("web", tmp_path, live_url=f"ws://127.0.0.1:{live.port}")
    yield web
    web.stop()
    live.stop()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_consumer_on_a_phone_chats_live_with_an_agent_at_the_desk(
    servers, chromium, screenshots, agent, category, language
):
    w = WORDS[language]
    base = servers.url + w["prefix"]
    desk_context = browser_context(chromium, viewport={"width": 1440, "height": 900}, locale=w["locale"])
    phone_context = browser_context(chromium, locale=w["locale"], **PHONE)
    problems = []
    desk, phone = desk_context.new_page(), phone_context.new_page()
    for page in (desk, phone):
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
        page.on("response", lambda r: problems.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
    try:
        # The agent signs in and goes online from the header.
        desk.goto(f"{base}/desk/")
        desk.fill("#id_username", agent.username)
        desk.fill("#id_password", "pass12345")
        desk.get_by_role("button", name=w["sign_in"]).click()
        desk.wait_for_url(f"{base}/desk/")
        desk.select_option("#availability-status", "online")
        desk.locator("#availability button").click()
        desk.wait_for_function(LIVE)

        # The consumer opens the chat from the complaint page and says what it is about.
        phone.goto(f"{base}/complaints/new/")
        phone.get_by_role("link", name=w["chat_link"]).click()
        phone.select_option("#id_category", str(category.pk))
        phone.fill("#id_description", w["consumer_says"])
        phone.fill("#id_requester_name", "李娜")
        phone.fill("#id_requester_phone", "13812345678")
        phone.get_by_role("button", name=w["start"]).click()
        phone.wait_for_url("**/chat/")
        assert w["connecting"] in phone.locator("#chat-state").inner_text()
        ticket = Ticket.objects.get()

        # The offer reaches the agent, who takes it.
        offer = desk.locator("#chat-offer")
        offer.wait_for(state="visible", timeout=10_000)
        assert ticket.reference in offer.inner_text()
        desk.screenshot(path=str(screenshots / f"chat-{language}-1-offer.png"))
        offer.get_by_role("button", name=w["accept"]).click()
        desk.wait_for_url(f"**/desk/tickets/{ticket.pk}/")
        assert w["with_agent"] in desk.locator("#chat-state").inner_text()
        phone.locator("#chat-state", has_text=w["answering"]).wait_for(timeout=10_000)

        # The agent answers; the consumer reads it, and the agent sees it read.
        desk.wait_for_function(LIVE)
        desk.fill("#id_body", w["agent_says"])
        desk.locator("#reply button[type=submit]").click()
        phone.locator(".bubble.from-agent", has_text=w["agent_says"]).wait_for(timeout=10_000)
        desk.locator(".msg-agent[data-read]").wait_for(timeout=10_000)
        assert w["read"] in desk.locator(".msg-agent[data-read]").get_attribute("data-read")

        # The consumer writes back: it appears in the workspace without a reload.
        phone.fill("#chat-body", w["consumer_again"])
        phone.locator("#chat-body").press("Enter")
        desk.locator("#thread .msg-consumer", has_text=w["consumer_again"]).wait_for(timeout=10_000)
        assert desk.locator("#thread .msg-consumer strong").all_inner_texts() == ["李娜", "李娜"]
        phone.locator(".bubble.from-consumer:not(.pending)", has_text=w["consumer_again"]).wait_for()
        assert phone.locator("#chat-state").inner_text() == w["answering"]  # in the consumer's language
        labels = phone.locator(".bubble .who").all_inner_texts()
        assert labels == [w["you"], w["service"], w["you"]]
        phone.screenshot(path=str(screenshots / f"chat-{language}-2-phone.png"), full_page=True)
        desk.screenshot(path=str(screenshots / f"chat-{language}-3-desk.png"), full_page=True)
    finally:
        desk_context.close()
        phone_context.close()
    assert list(ticket.messages.values_list("author_kind", "body")) == [
        ("consumer", w["consumer_says"]),
        ("agent", w["agent_says"]),
        ("consumer", w["consumer_again"]),
    ]
    assert Chat.objects.get(ticket=ticket).state == "connected"
    assert not problems
