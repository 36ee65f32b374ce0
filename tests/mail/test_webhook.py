"""Mail in from a provider's webhook (django-anymail's inbound views under
/mail/anymail/, handed to the pipeline by mail.apps), posted as the providers
post it: SendGrid's Inbound Parse with "POST the raw, full MIME message" (the
message in the form field ``email``, the envelope as JSON), Mailgun's route to
``…/inbound_mime/`` (the message in ``body-mime``, signed with the webhook
signing key), Postmark's inbound JSON with the raw message included (``RawEmail``),
SparkPost's relay webhook (the message in base64 in a JSON batch); and Mailgun's
fully parsed post (fields and file parts), which anymail rebuilds into a message.
Every post carries the basic auth of ANYMAIL["WEBHOOK_SECRET"] (cs_desk.settings.test).

What the provider is told matters: 200 means the message is stored (it will not
post it again); anything else and it posts again later, and the pipeline takes
the repeat as the same message.

Times: filed Mon 2026-11-23 10:00 Beijing, answered at 11:00; the consumer's reply
arrives at 15:00 and opens a next response of 27 working hours: Mon 3 h, Tue 12,
Wed 21, Thu 09:00 + 6 h → Thu 11/26 15:00."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import json
from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import clear_url_caches

import cs_desk.urls
from mail.models import InboundMail
from tests.builders import ticket_filed
from tests.mail.test_inbound import png, reply_mail
from tickets import services
from tickets.models import Message, Notification, SLATarget, Ticket

SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
MON_15 = MON_10 + timedelta(hours=5)
CONSUMER = "wang.fang@example.cn"
SECRET = "provider:test-only-webhook-secret"  # ANYMAIL["WEBHOOK_SECRET"] of the test settings
SIGNING_KEY = b"test-only-mailgun-signing-key"  # ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"]

pytestmark = [
    pytest.mark.django_db,
    # anymail warns on every SendGrid view that it no longer supports SendGrid officially.
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning"),
]


def basic(credentials: str = SECRET) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def sendgrid(raw: bytes, *, to: str) -> dict:
    """SendGrid's Inbound Parse post with "raw" on: multipart form fields."""
    return {
        "path": "/mail/anymail/sendgrid/inbound/",
        "data": {
            "email": raw.decode("utf-8"),
            "envelope": json.dumps({"to": [to], "from": CONSUMER}),
            "charsets": json.dumps({"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8"}),
            "spam_score": "0.1",
            "SPF": "pass",
        },
    }


def mailgun(raw: bytes, *, to: str, key: bytes = SIGNING_KEY, token: str = "b1c2d3e4" * 6) -> dict:
    """Mailgun's forward() of a route to a URL containing "mime": multipart form
    fields, signed with HMAC-SHA256(key, timestamp + token)."""
    timestamp = "1795935600"
    return {
        "path": "/mail/anymail/mailgun/inbound_mime/",
        "data": {
            "body-mime": raw.decode("utf-8"),
            "recipient": to,
            "sender": CONSUMER,
            "from": f"王芳 <{CONSUMER}>",
            "subject": "Re: [CS] 我们已回复您的投诉",
            "timestamp": timestamp,
            "token": token,
            "signature": hmac.new(key, f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest(),
        },
    }


def postmark(raw: bytes, *, to: str) -> dict:
    """Postmark's inbound JSON with "Include raw email content" on."""
    payload = {
        "FromFull": {"Email": CONSUMER, "Name": "王芳"},
        "To": to,
        "OriginalRecipient": to,
        "Subject": "Re: [CS] 我们已回复您的投诉",
        "MessageID": "22c74902-a0c1-4511-804f-341342852c90",
        "RawEmail": raw.decode("utf-8"),
        "Headers": [],
    }
    return {"path": "/mail/anymail/postmark/inbound/", "data": json.dumps(payload), "content_type": "application/json"}


def sparkpost(raw: bytes, *, to: str) -> dict:
    """SparkPost's relay webhook: a JSON batch, the message in base64."""
    relay = {
        "content": {"email_rfc822": base64.b64encode(raw).decode(), "email_rfc822_is_base64": True},
        "msg_from": CONSUMER,
        "rcpt_to": to,
        "protocol": "smtp",
        "customer_id": "10001",
        "webhook_id": "4839201967643219",
    }
    payload = [{"msys": {"relay_message": relay}}]
    return {"path": "/mail/anymail/sparkpost/inbound/", "data": json.dumps(payload), "content_type": "application/json"}


PROVIDERS = {"sendgrid": sendgrid, "mailgun": mailgun}
RAW_POSTS = {**PROVIDERS, "postmark": postmark, "sparkpost": sparkpost}


def nul_reply(to: str) -> bytes:
    """A reply from a broken mail client: an 8-bit body holding a NUL."""
    return (
        f"From: {CONSUMER}\r\nTo: {to}\r\nSubject: Re: [CS]\r\nMessage-ID: <nul-1@mail.example.cn>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "截图\x00稍后补发\r\n"
    ).encode()


@pytest.fixture
def answered(category, agent):
    """A complaint the agent has answered; the consumer got the "we replied" email."""
    ticket = ticket_filed(category, at=MON_10, requester_email=CONSUMER)
    services.ticket_reply(ticket=ticket, author=agent, body="请提供订单截图。", now=MON_10 + timedelta(hours=1))
    return ticket, Notification.objects.get(ticket=ticket, kind="agent_replied")


@pytest.mark.parametrize("provider", RAW_POSTS)
def test_a_reply_posted_by_the_provider_joins_the_conversation_once(client, answered, provider):
    # given the consumer's reply to the signed Reply-To of our email, as the provider posts it
    ticket, notice = answered
    raw = reply_mail(notice.reply_to, "订单号 2026112300042，请尽快处理。", in_reply_to=notice.message_id)
    post = RAW_POSTS[provider](raw, to=notice.reply_to)

    # when it is posted at Mon 15:00, and posted again (the provider did not hear our 200)
    with time_machine.travel(MON_15, tick=False):
        first = client.post(**post, **basic())
        again = client.post(**post, **basic())

    # then both are answered 200, and the message is on the ticket once
    assert (first.status_code, again.status_code) == (200, 200)
    row = InboundMail.objects.get()
    assert (row.via, row.status, row.outcome, row.ticket_id) == ("webhook", "posted", "consumer_message", ticket.pk)
    assert ticket.messages.get(pk=row.message_id).body == "订单号 2026112300042，请尽快处理。"
    assert ticket.messages.filter(author_kind=Message.AuthorKind.CONSUMER).count() == 2  # the complaint, this reply
    # a reply is owed again: Thu 11/26 15:00 (module docstring)
    due = SLATarget.objects.get(ticket=ticket, kind="next_response").due_at
    assert due == datetime(2026, 11, 26, 15, tzinfo=SH)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_signed_address_in_bcc_only_threads_by_the_envelope(client, answered, provider):
    # given a reply addressed to a friend, our signed address only in Bcc (so
    # only in the provider's envelope), and no In-Reply-To to thread by either
    ticket, notice = answered
    raw = reply_mail("朋友 <friend@example.cn>", "抄送给客服：还没收到退款。")

    response = client.post(**PROVIDERS[provider](raw, to=notice.reply_to), **basic())

    assert response.status_code == 200
    row = InboundMail.objects.get()
    assert (row.outcome, row.ticket_id) == ("consumer_message", ticket.pk)
    assert bytes(row.raw).startswith(f"Delivered-To: {notice.reply_to}\n".encode())  # lines as anymail writes them
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize("provider", RAW_POSTS)
@pytest.mark.parametrize(
    "auth",
    [{}, basic("provider:wrong-secret"), basic("someone:test-only-webhook-secret"), {"HTTP_AUTHORIZATION": "Bearer x"}],
    ids=["none", "wrong-password", "wrong-user", "not-basic"],
)
def test_a_post_without_the_secret_is_refused_and_nothing_is_stored(client, answered, provider, auth):
    ticket, notice = answered
    post = RAW_POSTS[provider](reply_mail(notice.reply_to, "把退款打到这个账户"), to=notice.reply_to)

    response = client.post(**post, **auth)

    # anymail's answer to a failed check: 400 (SuspiciousOperation)
    assert response.status_code == 400
    assert not InboundMail.objects.exists()
    assert not ticket.messages.filter(body__contains="账户").exists()


@pytest.mark.parametrize("change", ["wrong-key", "signature-of-another-token", "no-signature"])
def test_a_mailgun_post_with_a_bad_signature_is_refused_even_with_the_secret(client, answered, change):
    _ticket, notice = answered
    raw = reply_mail(notice.reply_to, "把退款打到这个账户")
    post = mailgun(raw, to=notice.reply_to, key=b"guessed-key" if change == "wrong-key" else SIGNING_KEY)
    if change == "signature-of-another-token":
        post["data"]["token"] = "f" * 48
    elif change == "no-signature":
        del post["data"]["signature"]

    response = client.post(**post, **basic())

    assert response.status_code == 400
    assert not InboundMail.objects.exists()


# --- Every door: the project's middlewares, CSRF, and no secret ----------------------------


@pytest.mark.parametrize("provider", RAW_POSTS)
def test_a_nul_in_the_raw_message_reaches_the_pipeline_which_keeps_it_out_of_the_text(client, answered, provider):
    # given a reply with a NUL in its body, in a form field (SendGrid, Mailgun), a JSON
    # string (Postmark) or base64 (SparkPost); the input guard checks a request's path
    # and query, never its body
    ticket, notice = answered

    response = client.post(**RAW_POSTS[provider](nul_reply(notice.reply_to), to=notice.reply_to), **basic())

    # then the message is stored as posted, and the text on the ticket leaves the NUL out
    assert response.status_code == 200
    row = InboundMail.objects.get()
    assert b"\x00" in bytes(row.raw)
    assert (row.outcome, ticket.messages.get(pk=row.message_id).body) == ("consumer_message", "截图稍后补发")


def test_a_file_part_of_binary_bytes_reaches_the_pipeline(client, answered):
    # given Mailgun's fully parsed post (its route to .../inbound/, without "mime"):
    # the text in fields, the attachment a file part (a PNG: NUL bytes and all)
    ticket, notice = answered
    headers = [["From", f"王芳 <{CONSUMER}>"], ["To", notice.reply_to], ["Subject", "Re: [CS] 我们已回复您的投诉"],
               ["Message-Id", "<parsed-1@mail.example.cn>"], ["In-Reply-To", notice.message_id]]  # fmt: skip
    post = mailgun(b"", to=notice.reply_to)
    post["path"] = "/mail/anymail/mailgun/inbound/"
    del post["data"]["body-mime"]
    picture = png()
    assert b"\x00" in picture
    post["data"] |= {
        "message-headers": json.dumps(headers),
        "body-plain": "截图在附件里。",
        "attachment-count": "1",
        "attachment-1": SimpleUploadedFile("截图.png", picture, content_type="image/png"),
    }

    response = client.post(**post, **basic())

    assert response.status_code == 200
    message = ticket.messages.get(pk=InboundMail.objects.get().message_id)
    assert message.body == "截图在附件里。"
    assert [a.original_name for a in message.attachments.all()] == ["截图.png"]


def test_the_endpoint_needs_no_csrf_token(answered):
    ticket, notice = answered
    post = sendgrid(reply_mail(notice.reply_to, "好的"), to=notice.reply_to)

    response = Client(enforce_csrf_checks=True).post(**post, **basic())

    assert response.status_code == 200
    assert ticket.messages.filter(body="好的").exists()


@contextmanager
def mounted_with(anymail: dict):
    """The site's URLs as cs_desk.urls mounts them with ``ANYMAIL = anymail``."""
    try:
        with override_settings(ANYMAIL=anymail):
            importlib.reload(cs_desk.urls)
            clear_url_caches()
            yield
    finally:
        importlib.reload(cs_desk.urls)
        clear_url_caches()


def test_without_a_secret_the_endpoint_is_not_mounted(client, answered):
    _ticket, notice = answered
    with mounted_with({"WEBHOOK_SECRET": ""}):
        response = client.post(**sendgrid(reply_mail(notice.reply_to, "好的"), to=notice.reply_to))
    assert response.status_code == 404
    assert not InboundMail.objects.exists()


def test_only_the_providers_that_can_be_served_are_mounted(client, answered):
    # Postal, MailerSend and Brevo need keys of their own, Amazon SES the boto3 package:
    # unmounted, not a 500 for every visitor; the tracking webhooks are not ours to take
    for path in ("postal/inbound/", "mailersend/inbound/", "brevo/inbound/", "amazon_ses/inbound/",
                 "sendgrid/tracking/", "mailgun/tracking/", "postmark/tracking/"):  # fmt: skip
        assert client.post(f"/mail/anymail/{path}", {}, **basic()).status_code == 404, path
    # Mailgun without its signing key: not there either, and the others still are
    _ticket, notice = answered
    raw = reply_mail(notice.reply_to, "好的")
    with mounted_with({"WEBHOOK_SECRET": SECRET}):
        assert client.post(**mailgun(raw, to=notice.reply_to), **basic()).status_code == 404
        assert client.post(**postmark(raw, to=notice.reply_to), **basic()).status_code == 200
    assert InboundMail.objects.get().via == "webhook"
