"""A manager signs in and reads the SLA report in Chinese (figures, the trend
chart, the grouped table, the overdue list linking to the workspace), then the
backlog, volume peaks, satisfaction and the feedback inbox in English, and
prints the SLA report without its controls."""

from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.services import feedback_submit, survey_submit
from tickets import services
from tickets.escalation import sla_sweep
from tickets.models import AlertKeyword

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def complaint(category, subject: str, at):
    return services.ticket_create(
        category=category, subject=subject, body=f"{subject}，请处理。", requester_name="李雷",
        requester_phone="13812345678", now=at,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_manager_reads_the_reports(live_server, browser_page, screenshots, manager, agent, category, urgent_category):
    now = timezone.now()
    # Answered in time, answered late, never answered (overdue), and resolved and rated.
    quick = complaint(urgent_category, "付款成功但没有订单", now - timedelta(days=3))
    services.ticket_reply(ticket=quick, author=agent, body="已为您补单", now=now - timedelta(days=3, hours=-1))
    slow = complaint(urgent_category, "下单失败", now - timedelta(days=5))
    services.ticket_reply(ticket=slow, author=agent, body="抱歉久等", now=now - timedelta(days=3))
    complaint(urgent_category, "订单显示异常", now - timedelta(days=2))
    rated = complaint(category, "退款七天没到账", now - timedelta(days=6))
    services.ticket_reply(ticket=rated, author=agent, body="已退款", now=now - timedelta(days=6, hours=-2))
    services.ticket_change_status(ticket=rated, status="resolved", actor=agent, now=now - timedelta(days=5))
    survey_submit(ticket=rated, rating=4, comment="退款到账了，谢谢", now=now - timedelta(days=5, hours=-1))
    AlertKeyword.objects.create(word="诈骗")
    feedback_submit(topic="site", body="收到冒充客服的诈骗短信", contact="13900002222", language="zh-hans")
    sla_sweep(now=now)

    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/desk/login/?next=/reports/sla/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "pass12345")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/reports/sla/")
    assert page.locator("h1").inner_text() == "SLA 报告"
    # First responses: two met in time (one of them the rated refund), one late, one overdue → 2 of 4.
    first = page.locator("#targets tr[data-kind=first_response]").inner_text()
    assert "50.0%" in first
    assert page.locator(".chart svg rect.bar").count() == 30  # one bar per day of the default 30 days
    assert "订单显示异常" in page.locator("#overdue-list").inner_text()
    page.screenshot(path=str(screenshots / "reports-1-sla-zh.png"), full_page=True)

    page.select_option("select[name=group]", "priority")
    page.get_by_role("button", name="应用").click()
    page.wait_for_url("**/reports/sla/?*group=priority*")
    assert "紧急" in page.locator("#groups").inner_text()
    page.locator("#overdue-list tr", has_text="订单显示异常").locator("a").click()
    page.wait_for_url("**/desk/tickets/*/")
    assert "订单显示异常" in page.locator("main").inner_text()

    page.emulate_media(media="print")
    page.goto(f"{live_server.url}/reports/sla/")
    assert not page.locator(".report-tabs").is_visible() and not page.locator("a.export").first.is_visible()
    page.screenshot(path=str(screenshots / "reports-2-sla-print.png"), full_page=True)
    page.emulate_media(media="screen")

    page.goto(f"{live_server.url}/en/reports/volume/")
    assert "Complaints by hour of the week" in page.locator("main").inner_text()
    assert page.locator(".chart svg rect.cell").count() == 2 * 7 * 24  # the heatmap and the forecast
    page.screenshot(path=str(screenshots / "reports-3-volume-en.png"), full_page=True)
    page.goto(f"{live_server.url}/en/reports/backlog/")
    assert page.locator("#open-total").inner_text() == "3"
    page.screenshot(path=str(screenshots / "reports-4-backlog-en.png"), full_page=True)
    page.goto(f"{live_server.url}/en/reports/satisfaction/")
    assert page.locator("#csat-average").inner_text() == "4.0"
    assert "退款到账了，谢谢" in page.locator("#comments").inner_text()
    page.screenshot(path=str(screenshots / "reports-5-satisfaction-en.png"), full_page=True)
    page.goto(f"{live_server.url}/en/reports/feedback/")
    assert "139****2222" in page.locator("#feedback-list").inner_text()
    page.get_by_role("button", name="Mark handled").click()
    page.wait_for_url("**/en/reports/feedback/**")
    assert page.get_by_role("button", name="Reopen").is_visible()
    page.screenshot(path=str(screenshots / "reports-6-feedback-en.png"), full_page=True)
