"""The SLA targets' list in the admin is readable on a 1440 × 900 screen, in
Chinese and in English, with the app navigation open: every column fits,
nothing scrolls sideways (issue 22). Screenshots: tests/screenshots/
admin-sla-targets-1440-<language>.png.

The rows are the targets a few days' work leaves: first responses met, breached
and no longer owed, a second response cycle, the resolution paused while the
consumer is asked, a merchant's reply running."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from tests.factories import MerchantFactory
from tickets import services
from tickets.escalation import sla_sweep
from tickets.models import SLATarget

PASSWORD = "correct-horse-battery-staple"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def complaint(category, subject: str, at, **fields):
    return services.ticket_create(
        category=category, subject=subject, body=f"{subject}，请处理。", requester_name="李雷",
        requester_phone="13812345678", now=at, **fields,
    )  # fmt: skip


@pytest.mark.parametrize(("language", "prefix"), [("zh-hans", ""), ("en", "/en")])
@pytest.mark.django_db(transaction=True)
def test_the_sla_target_list_fits_a_1440_screen(
    live_server, chromium, screenshots, category, urgent_category, agent, language, prefix
):
    # Given targets in every state, of tickets filed over the last days
    get_user_model().objects.create_superuser("root", "root@staff.example", PASSWORD)
    now = timezone.now()
    answered = complaint(category, "退款七天没到账", now - timedelta(days=3))
    for days in (2, 1):  # two answers, each followed by the consumer: a second response cycle
        services.ticket_reply(ticket=answered, author=agent, body="已为您催促退款", now=now - timedelta(days=days))
        services.ticket_consumer_message(ticket=answered, body="还是没有到账", now=now - timedelta(days=days, hours=-1))
    asked = complaint(category, "物流一直不更新", now - timedelta(days=2))
    services.ticket_reply(ticket=asked, author=agent, body="请提供订单号", now=now - timedelta(days=1))
    services.ticket_change_status(ticket=asked, status="pending", actor=agent, now=now - timedelta(days=1))
    complaint(urgent_category, "下单时提示订单错误，无法付款", now - timedelta(hours=30))
    merchant = MerchantFactory(name="好运来旗舰店")
    shop = complaint(category, "商家不回复消息", now - timedelta(hours=6), merchant=merchant)
    services.ticket_forward_to_merchant(ticket=shop, actor=agent, now=now - timedelta(hours=5))
    settled = complaint(category, "商家已同意退款", now - timedelta(days=4), merchant=merchant)
    services.ticket_forward_to_merchant(ticket=settled, actor=agent, now=now - timedelta(days=4))
    services.ticket_change_status(ticket=settled, status="resolved", actor=agent, now=now - timedelta(days=3))
    for hours in (1, 2, 3, 5, 8):
        complaint(urgent_category, "付款成功但没有生成订单", now - timedelta(hours=hours))
    sla_sweep(now=now)
    # 4 (first response, two response cycles, resolution) + 2 (the pending ticket owes no
    # response) + 2 + 3 and 3 (with the merchant's reply) + 5 × 2
    targets = SLATarget.objects.count()
    assert targets == 24

    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        # When the administrator signs in and opens the SLA targets
        page.goto(f"{live_server.url}{prefix}/admin/login/?next={prefix}/admin/tickets/slatarget/")
        page.fill("#id_username", "root")
        page.fill("#id_password", PASSWORD)
        page.click("#login-form input[type=submit]")
        page.wait_for_url(f"{live_server.url}{prefix}/admin/tickets/slatarget/")
        assert page.locator("html").get_attribute("lang") == language

        # Then every row is listed, with the app navigation open beside the list
        assert page.locator("#result_list tbody tr").count() == targets
        assert page.locator("#result_list tbody tr").filter(has_text=answered.reference).count() == 4
        assert page.locator("#nav-sidebar").is_visible()
        page.screenshot(path=screenshots / f"admin-sla-targets-1440-{language}.png", full_page=True)

        # and nothing is wider than the window: not the page, not the table's own scroller
        widths = page.evaluate(
            """() => {
                const results = document.querySelector('#changelist .results');
                const table = document.querySelector('#result_list');
                return {
                    window: window.innerWidth,
                    page: document.documentElement.scrollWidth,
                    results: results.clientWidth,
                    resultsScroll: results.scrollWidth,
                    tableRight: table.getBoundingClientRect().right,
                };
            }"""
        )
        assert widths["page"] <= widths["window"], widths
        assert widths["resultsScroll"] <= widths["results"], widths
        assert widths["tableRight"] <= widths["window"], widths
    finally:
        context.close()
