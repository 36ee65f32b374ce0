"""The live desk in a real Chromium, against the servers as make run starts them
(gunicorn for the pages, uvicorn for the WebSockets, LIVE_URL pointing at it): a
complaint filed while the agent looks at the queue appears in it within seconds
(the fallback refresh is every 30 s), and the workspace of a ticket the consumer
just wrote on says so. No CSP violation: connect-src names LIVE_URL."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.builders import ticket_filed
from tests.desk.test_live import Server
from tickets import services
from tickets.escalation import sla_sweep

LIVE = "() => document.body.dataset.liveState === 'open'"  # the page's socket is open
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def web(tmp_path):
    live = Server("live", tmp_path)
    server = Server("web", tmp_path, live_url=f"ws://127.0.0.1:{live.port}")
    yield server
    server.stop()
    live.stop()


def signed_in(page, web, agent) -> str:
    base = web.url
    page.goto(f"{base}/desk/")
    page.fill("#id_username", agent.username)
    page.fill("#id_password", "pass12345")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/desk/")
    return base


def test_a_new_complaint_appears_in_the_open_queue_and_a_new_message_on_the_open_ticket(
    web, browser_page, screenshots, agent, category, urgent_category
):
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    first = ticket_filed(category, subject="退款七天没到账")
    base = signed_in(page, web, agent)
    assert page.locator("#queue-rows tr").count() == 1
    page.wait_for_function(LIVE)

    filed_at = time.monotonic()
    ticket_filed(category, subject="付款成功但没有订单")
    page.locator("#queue-rows tr", has_text="付款成功但没有订单").wait_for(timeout=10_000)
    assert time.monotonic() - filed_at < 10  # not the 30 s fallback
    assert page.locator("#queue-rows tr").count() == 2
    page.screenshot(path=str(screenshots / "live-desk-1-queue.png"), full_page=True)

    page.goto(f"{base}/desk/tickets/{first.pk}/")
    notice = page.locator("#live-changed")
    assert notice.is_hidden()
    page.wait_for_function(LIVE)
    services.ticket_consumer_message(ticket=first, body="还是没有收到退款，麻烦再查一下")
    notice.wait_for(state="visible", timeout=10_000)
    assert "此工单在您打开后有了变化" in notice.inner_text()
    page.screenshot(path=str(screenshots / "live-desk-2-workspace.png"), full_page=True)
    notice.get_by_role("link").click()
    page.wait_for_load_state()
    assert page.get_by_text("还是没有收到退款，麻烦再查一下").is_visible()

    # A ticket of the agent's breaches: the alert names it, the header counts it.
    page.goto(f"{base}/desk/")
    page.wait_for_function(LIVE)
    late = ticket_filed(urgent_category, at=timezone.now() - timedelta(hours=25), subject="付款成功但没有订单")
    services.ticket_assign(ticket=late, assignee=agent, actor=agent)
    sla_sweep()
    alert = page.locator("#live-alert")
    alert.wait_for(state="visible", timeout=10_000)
    assert f"已超时 · {late.reference} 付款成功但没有订单" in alert.inner_text()
    assert page.locator("#alerts-count").inner_text() == "1"
    page.screenshot(path=str(screenshots / "live-desk-3-alert.png"), full_page=True)
    page.goto(f"{base}/desk/alerts/")
    assert late.reference in page.locator(".alert-list").inner_text()
    page.screenshot(path=str(screenshots / "live-desk-4-alerts.png"), full_page=True)
    alert_link = page.get_by_role("link", name=late.reference)
    alert_link.click()
    page.wait_for_url(f"**/desk/tickets/{late.pk}/")
    assert violations == []


def test_the_collision_warning_appears_as_soon_as_another_agent_starts_writing(
    web, browser_page, screenshots, agent, supervisor, category
):
    from django.test import Client

    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    ticket = ticket_filed(category, subject="退款七天没到账")
    base = signed_in(page, web, supervisor)
    page.goto(f"{base}/desk/tickets/{ticket.pk}/")
    page.wait_for_function(LIVE)
    banner = page.locator("#collision")
    assert banner.is_hidden()

    writer = Client()  # the agent's page on the same ticket: its reply box beats as they type
    writer.force_login(agent)
    writer.post(f"/desk/tickets/{ticket.pk}/presence/")

    banner.wait_for(state="visible", timeout=10_000)  # the supervisor has not typed a thing
    assert "agent" in banner.inner_text() and "也在回复此工单" in banner.inner_text()
    page.screenshot(path=str(screenshots / "live-desk-5-collision.png"), full_page=True)
    writer.post(f"/desk/tickets/{ticket.pk}/presence/", {"leaving": "1"})
    banner.wait_for(state="hidden", timeout=10_000)
