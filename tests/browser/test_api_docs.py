"""An integrator reads the API documentation at /api/docs/ (Swagger UI, served
from our own static files), finds the tickets endpoints and their error
responses, and, signed in to the desk as an agent, tries the ticket list."""

import pytest

from tests.builders import ticket_filed

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.django_db(transaction=True)
def test_an_integrator_reads_and_tries_the_api_docs(live_server, browser_page, screenshots, agent, category):
    ticket = ticket_filed(category, subject="聊天里转来的投诉")
    page = browser_page
    page.goto(f"{live_server.url}/desk/login/?next=/api/docs/")
    page.fill("#id_username", "agent")
    page.fill("#id_password", "pass12345")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/api/docs/")
    page.wait_for_selector("text=cs_desk API")
    operations = page.locator(".opblock")
    operations.first.wait_for()
    assert operations.count() >= 25
    assert page.locator(".opblock-summary-path", has_text="/api/v1/tickets/{id}/messages/").count() == 2  # GET, POST
    page.screenshot(path=str(screenshots / "api-1-docs.png"), full_page=False)

    listing = page.locator(".opblock-get").filter(
        has=page.locator('.opblock-summary-path[data-path="/api/v1/tickets/"]')
    )
    listing.locator(".opblock-summary").click()
    for code in ("200", "400", "401", "403", "404", "429"):
        assert listing.locator(f'.responses-table tr.response[data-code="{code}"]').count() == 1, code
    listing.locator("button.try-out__btn").click()
    listing.locator("button.execute").click()
    live = listing.locator(".live-responses-table tr.response .response-col_status").first
    live.wait_for()
    assert live.inner_text().strip().startswith("200")
    assert ticket.reference in listing.locator(".live-responses-table .microlight").first.inner_text()
    listing.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "api-2-try-tickets.png"), full_page=False)
