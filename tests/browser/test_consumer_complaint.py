"""A consumer files a complaint on a phone-sized screen, in Chinese, with a chat
screenshot attached; lands on the promise, opens the tracking page, sees the
screenshot and replies. Screenshots of each page are saved."""

from io import BytesIO

import pytest
from PIL import Image, ImageDraw

from tickets.models import Attachment, Message, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 390, "height": 844}


def chat_screenshot(path) -> None:
    image = Image.new("RGB", (390, 700), (237, 237, 237))
    draw = ImageDraw.Draw(image)
    for i, width in enumerate((240, 180, 260, 150)):
        left = 20 if i % 2 == 0 else 370 - width
        draw.rounded_rectangle((left, 40 + i * 90, left + width, 100 + i * 90), 12, fill=(255, 255, 255))
    buffer = BytesIO()
    image.save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())


@pytest.mark.django_db(transaction=True)
def test_file_a_complaint_with_a_screenshot_then_follow_and_reply(
    live_server, browser_page, screenshots, tmp_path, category, urgent_category
):
    evidence = tmp_path / "聊天截图.png"
    chat_screenshot(evidence)
    page = browser_page
    page.set_viewport_size(PHONE)

    # The form, in Chinese by default, each category with its promise.
    page.goto(f"{live_server.url}/complaints/new/")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.get_by_text("紧急：24 小时内答复").is_visible()
    page.fill("#id_requester_name", "王芳")
    page.fill("#id_requester_phone", "138 0013 8000")
    page.get_by_label("退款").check()
    page.fill("#id_description", "申请退款七天了还没有到账，商家说已经退了，请帮忙查一下。")
    page.set_input_files("#id_evidence", str(evidence))
    page.screenshot(path=str(screenshots / "consumer-1-complaint-form.png"), full_page=True)
    page.get_by_role("button", name="提交投诉").click()

    # The promise: reference, private link, reply time in Beijing time.
    page.wait_for_url("**/submitted/")
    ticket = Ticket.objects.get()
    assert page.get_by_text(ticket.reference).is_visible()
    promise = page.locator(".promise-big").inner_text()
    assert "（北京时间）" in promise
    page.screenshot(path=str(screenshots / "consumer-2-submitted.png"), full_page=True)

    # The tracking page shows the screenshot, re-encoded, through the guarded view.
    page.locator(f"a.button[href='/t/{ticket.tracking_token}/']").click()
    page.wait_for_url(f"**/t/{ticket.tracking_token}/")
    thumbnail = page.locator(".evidence img").first
    thumbnail.wait_for()
    # Lazy-loaded: wait until the browser has fetched and decoded it.
    page.wait_for_function("img => img.complete", arg=thumbnail.element_handle())
    assert thumbnail.evaluate("img => img.naturalWidth") == 390
    attachment = Attachment.objects.get()
    assert (attachment.original_name, attachment.content_type) == ("聊天截图.png", "image/png")

    # The consumer replies; the reply joins the conversation, and the page says it was sent.
    page.fill("#id_body", "补充：支付宝账单显示还没有退款记录。")
    page.get_by_role("button", name="发送回复").click()
    page.wait_for_url(f"**/t/{ticket.tracking_token}/?sent=1#latest")
    assert page.locator("#latest").get_by_text("补充：支付宝账单显示还没有退款记录。").is_visible()
    confirmation = page.get_by_role("status").inner_text()
    assert confirmation.startswith("您的回复已发送，我们将在 ") and confirmation.endswith("（北京时间） 前答复您。")
    page.screenshot(path=str(screenshots / "consumer-3-tracking.png"), full_page=True)
    assert ticket.messages.filter(author_kind=Message.AuthorKind.CONSUMER).count() == 2


@pytest.mark.django_db(transaction=True)
def test_in_english_a_resolved_complaint_is_rated_and_a_closed_one_followed_up(
    live_server, browser_page, screenshots, category, agent
):
    from feedback.models import Survey
    from tickets import services

    ticket = services.ticket_create(
        category=category,
        subject="Refund not received",
        body="My refund has not arrived after seven days.",
        requester_name="Li Na",
        requester_email="lina@example.cn",
        language="en",
    )
    services.ticket_reply(ticket=ticket, author=agent, body="The refund was sent again today.")
    services.ticket_change_status(ticket=ticket, status="resolved", actor=agent)
    page = browser_page
    page.set_viewport_size(PHONE)

    # The language switch turns the page into English and keeps it there.
    page.goto(f"{live_server.url}/t/{ticket.tracking_token}/")
    page.get_by_role("button", name="English").click()
    page.wait_for_url(f"**/en/t/{ticket.tracking_token}/")
    assert page.get_by_text("How did we do?").is_visible()
    page.get_by_label("4 – Satisfied").check()
    page.fill("#id_comment", "Quick and polite.")
    page.screenshot(path=str(screenshots / "consumer-4-survey-en.png"), full_page=True)
    page.get_by_role("button", name="Send rating").click()
    page.wait_for_url("**#survey")
    assert page.get_by_text("Thank you for your rating (4 of 5).").is_visible()
    assert Survey.objects.get().rating == 4

    # Closed: no reply box, a new complaint linked to this one instead.
    services.ticket_change_status(ticket=ticket, status="closed", actor=agent)
    page.reload()
    assert page.locator("#id_body").count() == 0
    page.get_by_role("link", name="File a new complaint about the same problem").click()
    assert page.get_by_text(f"continues your closed complaint {ticket.reference}").is_visible()
    # The contact is shown masked, as on the tracking page, and kept when left empty.
    assert page.input_value("#id_requester_email") == ""
    assert page.get_by_text("Leave empty to keep l***@example.cn.").is_visible()
    assert "lina@example.cn" not in page.content()
    page.screenshot(path=str(screenshots / "consumer-5-follow-up-en.png"), full_page=True)
    page.fill("#id_description", "The refund came back again: the same order is charged twice.")
    page.get_by_role("button", name="Submit complaint").click()
    page.wait_for_url("**/submitted/")
    follow_up = Ticket.objects.get(follows=ticket)
    assert (follow_up.requester_name, follow_up.requester_email) == (ticket.requester_name, "lina@example.cn")
