"""The inbound pipeline (mail.inbound.mail_receive) from the outside: a reply as an
ordinary mail client sends it — to the Reply-To of the email we sent, quoting it —
and what becomes of it: the consumer's message on the ticket, the merchant's
reply meeting their deadline, an appeal of a penalty, a new complaint by mail; and
what never gets through as a party: a forged sender, a failed DMARC check,
automatic mail, a flood, an oversized message, a hostile attachment.

Times: filed Mon 2026-11-23 10:00 Beijing; a normal complaint's first response is
due 27 working hours later, Thu 11/26 10:00; a next response 27 working hours
after the consumer's message."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail as django_mail
from django.utils import timezone
from PIL import Image

from mail.inbound import mail_receive
from mail.models import InboundMail
from merchants.models import MerchantAppeal
from merchants.penalties import merchant_penalty_impose
from tests.builders import ticket_filed
from tests.factories import MerchantFactory, MerchantUserFactory, UserFactory
from tests.mail import corpus
from tickets import services
from tickets.models import Message, Notification, SLATarget, Ticket
from tickets.outbox.core import outbox_deliver
from tickets.outbox.email import EMAIL
from tickets.reply_address import reply_address

SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
CONSUMER = "wang.fang@example.cn"

pytestmark = pytest.mark.django_db


def signed(party: str, party_id: int, ticket_id: int) -> str:
    """The shape of a signed reply address (docs: README, Email): party, ids, 20 hex digits."""
    return rf"reply\+{party}{party_id}-t{ticket_id}-[0-9a-f]{{20}}@cs-desk\.example"


def reply_mail(
    to: str,
    body: str,
    *,
    sender: str = CONSUMER,
    in_reply_to: str = "",
    subject: str = "Re: [CS] 我们已回复您的投诉",
    headers: dict | None = None,
    attachments: tuple[tuple[str, str, bytes], ...] = (),
) -> bytes:
    """What a mail client sends when its user presses Reply and writes ``body``
    above the quoted original."""
    message = EmailMessage()
    message["From"] = f"王芳 <{sender}>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="mail.example.cn")
    message["Date"] = "Mon, 23 Nov 2026 15:00:00 +0800"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for name, value in (headers or {}).items():
        message[name] = value
    quoted = "\n".join(f"> {line}" for line in ("您好，您的投诉有新的回复：", "请提供订单截图。"))
    message.set_content(f"{body}\n\n在 2026年11月23日 11:00，客服 <noreply@cs-desk.example> 写道：\n{quoted}\n")
    for name, content_type, content in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def answered(category, agent):
    """A complaint the agent has answered; the consumer got the "we replied" email."""
    ticket = ticket_filed(category, at=MON_10, requester_email=CONSUMER)
    services.ticket_reply(ticket=ticket, author=agent, body="请提供订单截图。", now=MON_10 + timedelta(hours=1))
    return ticket, Notification.objects.get(ticket=ticket, kind="agent_replied")


def test_the_consumers_reply_by_mail_joins_the_conversation_once(answered):
    ticket, notice = answered
    assert re.fullmatch(signed("c", ticket.pk, ticket.pk), notice.reply_to)
    raw = reply_mail(notice.reply_to, "截图在附件里，订单号 2026112300042。", in_reply_to=notice.message_id,
                     attachments=(("截图.png", "image/png", png()),))  # fmt: skip

    with time_machine.travel(MON_10 + timedelta(hours=5), tick=False):
        row = mail_receive(raw, via="imap")
        again = mail_receive(raw, via="imap")  # the same message delivered twice

    assert (row.status, row.outcome) == ("posted", "consumer_message")
    assert again.pk == row.pk and InboundMail.objects.count() == 1
    message = ticket.messages.get(author_kind=Message.AuthorKind.CONSUMER, is_public=True, pk=row.message_id)
    # Only what the consumer wrote: the quoted history is kept in the original, not on the ticket.
    assert message.body == "截图在附件里，订单号 2026112300042。"
    assert [a.original_name for a in message.attachments.all()] == ["截图.png"]
    assert ticket.messages.filter(author_kind=Message.AuthorKind.CONSUMER).count() == 2
    # A reply is owed again: a next response, 27 working hours from Mon 15:00: Mon 3 h,
    # Tue 12, Wed 21, Thu 09:00 + 6 h → Thu 11/26 15:00.
    following = SLATarget.objects.get(ticket=ticket, kind="next_response")
    assert following.due_at == datetime(2026, 11, 26, 15, tzinfo=SH)


def test_a_reply_to_our_no_reply_sender_is_threaded_by_in_reply_to(answered):
    ticket, notice = answered
    row = mail_receive(reply_mail("noreply@cs-desk.example", "还没收到退款", in_reply_to=notice.message_id), via="imap")
    assert (row.outcome, row.ticket_id) == ("consumer_message", ticket.pk)
    assert ticket.messages.filter(body="还没收到退款").exists()


@pytest.fixture(autouse=True)
def _mail_to_any_other_address_is_a_refund_complaint(settings, category):
    """service@ and the like: MAIL_DEFAULT_CATEGORY (the refund category here)."""
    settings.MAIL_DEFAULT_CATEGORY = category.code


def test_a_subject_alone_threads_nothing(answered):
    ticket, _notice = answered
    row = mail_receive(reply_mail("service@cs-desk.example", "还没收到退款", subject=f"Re: [{ticket.reference}]"),
                       via="imap")  # fmt: skip
    assert row.outcome == "new_ticket" and row.ticket_id != ticket.pk


@pytest.mark.parametrize(
    ("sender", "headers", "outcome"),
    [
        ("someone.else@example.cn", {}, "sender_mismatch"),
        (CONSUMER, {"Authentication-Results": "mx.example; spf=pass; dkim=fail; dmarc=fail header.from=example.cn"},
         "auth_failed"),
    ],
    ids=["forged-sender", "dmarc-failed"],
)  # fmt: skip
def test_a_reply_that_may_not_speak_for_the_consumer_is_held_for_an_agent(answered, sender, headers, outcome):
    ticket, notice = answered
    row = mail_receive(reply_mail(notice.reply_to, "请把退款打到这个账户", sender=sender, headers=headers), via="imap")
    assert (row.status, row.outcome) == ("held", outcome)
    # Never the consumer's message: an internal note, no reply owed, nothing public.
    assert not ticket.messages.filter(author_kind=Message.AuthorKind.CONSUMER, body__contains="账户").exists()
    note = ticket.messages.get(pk=row.message_id)
    assert (note.author_kind, note.is_public) == ("system", False)
    assert sender in note.body and "请把退款打到这个账户" in note.body
    assert not SLATarget.objects.filter(ticket=ticket, kind="next_response").exists()


def test_a_tampered_signed_address_reaches_no_ticket(answered):
    ticket, _notice = answered
    other = ticket_filed(ticket.category, requester_email="victim@example.cn")
    forged = reply_address("c", other.pk, other.pk).replace("-t", "-t9", 1)
    row = mail_receive(reply_mail(forged, "改一下收货地址", sender="attacker@example.net"), via="smtp")
    assert row.ticket_id not in (ticket.pk, other.pk)
    assert not other.messages.filter(body__contains="收货地址").exists()


def test_a_new_complaint_by_mail_is_filed_like_the_web_form(urgent_category):
    raw = reply_mail("orders@cs-desk.example", "我下单付款了，但是订单一直没有生成。", subject="付款了没有订单",
                     sender="li.lei@example.cn")  # fmt: skip
    with time_machine.travel(MON_10, tick=False):
        row = mail_receive(raw, via="webhook")
    ticket = Ticket.objects.get(pk=row.ticket_id)
    assert (ticket.channel, ticket.category, ticket.requester_email) == ("email", urgent_category, "li.lei@example.cn")
    assert ticket.subject == "付款了没有订单" and ticket.requester_name == "王芳"
    # The order-error category is urgent: a first response within 24 hours, Tue 10:00.
    assert SLATarget.objects.get(ticket=ticket, kind="first_response").due_at == MON_10 + timedelta(hours=24)
    # The acknowledgement answers the mail, with the tracking link and a signed Reply-To.
    ack = Notification.objects.get(ticket=ticket, kind="ticket_received")
    assert ack.recipient == "li.lei@example.cn" and ticket.tracking_token in ack.body
    assert re.fullmatch(signed("c", ticket.pk, ticket.pk), ack.reply_to)
    assert ticket.mail_thread == row.header_message_id


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Precedence": "bulk", "List-Id": "<news.example.cn>"},
        {"X-Autoreply": "yes"},
    ],
    ids=["auto-reply", "list", "x-autoreply"],
)
def test_automatic_mail_is_recorded_never_answered(answered, headers):
    ticket, notice = answered
    before = Notification.objects.count()
    row = mail_receive(reply_mail(notice.reply_to, "我正在休假", headers=headers), via="imap")
    assert row.status == "ignored"
    assert Notification.objects.count() == before
    assert not ticket.messages.filter(body__contains="休假").exists()


def test_a_flood_from_one_sender_is_stopped(category, settings):
    settings.MAIL_SENDER_LIMIT = "3/h"
    rows = [mail_receive(reply_mail("service@cs-desk.example", f"第 {n} 封", sender="loop@example.cn"), via="imap")
            for n in range(5)]  # fmt: skip
    assert [r.outcome for r in rows] == ["new_ticket"] * 3 + ["rate_limited"] * 2
    assert Ticket.objects.filter(requester_email="loop@example.cn").count() == 3


def test_an_oversized_mail_is_refused_with_a_reply_and_not_stored(category, settings):
    settings.MAIL_MAX_BYTES = 50_000
    raw = reply_mail("service@cs-desk.example", "附件很大", attachments=(("大文件.png", "image/png", b"x" * 80_000),))
    row = mail_receive(raw, via="imap")
    assert (row.status, row.outcome) == ("refused", "too_large")
    assert len(bytes(row.raw)) < 2_000 and row.size == len(raw)
    refused = Notification.objects.get(kind="mail_refused")
    assert refused.recipient == CONSUMER and "MB" in refused.body
    assert not Ticket.objects.exists()


def test_a_hostile_attachment_is_refused_and_named_back(answered):
    ticket, notice = answered
    raw = reply_mail(
        notice.reply_to, "发票见附件", attachments=(("发票.exe", "application/octet-stream", b"MZ\x90\x00" * 64),)
    )
    row = mail_receive(raw, via="imap")
    assert row.outcome == "consumer_message"
    assert not ticket.messages.get(pk=row.message_id).attachments.exists()
    told = Notification.objects.get(kind="mail_files_refused")
    assert "发票.exe" in told.body and told.ticket_id == ticket.pk


def test_a_reply_to_a_closed_complaint_opens_a_follow_up(answered, agent):
    ticket, notice = answered
    services.ticket_change_status(ticket=ticket, status="closed", actor=agent)
    row = mail_receive(reply_mail(notice.reply_to, "问题又出现了"), via="imap")
    follow_up = Ticket.objects.get(pk=row.ticket_id)
    assert follow_up.pk != ticket.pk and follow_up.follows_id == ticket.pk and follow_up.channel == "email"


# --- Merchants ---------------------------------------------------------------------------


@pytest.fixture
def forwarded(category, agent):
    merchant = MerchantFactory(name="好运来旗舰店")
    user = UserFactory(username="shop_owner", email="owner@haoyunlai.cn")
    MerchantUserFactory(merchant=merchant, user=user)
    ticket = ticket_filed(category, at=MON_10, merchant=merchant, requester_email=CONSUMER)
    services.ticket_forward_to_merchant(ticket=ticket, actor=agent, now=MON_10 + timedelta(minutes=5))
    notice = Notification.objects.get(ticket=ticket, kind="merchant_forwarded", recipient="owner@haoyunlai.cn")
    return ticket, notice


def test_the_merchants_reply_by_mail_meets_their_deadline_and_the_consumer_is_told(forwarded):
    ticket, notice = forwarded
    assert re.fullmatch(signed("m", ticket.merchant_id, ticket.pk), notice.reply_to)
    raw = reply_mail(notice.reply_to, "已重新发货，单号 SF123456789。", sender="owner@haoyunlai.cn",
                     in_reply_to=notice.message_id)  # fmt: skip
    row = mail_receive(raw, via="imap")
    assert row.outcome == "merchant_reply"
    reply = ticket.messages.get(pk=row.message_id)
    assert (reply.author_kind, reply.body) == ("merchant", "已重新发货，单号 SF123456789。")
    assert SLATarget.objects.get(ticket=ticket, kind="merchant_reply").status == "met"
    told = Notification.objects.get(ticket=ticket, kind="merchant_answered")
    assert told.recipient == CONSUMER and "SF123456789" in told.body and ticket.tracking_token in told.body


def test_a_merchant_reply_from_an_address_not_on_the_account_is_held(forwarded):
    ticket, notice = forwarded
    row = mail_receive(reply_mail(notice.reply_to, "已处理", sender="owner@gmail.com"), via="imap")
    assert (row.status, row.outcome) == ("held", "sender_mismatch")
    assert SLATarget.objects.get(ticket=ticket, kind="merchant_reply").status == "running"


def test_a_reply_to_a_penalty_email_is_an_appeal():
    merchant = MerchantFactory(name="快乐小店", contact_email="")
    user = UserFactory(username="happy_owner", email="owner@happy.cn")
    MerchantUserFactory(merchant=merchant, user=user)
    root = UserFactory(username="root_decider", is_superuser=True, is_staff=True)
    penalty = merchant_penalty_impose(merchant=merchant, kind="warning", reason="多次未按时答复", actor=root)
    notice = Notification.objects.get(kind="merchant_penalized", recipient="owner@happy.cn")
    raw = reply_mail(notice.reply_to, "这几单是快递延误，附上物流记录。", sender="owner@happy.cn")
    row = mail_receive(raw, via="imap")
    assert row.outcome == "appeal"
    appeal = MerchantAppeal.objects.get(penalty=penalty)
    assert (appeal.source, appeal.filed_by, appeal.status) == ("email", user, "open")
    assert "快递延误" in appeal.body


# --- What we send ------------------------------------------------------------------------


def test_our_mails_carry_the_reply_address_and_say_they_are_automatic(answered, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ticket, notice = answered
    received = Notification.objects.get(ticket=ticket, kind="ticket_received")
    outbox_deliver(channel=EMAIL, ids=[received.pk, notice.pk])
    by_subject = {m.subject: m for m in django_mail.outbox}
    ack, reply = by_subject[received.subject], by_subject[notice.subject]
    assert ack.reply_to == [received.reply_to] and re.fullmatch(signed("c", ticket.pk, ticket.pk), ack.reply_to[0])
    assert ack.extra_headers["Auto-Submitted"] == "auto-replied"
    assert "Auto-Submitted" not in reply.extra_headers  # a person's words
    assert ack.extra_headers["Message-ID"] == received.message_id


def test_a_message_stored_but_never_processed_is_finished_by_the_re_sweep(answered, monkeypatch):
    """A worker that dies between storing a message and processing it loses nothing."""
    from mail import inbound
    from mail.tasks import mail_unfinished_task

    ticket, notice = answered
    raw = reply_mail(notice.reply_to, "我补充一下情况")

    def dies(pk, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(inbound, "mail_process", dies)
    with pytest.raises(SystemExit):
        mail_receive(raw, via="imap")
    monkeypatch.undo()
    row = InboundMail.objects.get()
    assert row.status == "received" and not ticket.messages.filter(body="我补充一下情况").exists()

    assert mail_unfinished_task() == 0  # not yet: it may still be in hand
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        assert mail_unfinished_task() == 1
        assert mail_unfinished_task() == 0
    assert ticket.messages.filter(body="我补充一下情况").count() == 1


@pytest.mark.parametrize(
    ("build", "stored"),
    [
        (corpus.foxmail_reply, "好的，订单号是 E20261130001。"),
        (corpus.outlook_reply, "款项今天已经收到，谢谢。"),
        (corpus.big5, "唔該，我嘅訂單冇到㗎，請幫忙查一下。"),
    ],
    ids=["foxmail-gb18030", "outlook", "big5"],
)
def test_chinese_clients_replies_are_stored_as_the_consumer_wrote_them(answered, build, stored):
    """The clients Chinese consumers use, their charsets and quote headers, end to end."""
    ticket, notice = answered
    raw = build(sender=CONSUMER, to=notice.reply_to)
    row = mail_receive(raw, via="imap")
    assert (row.outcome, row.ticket_id) == ("consumer_message", ticket.pk)
    assert ticket.messages.get(pk=row.message_id).body == stored
