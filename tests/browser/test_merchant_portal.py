"""A merchant signs in to the portal, finds the complaint whose deadline is
near (amber countdown), reads the conversation with the consumer's contact
masked, answers before the deadline, and the complaint shows as answered; a
missed deadline escalates the ticket in the agents' queue. In English, a
manager reads the merchant scorecards, one shop's trend and the risk signals."""

from datetime import timedelta

import pytest
from django.utils import timezone

from merchants.models import MerchantScore
from merchants.penalties import merchants_daily
from merchants.risk import risk_signals_detect
from merchants.scoring import merchant_scores_compute
from tests.merchants.helpers import forwarded, shop
from tickets import services
from tickets.escalation import sla_sweep
from tickets.models import Notification, SLATarget, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def sign_in(page, url: str, username: str, button: str) -> None:
    page.goto(url)
    page.fill("#id_username", username)
    page.fill("#id_password", "pass12345")
    page.get_by_role("button", name=button).click()


@pytest.mark.django_db(transaction=True)
def test_merchant_answers_before_the_deadline(live_server, browser_page, screenshots, agent, category):
    now = timezone.now()
    merchant, _user = shop(name="好运来旗舰店", username="haoyunlai")
    near = forwarded(category, merchant, agent, at=now - timedelta(hours=20), subject="赠品没有发货")
    services.ticket_assign(ticket=near, assignee=agent, actor=agent, now=now - timedelta(hours=20))
    services.ticket_reply(ticket=near, author=agent, body="内部：此店上月已有两次投诉", public=False)
    forwarded(category, merchant, agent, at=now - timedelta(hours=1), subject="商品与描述不符")
    missed = forwarded(category, merchant, agent, at=now - timedelta(hours=30), subject="退款迟迟不到账")
    sla_sweep()
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})

    sign_in(page, f"{live_server.url}/merchant/", "haoyunlai", "登录")
    page.wait_for_url(f"{live_server.url}/merchant/")
    rows = page.locator("#complaints tbody tr")
    assert rows.count() == 2  # the missed one is no longer awaiting a reply
    assert "赠品没有发货" in rows.first.inner_text()
    assert "warn" in rows.first.locator(".countdown").get_attribute("class")  # 20 h of 24
    assert "warn" not in rows.nth(1).locator(".countdown").get_attribute("class")
    page.screenshot(path=str(screenshots / "merchant-1-complaints.png"), full_page=True)

    rows.first.get_by_role("link", name="赠品没有发货").click()
    page.wait_for_url("**/merchant/complaints/*/")
    text = page.locator("main").inner_text()
    assert "138****5678" in text and "13812345678" not in text
    assert "内部" not in text
    page.fill("#id_body", "您好，赠品已于今天补发，单号 SF1234567890，给您添麻烦了。")
    page.screenshot(path=str(screenshots / "merchant-2-reply.png"), full_page=True)
    page.get_by_role("button", name="发送回复").click()
    page.wait_for_url("**/merchant/complaints/*/")
    assert page.get_by_text("您的答复已发送给消费者和平台。").is_visible()
    assert page.locator(".deadline").inner_text().startswith("已答复")
    assert page.locator(".msg-merchant").inner_text().count("SF1234567890") == 1
    page.screenshot(path=str(screenshots / "merchant-3-answered.png"), full_page=True)
    assert SLATarget.objects.get(ticket=near, kind="merchant_reply").status == "met"
    assert Notification.objects.filter(ticket=near, kind="merchant_replied", recipient=agent.email).exists()

    merchants_daily()
    page.get_by_role("link", name="评分").click()
    page.wait_for_url("**/merchant/scorecard/")
    figures = page.locator(".figures").inner_text()
    assert "50.0%" in figures  # one answered in time, one missed
    assert missed.reference in page.locator("main").inner_text()
    page.screenshot(path=str(screenshots / "merchant-4-scorecard.png"), full_page=True)

    # The missed complaint is back in the agents' queue, escalated.
    page.get_by_role("button", name="退出").click()
    sign_in(page, f"{live_server.url}/desk/", agent.username, "登录")
    page.wait_for_url(f"{live_server.url}/desk/")
    row = page.locator("#queue-rows tr", has_text="退款迟迟不到账")
    assert row.locator(".level").inner_text() == "L1"
    assert Ticket.objects.get(pk=missed.pk).status == "open"


@pytest.mark.django_db(transaction=True)
def test_manager_reads_scorecards_and_risk_signals_in_english(
    live_server, browser_page, screenshots, manager, agent, category
):
    now = timezone.now()
    good, good_user = shop(name="晨光数码专营店", username="chenguang")
    bad, _ = shop(name="潮流运动鞋城", username="chaoliu", contact_phone="13800001111")
    shop(name="潮流运动鞋城二店", username="chaoliu2", contact_phone="13800001111")
    for days in (12, 9, 6, 3):
        t = forwarded(category, good, agent, at=now - timedelta(days=days))
        services.ticket_merchant_reply(
            ticket=t, author=good_user, body="已处理", now=now - timedelta(days=days, hours=-2)
        )
        forwarded(category, bad, agent, at=now - timedelta(days=days))
        sla_sweep(now=now - timedelta(days=days) + timedelta(hours=25))
        merchant_scores_compute(now=now - timedelta(days=days) + timedelta(hours=26))
    merchants_daily(now=now)
    risk_signals_detect(now=now)
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})

    sign_in(page, f"{live_server.url}/en/desk/", manager.username, "Sign in")
    page.wait_for_url(f"{live_server.url}/en/desk/")
    page.get_by_role("link", name="Merchants").click()
    page.wait_for_url("**/en/reports/merchants/")
    rows = page.locator("#scorecards tbody tr")
    assert "潮流运动鞋城" in rows.first.inner_text()  # lowest score first
    assert "Restricted" in rows.first.inner_text() or "Warned" in rows.first.inner_text()
    page.screenshot(path=str(screenshots / "merchant-5-scorecards-en.png"), full_page=True)

    rows.first.get_by_role("link", name="潮流运动鞋城").click()
    page.wait_for_url("**/en/reports/merchants/*/")
    # A point for every day from the first snapshot to today (a day without one carries the last forward).
    first = MerchantScore.objects.filter(merchant=bad).order_by("day").values_list("day", flat=True).first()
    assert page.locator("figure.chart svg circle").count() == (timezone.localdate(now) - first).days + 1
    assert "Automatic (penalty ladder)" in page.locator("main").inner_text()
    page.screenshot(path=str(screenshots / "merchant-6-detail-en.png"), full_page=True)

    page.goto(f"{live_server.url}/en/reports/merchants/risk/")
    card = page.locator("article.review", has_text="Merchants sharing a phone or email")
    assert "Merchants sharing a phone or email" in card.inner_text()
    assert "13800001111" in card.inner_text()
    card.locator("textarea").fill("Same owner, two licences checked.")
    card.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/en/reports/merchants/risk/**")
    assert page.get_by_text("Signal updated.").is_visible()
    page.screenshot(path=str(screenshots / "merchant-7-risk-en.png"), full_page=True)
