"""Every page under the Content-Security-Policy in a real Chromium: the browser
reports no violation (neither a ``securitypolicyviolation`` event nor a console
message), no script fails, and each page's script still does its work — the
complaint form's file checks with their translated messages, the local time on
the tracking page, the "go back" link, the desk's countdowns, the reports'
Print button, the admin's ticket styles, Swagger UI and ReDoc."""

from datetime import timedelta
from io import BytesIO

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from PIL import Image

from tests.factories import MerchantFactory
from tests.merchants.helpers import forwarded, shop
from tickets import services
from tickets.escalation import sla_sweep
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Records what the policy refuses on each page (before any of the page's own scripts run).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  var where = event.sourceFile + ":" + event.lineNumber;
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI + " (" + where + ")");
});
"""


class PolicyWatch:
    """The violations and script errors of the page since the last look."""

    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        self.errors: list[str] = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.console.append(message.text)

    def look(self) -> list[str]:
        found = self.page.evaluate("window.__cspViolations || []") + self.console + self.errors
        self.page.evaluate("window.__cspViolations = []")
        self.console.clear()
        self.errors.clear()
        return found

    def assert_clean(self) -> None:
        assert self.look() == [], self.page.url


def picture(path, size=(390, 700)) -> None:
    buffer = BytesIO()
    Image.new("RGB", size, (237, 237, 237)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())


def sign_in(page, url: str, username: str, password: str = "pass12345") -> None:
    page.goto(url)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("form button[type=submit], #login-form input[type=submit]").first.click()


@pytest.mark.django_db(transaction=True)
def test_the_consumer_pages_run_their_scripts_under_the_policy(
    live_server, browser_page, screenshots, tmp_path, settings, category, agent
):
    MerchantFactory(name="开心小店", shop_id="SHOP00042")
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    watch = PolicyWatch(page)

    # The complaint form: the shop search suggests the shop; the file check says at
    # once, in Chinese, that a file is too large, and keeps the form from being sent.
    page.goto(f"{live_server.url}/complaints/new/")
    page.get_by_label("退款").check()
    page.fill("#id_requester_name", "王芳")
    page.fill("#id_requester_phone", "138 0013 8000")
    page.fill("#id_description", "申请退款七天了还没有到账，商家说已经退了，请帮忙查一下。")
    page.locator("#id_shop").press_sequentially("开心", delay=30)  # the shop search fills the suggestions
    page.wait_for_function("() => document.querySelectorAll('#shop-options option').length === 1")
    assert page.locator("#shop-options option").get_attribute("value") == "SHOP00042"
    huge = tmp_path / "录屏.mp4"
    with huge.open("wb") as out:
        out.truncate(settings.EVIDENCE_MAX_FILE_BYTES + 1)
    page.set_input_files("#id_evidence", str(huge))
    note = page.locator("#id_evidence + p.error")
    assert note.inner_text() == "“录屏.mp4”超过 10 MB。"
    page.get_by_role("button", name="提交投诉").click()  # the check keeps the form from being sent
    assert page.url == f"{live_server.url}/complaints/new/"
    assert not Ticket.objects.exists()
    page.screenshot(path=str(screenshots / "csp-1-complaint-form.png"), full_page=True)

    # Too many files: the other message; then one picture, and no message.
    pictures = []
    for n in range(settings.EVIDENCE_MAX_FILES + 1):
        pictures.append(tmp_path / f"截图{n}.png")
        picture(pictures[-1])
    page.set_input_files("#id_evidence", [str(p) for p in pictures])
    assert note.inner_text() == f"最多选择 {settings.EVIDENCE_MAX_FILES} 个文件。"
    page.set_input_files("#id_evidence", str(pictures[0]))
    assert note.inner_text() == ""
    watch.assert_clean()

    # Sent: the promise, then the tracking page with the picture through the guarded view.
    page.get_by_role("button", name="提交投诉").click()
    page.wait_for_url("**/submitted/")
    watch.assert_clean()
    ticket = Ticket.objects.get()
    page.goto(f"{live_server.url}/t/{ticket.tracking_token}/")
    thumbnail = page.locator(".evidence img").first
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    assert page.locator("#id_evidence + p.error").count() == 1  # the reply form's file check is there too
    watch.assert_clean()

    # Read from Berlin, the tracking page adds the reader's own time after each instant.
    abroad = page.context.browser.new_context(locale="zh-CN", timezone_id="Europe/Berlin")
    try:
        berlin = abroad.new_page()
        berlin_watch = PolicyWatch(berlin)
        berlin.goto(f"{live_server.url}/t/{ticket.tracking_token}/")
        assert "(您的当地时间: " in berlin.locator(".promise-big").inner_text()
        berlin_watch.assert_clean()
    finally:
        abroad.close()

    # A body above the limit: the page that says so goes back to the filled-in form.
    # (The live server's wsgiref refuses the Connection: close header that page is
    # sent with, which gunicorn honours, so the browser gets the page, with its
    # policy, as the test client receives it.)
    def too_large(route):
        if route.request.method != "POST":
            return route.continue_()
        response = Client().post("/complaints/new/", {}, CONTENT_LENGTH=str(settings.EVIDENCE_MAX_REQUEST_BYTES + 1))
        assert response.status_code == 413
        route.fulfill(
            status=413,
            headers={k: response[k] for k in ("Content-Type", "Content-Security-Policy")},
            body=response.content,
        )

    page.route(f"{live_server.url}/complaints/new/", too_large)
    page.goto(f"{live_server.url}/complaints/new/")
    page.get_by_label("退款").check()
    page.fill("#id_requester_name", "王芳")
    page.fill("#id_requester_phone", "138 0013 8000")
    page.fill("#id_description", "第二次投诉，附上截图。")
    page.set_input_files("#id_evidence", str(pictures[0]))
    page.get_by_role("button", name="提交投诉").click()
    page.get_by_role("link", name="返回表单").wait_for()
    watch.assert_clean()
    page.get_by_role("link", name="返回表单").click()
    page.wait_for_url(f"{live_server.url}/complaints/new/")
    # history.back(): nothing lost. The browser puts the typed values back as it restores the
    # page, which can come after the URL has changed (a CI run under load read it empty).
    page.wait_for_function("() => document.querySelector('#id_description').value !== ''", timeout=5000)
    assert page.input_value("#id_description") == "第二次投诉，附上截图。"
    watch.assert_clean()


@pytest.mark.django_db(transaction=True)
def test_the_desk_and_the_reports_run_their_scripts_under_the_policy(
    live_server, browser_page, screenshots, agent, manager, category, urgent_category
):
    now = timezone.now()
    late = services.ticket_create(
        category=urgent_category, subject="付款成功但没有订单", body="付款成功但没有订单，请尽快处理。",
        requester_name="王芳", requester_phone="13800138000", now=now - timedelta(hours=26),
    )  # fmt: skip
    services.ticket_create(
        category=urgent_category, subject="下单提示系统繁忙", body="下单提示系统繁忙。",
        requester_name="李雷", requester_phone="13900139000", now=now - timedelta(hours=20),
    )  # fmt: skip
    sla_sweep()
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    watch = PolicyWatch(page)

    # The queue: the countdowns are drawn by desk.js (late in red, the next one amber).
    sign_in(page, f"{live_server.url}/desk/", agent.username)
    page.wait_for_url(f"{live_server.url}/desk/")
    watch.assert_clean()
    countdowns = page.locator("#queue-rows tr .countdown")
    assert "over" in countdowns.nth(0).get_attribute("class")
    assert "warn" in countdowns.nth(1).get_attribute("class")
    page.keyboard.press("j")  # and its keyboard moves the selection
    assert "selected" in page.locator("#queue-rows tr").nth(1).get_attribute("class")

    # The ticket's workspace.
    page.goto(f"{live_server.url}/desk/tickets/{late.pk}/")
    page.get_by_role("button", name="认领").click()
    page.wait_for_load_state()
    assert page.get_by_text("工单已归您处理。").is_visible()
    watch.assert_clean()
    page.get_by_role("button", name="退出").click()

    # The reports: the SLA report's Print button prints, the heatmap shades its cells.
    sign_in(page, f"{live_server.url}/desk/login/?next=/reports/sla/", manager.username)
    page.wait_for_url(f"{live_server.url}/reports/sla/")
    page.evaluate("() => { window.print = () => { window.__printed = (window.__printed || 0) + 1; }; }")
    page.get_by_role("button", name="打印").click()
    assert page.evaluate("window.__printed") == 1
    watch.assert_clean()
    page.goto(f"{live_server.url}/reports/volume/")
    cells = page.locator(".chart svg rect.cell")
    opacities = {cells.nth(i).evaluate("c => getComputedStyle(c).fillOpacity") for i in range(7 * 24)}
    assert "1" in opacities and "0.06" in opacities  # the busiest hour and the empty ones
    watch.assert_clean()
    page.goto(f"{live_server.url}/reports/merchants/")
    assert page.locator("input[name=below]").evaluate("i => i.classList.contains('narrow')")
    watch.assert_clean()


@pytest.mark.django_db(transaction=True)
def test_the_merchant_portal_runs_its_script_under_the_policy(live_server, browser_page, agent, category):
    merchant, _user = shop(name="好运来旗舰店", username="haoyunlai")
    forwarded(category, merchant, agent, at=timezone.now() - timedelta(hours=20), subject="赠品没有发货")
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    watch = PolicyWatch(page)

    sign_in(page, f"{live_server.url}/merchant/", "haoyunlai")
    page.wait_for_url(f"{live_server.url}/merchant/")
    assert "warn" in page.locator("#complaints tbody tr .countdown").first.get_attribute("class")
    watch.assert_clean()
    page.locator("#complaints tbody tr a").first.click()
    page.wait_for_url("**/merchant/complaints/*/")
    watch.assert_clean()


@pytest.mark.django_db(transaction=True)
def test_the_admin_works_under_the_policy(live_server, browser_page, screenshots, agent, category):
    get_user_model().objects.create_superuser("root", "root@staff.example", "correct-horse-battery-staple")
    ticket = services.ticket_create(
        category=category, subject="退款七天没到账", body="申请退款七天了还没有到账。",
        requester_name="李娜", requester_phone="13812345678",
    )  # fmt: skip
    services.ticket_reply(ticket=ticket, author=agent, body="您好，我们已联系财务核实。")
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    watch = PolicyWatch(page)

    sign_in(page, f"{live_server.url}/admin/login/?next=/admin/", "root", "correct-horse-battery-staple")
    page.wait_for_url(f"{live_server.url}/admin/")
    watch.assert_clean()

    page.goto(f"{live_server.url}/admin/tickets/ticket/")
    row = page.locator("#result_list tbody tr").filter(has_text=ticket.reference)
    assert row.count() == 1
    # The admin's own scripts run: the sidebar opens on load, folds away and opens again.
    main = page.locator("#main")
    assert "shifted" in main.get_attribute("class")
    page.locator("#toggle-nav-sidebar").click()
    assert "shifted" not in main.get_attribute("class")
    page.locator("#toggle-nav-sidebar").click()
    assert "shifted" in main.get_attribute("class")
    watch.assert_clean()

    row.locator("th.field-reference a").click()
    page.wait_for_url(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")
    # tickets/admin_ticket.css: the read-only inlines drop the title above each row.
    titles = page.locator(".inline-group .tabular td.original p")
    assert titles.count() > 0
    assert {titles.nth(i).evaluate("p => getComputedStyle(p).display") for i in range(titles.count())} == {"none"}
    page.screenshot(path=str(screenshots / "csp-2-admin-change-form.png"), full_page=True)
    watch.assert_clean()


@pytest.mark.django_db(transaction=True)
def test_the_api_docs_work_under_the_policy(live_server, browser_page, screenshots, agent):
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    watch = PolicyWatch(page)

    # Swagger UI: its set-up script comes from /api/docs/?script=, under the site's policy.
    page.goto(f"{live_server.url}/api/docs/")
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() >= 25
    assert page.locator("body").evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(250, 250, 250)"
    watch.assert_clean()

    # ReDoc: its styles (nonce and hashes) and its search worker (blob:) are allowed on
    # its page; the Redocly logo it would fetch from its CDN stays blocked.
    page.goto(f"{live_server.url}/api/redoc/")
    page.locator("h1", has_text="cs_desk API").wait_for()
    page.locator("input[placeholder='Search...']").press_sequentially("ticket", delay=30)
    page.locator("[data-role='search:results'] li").first.wait_for()
    assert page.locator(".ps").first.evaluate("e => getComputedStyle(e).overflow") == "hidden"  # perfect-scrollbar
    page.screenshot(path=str(screenshots / "csp-3-redoc.png"), full_page=False)
    refused = watch.look()
    assert [v for v in refused if "cdn.redoc.ly" not in v] == []
