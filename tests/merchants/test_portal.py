"""The merchant portal from the outside: a merchant sees and answers only the
complaints about its own shop that were forwarded to it, never internal notes
or the consumer's full contact; staff and merchants stay on their own side."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from tests.factories import UserFactory
from tests.merchants.helpers import MON_10, complaint, forwarded, shop
from tickets import services
from tickets.models import Message, Notification, SLATarget, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(category, agent):
    merchant, user = shop()
    ticket = forwarded(category, merchant, agent)
    services.ticket_assign(ticket=ticket, assignee=agent, actor=agent, now=MON_10)
    return merchant, user, ticket


def signed_in(client, user):
    client.force_login(user)
    return client


def test_sign_in_lists_forwarded_complaints_with_the_deadline(client, category, agent, mine):
    merchant, _user, ticket = mine
    not_forwarded = complaint(category, merchant, subject="还没转给商家的投诉")
    other_merchant, _ = shop(name="别家店", username="other")
    other = forwarded(category, other_merchant, agent, subject="别家店的投诉")

    response = client.post(reverse("merchant:login"), {"username": "shopkeeper", "password": "pass12345"})
    assert response.status_code == 302 and response.url == reverse("merchant:complaints")
    with time_machine.travel(MON_10 + timedelta(hours=5), tick=False):
        page = client.get(reverse("merchant:complaints"))
    html = page.content.decode()
    assert ticket.reference in html
    # 24 h from Mon 10:00, seen at 15:00: 19 h left, counting down in the page.
    assert 'data-due="2026-11-24T02:00:00+00:00"' in html  # Tue 10:00 in Shanghai
    assert "19小时00分" in html
    assert "等待您答复" in html
    assert not_forwarded.reference not in html
    assert other.reference not in html


def test_staff_cannot_sign_in_to_the_portal_and_merchants_not_to_the_desk(client, agent, mine):
    _, user, ticket = mine
    response = client.post(reverse("merchant:login"), {"username": "agent", "password": "pass12345"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    signed_in(client, agent)
    assert client.get(reverse("merchant:complaints")).status_code == 403
    client.logout()
    signed_in(client, user)
    assert client.get(reverse("desk:queue")).status_code == 403
    assert client.get(reverse("desk:ticket", args=[ticket.pk])).status_code == 403
    assert client.get(reverse("merchant_reports:list")).status_code == 403


def test_anonymous_is_sent_to_the_merchant_sign_in(client, mine):
    response = client.get(reverse("merchant:complaint", args=[mine[2].pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("merchant:login"))


def test_idor_by_id_reference_and_token_all_answer_404(client, category, agent, mine):
    merchant, user, ticket = mine
    other_merchant, _ = shop(name="别家店", username="other")
    other = forwarded(category, other_merchant, agent)
    own_not_forwarded = complaint(category, merchant)
    signed_in(client, user)
    for pk in (other.pk, own_not_forwarded.pk, 999_999):
        assert client.get(reverse("merchant:complaint", args=[pk])).status_code == 404
        assert client.post(reverse("merchant:complaint", args=[pk]), {"body": "我来回复"}).status_code == 404
    for key in (other.reference, other.tracking_token, ticket.tracking_token):
        assert client.get(f"/merchant/complaints/{key}/").status_code == 404
    assert not Message.objects.filter(author_kind="merchant").exists()
    # The consumer's tracking page is the consumer's: the merchant's login gains nothing there.
    page = client.get(f"/t/{other.tracking_token}/")
    assert "我来回复" not in page.content.decode()


def test_conversation_is_public_only_and_the_contact_masked(client, agent, mine):
    _, user, ticket = mine
    services.ticket_reply(ticket=ticket, author=agent, body="内部备注：商家有前科", public=False, now=MON_10)
    services.ticket_reply(ticket=ticket, author=agent, body="已联系商家，请耐心等待。", now=MON_10)
    html = signed_in(client, user).get(reverse("merchant:complaint", args=[ticket.pk])).content.decode()
    assert "买的衣服尺码不对" in html
    assert "已联系商家，请耐心等待。" in html
    assert "请 24 小时内答复" in html  # what the platform wrote when forwarding
    assert "内部备注" not in html
    assert "13812345678" not in html and "138****5678" in html
    assert "meimei@example.cn" not in html and "m***@example.cn" in html


def test_consumer_text_is_escaped(client, category, agent):
    merchant, user = shop()
    ticket = forwarded(category, merchant, agent, subject="<script>alert(1)</script>")
    signed_in(client, user)
    for url in (reverse("merchant:complaints"), reverse("merchant:complaint", args=[ticket.pk])):
        html = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_reply_meets_the_deadline_joins_the_conversation_and_tells_the_agent(client, agent, mine):
    _, user, ticket = mine
    signed_in(client, user)
    with time_machine.travel(MON_10 + timedelta(hours=3), tick=False):
        response = client.post(reverse("merchant:complaint", args=[ticket.pk]), {"body": "已为您换货，明天发出。"})
    assert response.status_code == 302
    message = Message.objects.get(ticket=ticket, author_kind="merchant")
    assert (message.body, message.is_public, message.author) == ("已为您换货，明天发出。", True, user)
    target = SLATarget.objects.get(ticket=ticket, kind="merchant_reply")
    assert (target.status, target.met_at) == ("met", MON_10 + timedelta(hours=3))
    assert Ticket.objects.get(pk=ticket.pk).status == "open"
    assert Notification.objects.filter(kind="merchant_replied", recipient=agent.email).count() == 1
    page = client.get(reverse("merchant:complaint", args=[ticket.pk])).content.decode()
    assert "已为您换货" in page and ("已答复" in page or "Answered" in page)
    # The consumer reads it on the tracking page.
    assert "已为您换货" in client.get(f"/t/{ticket.tracking_token}/").content.decode()


@pytest.mark.parametrize("body", ["", "   ", "长" * 10_001])
def test_bad_reply_is_refused_and_the_draft_kept(client, mine, body):
    _, user, ticket = mine
    response = signed_in(client, user).post(reverse("merchant:complaint", args=[ticket.pk]), {"body": body})
    assert response.status_code == 400
    assert response.context["error"]
    assert response.context["draft"] == body
    assert not Message.objects.filter(author_kind="merchant").exists()


def test_api_tokens_page_shows_the_key_once_and_revokes(client, mine):
    merchant, user, _ = mine
    signed_in(client, user)
    response = client.post(reverse("merchant:tokens"), {"name": "我们的 ERP"})
    key = response.context["new_key"]
    assert key.startswith("csm_") and key in response.content.decode()
    page = client.get(reverse("merchant:tokens")).content.decode()
    assert "我们的 ERP" in page and key not in page
    assert client.post(reverse("merchant:tokens"), {"name": ""}).status_code == 400
    token = merchant.api_keys.get()
    _other_merchant, other_user = shop(name="别家店", username="other")
    client.force_login(other_user)
    client.post(reverse("merchant:tokens"), {"revoke": token.pk})  # not theirs: nothing happens
    token.refresh_from_db()
    assert token.revoked_at is None
    client.force_login(user)
    client.post(reverse("merchant:tokens"), {"revoke": token.pk})
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_scorecard_page_shows_penalties_with_reasons_and_strikes(client, category, agent, mine):
    from merchants.penalties import merchant_penalty_impose

    merchant, user, ticket = mine
    admin_user = UserFactory(username="root", is_superuser=True)
    merchant_penalty_impose(
        merchant=merchant, kind="warning", reason="多次未按时答复消费者", actor=admin_user, tickets=[ticket]
    )
    html = signed_in(client, user).get(reverse("merchant:scorecard")).content.decode()
    assert "多次未按时答复消费者" in html
    assert ticket.reference in html
    assert "<svg" in html  # imposing the penalty re-scored the shop: today's point on the trend
