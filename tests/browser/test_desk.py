"""An agent signs in to the desk, sees the overdue ticket on top of the queue,
claims it, replies, and the SLA panel shows the first response met."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tickets import services
from tickets.escalation import sla_sweep
from tickets.models import SLATarget

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.django_db(transaction=True)
def test_agent_works_the_overdue_ticket_first(live_server, browser_page, screenshots, agent, category, urgent_category):
    now = timezone.now()
    for hours, cat, subject in [(1, category, "退款七天没到账"), (20, urgent_category, "下单提示系统繁忙"),
                                (26, urgent_category, "付款成功但没有订单")]:  # fmt: skip
        services.ticket_create(
            category=cat, subject=subject, body=subject + "，请尽快处理。", requester_name="王芳",
            requester_phone="13800138000", now=now - timedelta(hours=hours),
        )  # fmt: skip
    sla_sweep()
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})

    page.goto(f"{live_server.url}/desk/")
    page.fill("#id_username", agent.username)
    page.fill("#id_password", "pass12345")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/desk/")

    first = page.locator("#queue-rows tr").first
    assert "付款成功但没有订单" in first.inner_text()
    assert "over" in first.locator(".countdown").get_attribute("class")
    second = page.locator("#queue-rows tr").nth(1).locator(".countdown")
    assert "warn" in second.get_attribute("class")  # 20 h of 24: past the 75 % warning
    page.screenshot(path=str(screenshots / "desk-1-queue.png"), full_page=True)

    page.keyboard.press("o")  # the selected (first) row opens
    page.wait_for_url("**/desk/tickets/*/")
    page.get_by_role("button", name="认领").click()
    page.wait_for_load_state()
    assert page.get_by_text("工单已归您处理。").is_visible()
    page.fill("#id_body", "您好，已为您核实付款记录，订单将在一小时内补发。")
    page.get_by_role("button", name="发送", exact=True).click()
    page.wait_for_load_state()
    row = page.locator(".sla tr.state-met_late, .sla tr.state-met").first
    assert "首次响应" in row.inner_text()
    page.screenshot(path=str(screenshots / "desk-2-workspace.png"), full_page=True)
    target = SLATarget.objects.get(kind="first_response", ticket__subject="付款成功但没有订单")
    assert target.status == "met"
