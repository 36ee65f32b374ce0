"""The consumer's pages: the complaint form, the promise after filing, and the
private tracking page (issue 3), tested from the outside through HTTP."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from tests.builders import ticket_filed
from tests.factories import MerchantFactory
from tickets import services
from tickets.models import Message, Ticket

NEW = "/complaints/new/"


def valid(category, **overrides) -> dict:
    data = {
        "requester_name": "王芳",
        "requester_phone": "+86 138-0013-8000",
        "requester_email": "",
        "category": category.pk,
        "shop": "",
        "order_number": "",
        "description": "付款成功但订单列表里没有这个订单，已经等了两个小时。",
    }
    return data | overrides


@pytest.fixture
def ticket(category, agent):
    ticket = ticket_filed(category, requester_phone="", requester_email="lina@example.cn")
    services.ticket_reply(ticket=ticket, author=agent, body="您好，我们已联系财务核实。", public=True)
    services.ticket_reply(ticket=ticket, author=agent, body="内部：疑似重复退款，先别回复金额", public=False)
    ticket.refresh_from_db()
    return ticket


@pytest.mark.django_db
class TestComplaintForm:
    def test_form_lists_categories_with_their_promise_in_chinese(self, client, category, urgent_category):
        page = client.get(NEW).content.decode()
        assert "退款" in page and "3 个工作日内答复" in page
        assert "订单错误" in page and "紧急：24 小时内答复" in page

    def test_english_through_the_language_switch(self, client, category):
        response = client.post(reverse("set_language"), {"language": "en", "next": NEW}, follow=True)
        page = response.content.decode()
        assert response.request["PATH_INFO"] == "/en/complaints/new/"
        assert "File a complaint" in page and "Reply within 3 working days" in page

    def test_filing_creates_the_ticket_and_shows_reference_link_and_promise(self, client, category):
        response = client.post(NEW, valid(category, order_number="2026112312345678"))
        ticket = Ticket.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/t/{ticket.tracking_token}/submitted/"
        # "+86 138-0013-8000" as typed, stored in E.164
        assert (ticket.requester_phone, ticket.channel) == ("+8613800138000", "web")
        assert ticket.order_number == "2026112312345678"
        assert ticket.subject.startswith("付款成功但订单列表里没有这个订单")
        page = client.get(response["Location"]).content.decode()
        due = ticket.targets.get(kind="first_response").due_at
        assert ticket.reference in page
        assert f"http://testserver/t/{ticket.tracking_token}/" in page
        assert f'datetime="{due.astimezone().isoformat()}"' in page or due.strftime("%Y") in page

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            ({"requester_name": "  "}, "requester_name", "This field is required"),
            ({"requester_phone": "12345"}, "requester_phone", "Enter a valid phone number"),
            ({"requester_phone": "", "requester_email": "not-an-email"}, "requester_email", "valid email"),
            # The service's words, at every door
            ({"requester_phone": "", "requester_email": ""}, None, "phone number or an email address"),
            ({"order_number": "12<script>"}, "order_number", "6 to 32 letters"),
            ({"description": "太短"}, "description", "at least 10 characters"),
            ({"shop": "不存在的店"}, "shop", "No shop matches"),
            ({"category": ""}, "category", "Choose what the problem is about"),
        ],
    )
    def test_each_bad_field_gets_its_message_and_nothing_is_filed(self, client, category, overrides, field, message):
        client.cookies["django_language"] = "en"
        response = client.post("/en/complaints/new/", valid(category) | overrides)
        assert response.status_code == 400
        form = response.context["form"]
        errors = form.errors.get(field or "__all__")
        assert errors and any(message in e for e in errors), form.errors
        assert not Ticket.objects.exists()
        # What the consumer typed is kept in the form.
        assert "付款成功但订单列表里没有这个订单" in response.content.decode() or overrides.get("description")

    def test_a_short_description_is_told_in_plain_chinese_with_the_count(self, client, category):
        response = client.post(NEW, valid(category) | {"description": "太短"})
        assert response.status_code == 400
        assert response.context["form"].errors["description"] == ["请至少输入 10 个字（当前 2 个）。"]
        assert "请至少输入 10 个字（当前 2 个）。" in response.content.decode()

    def test_shop_by_id_or_unique_name(self, client, category):
        shop = MerchantFactory(shop_id="SHOP10001", name="好运来旗舰店")
        client.post(NEW, valid(category, shop="shop10001"))
        client.post(NEW, valid(category, shop="好运来"))
        assert list(Ticket.objects.values_list("merchant_id", flat=True)) == [shop.pk, shop.pk]
        assert client.get("/complaints/shops/?q=好运").json() == {
            "results": [{"shop_id": "SHOP10001", "name": "好运来旗舰店"}]
        }

    def test_typed_markup_is_shown_as_text(self, client, category):
        client.post(NEW, valid(category, requester_name="<b>x</b>", description="<script>alert(1)</script> 页面打不开"))
        ticket = Ticket.objects.get()
        page = client.get(f"/t/{ticket.tracking_token}/").content.decode()
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.django_db
class TestTrackingPage:
    def test_only_the_token_opens_it(self, client, ticket):
        assert client.get(f"/t/{ticket.tracking_token}/").status_code == 200
        for wrong in (ticket.tracking_token[:-1] + "x", str(ticket.pk), ticket.reference, "x" * 100):
            assert client.get(f"/t/{wrong}/").status_code == 404
            assert client.get(f"/t/{wrong}/submitted/").status_code == 404

    def test_shows_public_conversation_never_internal_notes_nor_agent_names(self, client, ticket, agent):
        agent.username, agent.first_name, agent.last_name = "zhang.wei", "Wei", "Zhang"
        agent.save()
        response = client.get(f"/t/{ticket.tracking_token}/")
        page = response.content.decode()
        assert "您好，我们已联系财务核实。" in page
        assert "疑似重复退款" not in page
        assert "zhang.wei" not in page and "Zhang" not in page
        assert "客服" in page
        assert response["Cache-Control"].startswith("max-age=0")
        assert response["X-Robots-Tag"] == "noindex, nofollow"

    def test_reply_is_added_and_owes_a_response(self, client, ticket):
        response = client.post(f"/t/{ticket.tracking_token}/", {"body": "请问什么时候能到账？"})
        assert response.status_code == 302
        assert response["Location"] == f"/t/{ticket.tracking_token}/?sent=1#latest"
        message = ticket.messages.order_by("-id").first()
        assert (message.author_kind, message.body) == (Message.AuthorKind.CONSUMER, "请问什么时候能到账？")
        target = ticket.targets.get(kind="next_response", status="running")
        # The page it lands on says the reply was sent and by when the answer is due;
        # the same page without ?sent=1 (a later visit) does not.
        local = target.due_at.astimezone(ZoneInfo("Asia/Shanghai"))
        when = f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}（北京时间）"
        confirmed = client.get(response["Location"]).content.decode()
        assert "您的回复已发送，我们将在 " in confirmed and f"{when}</time> 前答复您。" in confirmed
        assert "您的回复已发送" not in client.get(f"/t/{ticket.tracking_token}/").content.decode()

    def test_empty_reply_is_refused_with_a_message(self, client, ticket):
        client.cookies["django_language"] = "en"
        response = client.post(f"/en/t/{ticket.tracking_token}/", {"body": "   "})
        assert response.status_code == 400
        assert "Write your reply first." in response.content.decode()

    def test_reply_to_a_resolved_ticket_reopens_it(self, client, ticket, agent):
        services.ticket_change_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=agent)
        client.post(f"/t/{ticket.tracking_token}/", {"body": "还是没有到账"})
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.OPEN

    def test_closed_ticket_offers_a_new_complaint_instead_of_a_reply_box(self, client, ticket, agent):
        services.ticket_change_status(ticket=ticket, status=Ticket.Status.CLOSED, actor=agent)
        page = client.get(f"/t/{ticket.tracking_token}/").content.decode()
        assert 'name="body"' not in page  # no reply box
        assert f'href="/complaints/new/?follows={ticket.tracking_token}"' in page
        response = client.post(f"/t/{ticket.tracking_token}/", {"body": "还在吗"})
        assert "已关闭" in response.content.decode()
        assert ticket.messages.filter(body="还在吗").count() == 0


def test_the_tracking_page_says_late_as_soon_as_the_promise_has_passed(client, urgent_category):
    """Not "on track" with a time already past while the sweep has yet to mark it."""
    filed = datetime(2026, 11, 23, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    ticket = ticket_filed(urgent_category, at=filed)  # first response due Tue 10:00 (24 h)
    with time_machine.travel(filed + timedelta(hours=23), tick=False):
        before = client.get(f"/t/{ticket.tracking_token}/").content.decode()
    with time_machine.travel(filed + timedelta(hours=24, seconds=10), tick=False):
        after = client.get(f"/t/{ticket.tracking_token}/").content.decode()
    assert "进展正常" in before and "已超时" not in before
    assert "我们的答复已超时" in after and "进展正常" not in after
