"""An administrator sees an escalated ticket in the admin, in a real browser.

An urgent ticket filed 25 hours ago has missed its first response (24 calendar
hours): the sweep has warned (75 % = 18 h) and breached it (100 % = 24 h), but
not yet taken level 2 (150 % = 36 h). The admin, in its default Chinese, shows
the ticket overdue at escalation level 1, still urgent, handed to the team's
supervisor, and the breach in the ticket's audit trail."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone, translation

from tickets import services
from tickets.escalation import sla_sweep
from tickets.models import SLATarget, Ticket, TicketEvent

PASSWORD = "correct-horse-battery-staple"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def zh(label) -> str:
    """A model choice label as the Chinese admin shows it."""
    with translation.override("zh-hans"):
        return str(label)


@pytest.mark.django_db(transaction=True)
def test_admin_shows_an_escalated_ticket(live_server, browser_page, screenshots, urgent_category, supervisor):
    # Given a superuser, and an urgent ticket of the supervisor's team filed 25 hours ago
    get_user_model().objects.create_superuser("root", "root@staff.example", PASSWORD)
    ticket = services.ticket_create(
        category=urgent_category,
        subject="下单时提示订单错误，无法付款",
        body="提交订单时一直提示“订单错误”，试了三次都不行。",
        requester_name="李雷",
        requester_phone="13900139000",
        now=timezone.now() - timedelta(hours=25),
    )

    # When the sweep runs
    counts = sla_sweep()

    # Then the first response has warned and breached (18 h and 24 h ago passed), not level 2 (36 h)
    assert (counts["warning"], counts["breach"], counts["level2"]) == (1, 1, 0)
    ticket.refresh_from_db()
    assert (ticket.is_overdue, ticket.escalation_level, ticket.priority) == (True, 1, "urgent")
    assert ticket.assignee == supervisor

    page = browser_page
    # The administrator signs in through the (Chinese) login form.
    page.goto(f"{live_server.url}/admin/")
    assert "/admin/login/" in page.url
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    page.click("#login-form input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    assert page.locator("#user-tools").is_visible()
    page.screenshot(path=screenshots / "admin-index.png", full_page=True)

    # The ticket list shows the escalation on the ticket's row.
    page.goto(f"{live_server.url}/admin/tickets/ticket/")
    row = page.locator("#result_list tbody tr").filter(has_text=ticket.reference)
    assert row.count() == 1
    assert row.locator("td.field-is_overdue img").get_attribute("alt") == "True"
    assert row.locator("td.field-escalation_level").inner_text().strip() == "1"
    assert row.locator("td.field-priority").inner_text().strip() == zh(Ticket.Priority.URGENT.label)
    assert row.locator("td.field-status").inner_text().strip() == zh(Ticket.Status.NEW.label)
    assert row.locator("td.field-assignee").inner_text().strip() == "supervisor"
    page.screenshot(path=screenshots / "admin-changelist.png", full_page=True)

    # The ticket page lists the breach in its audit trail.
    row.locator("th.field-reference a").click()
    page.wait_for_url(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")
    events = page.locator("#events-group tbody tr").filter(has_text=zh(TicketEvent.Kind.SLA_BREACH.label))
    assert events.count() == 1
    assert events.locator("td.field-target_kind").inner_text().strip() == zh(SLATarget.Kind.FIRST_RESPONSE.label)
    assert events.locator("td.field-step").inner_text().strip() == "2"
    warnings = page.locator("#events-group tbody tr").filter(has_text=zh(TicketEvent.Kind.SLA_WARNING.label))
    assert warnings.count() == 1
    assert page.locator("#events-group tbody tr").filter(has_text=zh(TicketEvent.Kind.SLA_LEVEL2.label)).count() == 0
    page.screenshot(path=screenshots / "admin-ticket.png", full_page=True)
    page.locator("#events-group").screenshot(path=screenshots / "admin-ticket-events.png")
