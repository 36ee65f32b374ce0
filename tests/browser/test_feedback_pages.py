"""The feedback form on a phone, the feedback inbox's filters and the evidence size check: what the
reader sees is laid out for them (issue 22: a tiny unstyled topic list on a
phone; the inbox's checkboxes far from their labels)."""

import pytest

from feedback.services import feedback_submit

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.mark.django_db(transaction=True)
def test_the_feedback_form_on_a_phone(live_server, browser_page, screenshots):
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/feedback/")
    topic = page.locator("#feedback-form select").first.bounding_box()
    body = page.locator("#feedback-form textarea").first.bounding_box()
    # The topic list is as wide as the text box below it and tall enough for a thumb.
    assert abs(topic["width"] - body["width"]) < 2 and topic["height"] >= 40, (topic, body)
    assert page.locator("#feedback-form select option").first.inner_text() == "请选择主题"
    page.screenshot(path=str(screenshots / "feedback-1-form-phone.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_the_inbox_filters_sit_beside_their_labels(live_server, browser_page, screenshots, manager):
    feedback_submit(topic="site", body="页面加载太慢", contact="", language="zh-hans")
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{live_server.url}/desk/login/")
    page.fill("#id_username", manager.username)
    page.fill("#id_password", "pass12345")
    page.get_by_role("button", name="登录").click()
    page.goto(f"{live_server.url}/reports/feedback/")
    gaps = page.locator("label.check").evaluate_all(
        """labels => labels.map(label => {
            const box = label.querySelector("input").getBoundingClientRect();
            const range = document.createRange();
            range.selectNodeContents(label.lastChild);
            return range.getBoundingClientRect().left - box.right;
        })"""
    )
    assert len(gaps) == 2 and all(0 <= gap < 12 for gap in gaps), gaps
    page.screenshot(path=str(screenshots / "feedback-2-inbox.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("prefix", "expected"),
    [("", "“big_20mb.png”超过 10 MB。"), ("/en", "“big_20mb.png” is larger than 10 MB.")],
)
def test_a_file_too_large_is_named_at_once_in_the_readers_language(
    live_server, browser_page, tmp_path, category, prefix, expected
):
    big = tmp_path / "big_20mb.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (20 * 1024 * 1024))
    page = browser_page
    page.goto(f"{live_server.url}{prefix}/complaints/new/")
    page.set_input_files("#id_evidence", str(big))
    assert page.locator("#id_evidence + p.error").inner_text() == expected
