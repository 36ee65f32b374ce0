"""Staff read what came by email as it came: the workspace marks a message that
came by mail and links to its original, which shows the whole text (quoted
history included) as text, never as HTML, to those who may see the ticket only;
the raw message is a download."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

import pytest
from django.test import override_settings

from mail.inbound import mail_receive
from tests.builders import ticket_filed
from tests.factories import TeamFactory, UserFactory
from tests.mail.test_inbound import CONSUMER, MON_10, reply_mail
from tickets import services
from tickets.models import Notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def by_mail(category, agent):
    ticket = ticket_filed(category, at=MON_10, requester_email=CONSUMER)
    services.ticket_reply(ticket=ticket, author=agent, body="请提供订单截图。", now=MON_10 + timedelta(hours=1))
    notice = Notification.objects.get(ticket=ticket, kind="agent_replied")
    return ticket, mail_receive(reply_mail(notice.reply_to, "截图稍后发。"), via="imap")


def test_the_workspace_links_a_message_to_its_original(client, agent, by_mail):
    ticket, row = by_mail
    client.force_login(agent)
    page = client.get(f"/desk/tickets/{ticket.pk}/").content.decode()
    assert f"/mail/original/{row.pk}/" in page and "邮件原文" in page

    original = client.get(f"/mail/original/{row.pk}/")
    text = original.content.decode()
    assert original.status_code == 200
    # The whole text: what the consumer wrote and the history their client quoted.
    assert "截图稍后发。" in text and "&gt; 请提供订单截图。" in text
    download = client.get(f"/mail/original/{row.pk}/download/")
    assert download["Content-Type"] == "message/rfc822"
    assert download["Content-Disposition"].startswith("attachment")
    assert b"\xe6\x88\xaa\xe5\x9b\xbe" in download.content or b"base64" in download.content.lower()


def test_only_those_who_may_see_the_ticket_read_its_mail(client, by_mail):
    _ticket, row = by_mail
    stranger = UserFactory(username="other_agent", groups=["agents"])
    TeamFactory(name="其他组", members=[stranger])
    client.force_login(stranger)
    assert client.get(f"/mail/original/{row.pk}/").status_code == 404
    assert client.get(f"/mail/original/{row.pk}/download/").status_code == 404
    client.logout()
    assert client.get(f"/mail/original/{row.pk}/").status_code == 302  # to sign in


def test_html_mail_is_read_as_text(client, agent, category):
    message = EmailMessage()
    message["From"] = "顾客 <guke@example.cn>"
    message["To"] = "service@cs-desk.example"
    message["Subject"] = "网页打不开"
    message["Message-ID"] = "<html-only@example.cn>"
    message.set_content("<html><body><p>助力页面打不开</p><script>alert(1)</script></body></html>", subtype="html")
    with override_settings(MAIL_DEFAULT_CATEGORY=category.code):
        row = mail_receive(message.as_bytes(), via="imap")
    client.force_login(agent)
    page = client.get(f"/mail/original/{row.pk}/").content.decode()
    assert "助力页面打不开" in page
    assert "<script>alert(1)</script>" not in page


def test_the_admin_lists_incoming_mail_in_chinese(admin_client, by_mail):
    _ticket, row = by_mail
    page = admin_client.get("/admin/mail/inboundmail/").content.decode()
    assert "收到的邮件" in page and "用户的回复（已加入工单）" in page
    detail = admin_client.get(f"/admin/mail/inboundmail/{row.pk}/change/").content.decode()
    assert f"/mail/original/{row.pk}/" in detail
