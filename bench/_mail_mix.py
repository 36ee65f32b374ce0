"""bench/email.py's messages: the mix of kinds, the answered tickets the replies go
to, and each message built with the tests' corpus (``tests/mail/corpus.py``)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import formatdate

REPLY, NEW = ("posted", "consumer_message"), ("posted", "new_ticket")
# kind: (share of the messages in %, the (status, outcome) the pipeline must give it)
MIX = {
    "reply_gmail": (30, REPLY),  # UTF-8 quoted-printable, "在 … 写道：" above "> " lines
    "reply_qq": (15, REPLY),  # QQ Mail / Foxmail: GB18030 text + HTML, history under "原始邮件"
    "reply_outlook": (10, REPLY),  # Outlook: GB2312 base64, history under "-----原始邮件-----"
    "reply_png": (10, REPLY),  # a chat screenshot attached (a real PNG, re-encoded by the evidence checks)
    "reply_html": (5, REPLY),  # HTML only, no text alternative
    "new_orders": (8, NEW),  # to orders@: MAIL_CATEGORY_ADDRESSES["orders"] (urgent)
    "new_gbk": (7, NEW),  # to service@, GBK (Foxmail, older Outlook): MAIL_DEFAULT_CATEGORY
    "new_html": (5, NEW),  # to service@, HTML only (a <script> and <style> to drop)
    "auto_reply": (5, ("ignored", "auto_reply")),  # an out-of-office answering our mail
    "bounce": (5, ("ignored", "bounce")),  # a DSN for a mail of ours
}
REPLY_TEXTS = ("还是没有收到退款，麻烦再查一下", "截图已经发过了，请尽快处理", "商家一直不回复，我该怎么办", "好的")


@dataclass(frozen=True, order=True)
class Answered:
    """A ticket an agent answered: where its consumer's reply goes."""

    ticket_id: int
    email: str
    reply_to: str
    message_id: str  # of our "agent_replied" mail, without <>

    def envelope(self) -> dict[str, str]:
        return {"to": self.reply_to, "sender": self.email, "in_reply_to": self.message_id}


@dataclass(frozen=True)
class Mail:
    kind: str
    raw: bytes
    text: str  # what the ticket's message must say (the reply, its quoted history stripped)
    ticket_id: int | None = None  # the ticket a reply must join
    category: str = ""  # the category code a new complaint must get
    files: int = 0


def tickets_answered(*, count: int, category, agent, prefix: str) -> list[Answered]:
    from tickets import services
    from tickets.models import Notification

    emails = {}
    for i in range(count):
        email = f"{prefix}{i:05d}@example.cn"  # one consumer each: MAIL_SENDER_LIMIT is per sender
        ticket = services.ticket_create(category=category, subject=f"退款七天没到账 #{i}",
                                        body="申请退款七天了还没有到账，请尽快处理。", requester_name=f"顾客{i}",
                                        requester_email=email)  # fmt: skip
        services.ticket_reply(ticket=ticket, author=agent, body="您好，请提供订单截图，我们为您查询。")
        emails[ticket.pk] = email
    notices = Notification.objects.filter(ticket_id__in=emails, kind="agent_replied")
    found = sorted(
        Answered(ticket_id, emails[ticket_id], reply_to, message_id.strip("<>"))
        for ticket_id, reply_to, message_id in notices.values_list("ticket_id", "reply_to", "message_id")
    )
    if len(found) != count or not all(a.reply_to and a.message_id for a in found):
        raise AssertionError(f"{len(found)} agent_replied notifications with a Reply-To for {count} answered tickets")
    return found


def shares(total: int) -> dict[str, int]:
    """``total`` split by MIX's shares (largest remainders)."""
    exact = {kind: total * share / 100 for kind, (share, _) in MIX.items()}
    counts = {kind: int(x) for kind, x in exact.items()}
    for kind in sorted(exact, key=lambda k: counts[k] - exact[k])[: total - sum(counts.values())]:
        counts[kind] += 1
    return counts


def mail_build(kind: str, i: int, a: Answered) -> Mail:
    """Message ``i``, of ``kind``; a reply (or an auto-reply) answers our mail to ``a``."""
    from django.conf import settings

    from tests.mail import corpus

    date, domain = formatdate(localtime=True), settings.MAIL_DOMAIN
    said = f"{REPLY_TEXTS[i % len(REPLY_TEXTS)]}，订单号 E2026{i:07d}。"
    reply = {**a.envelope(), "sender_name": "顾客", "date": date}  # the corpus's subjects: "Re: …", "回复：…"
    filed = f"申请退款七天了还没有到账，订单号 E2026{i:07d}，请尽快处理。"
    new = {"sender": f"buyer{i:05d}@163.com", "sender_name": f"买家{i}", "date": date, "to": f"service@{domain}"}
    match kind:
        case "reply_gmail":
            return Mail(kind, corpus.gmail_reply(body=said, **reply), said, a.ticket_id)
        case "reply_qq":
            return Mail(kind, corpus.foxmail_reply(body=said, **reply), said, a.ticket_id)
        case "reply_outlook":
            return Mail(kind, corpus.outlook_reply(body=said, **reply), said, a.ticket_id)
        case "reply_png":
            raw = corpus.screenshot(body=said, filename=f"聊天截图{i}.png", **reply)
            return Mail(kind, raw, said, a.ticket_id, files=1)
        case "reply_html":
            return Mail(kind, corpus.html_only(body=f"<div>{said}</div>", **reply), said, a.ticket_id)
        case "new_orders":
            raw = corpus.plain_utf8(body=filed, **{**new, "to": f"orders@{domain}"})
            return Mail(kind, raw, filed, category=settings.MAIL_CATEGORY_ADDRESSES["orders"])
        case "new_gbk":
            return Mail(kind, corpus.gbk(body=filed, **new), filed, category=settings.MAIL_DEFAULT_CATEGORY)
        case "new_html":
            raw = corpus.html_only(body=corpus.HTML_PAGE.replace("订单号 E1", f"订单号 E2026{i:07d}"), **new)
            return Mail(kind, raw, f"订单号 E2026{i:07d}", category=settings.MAIL_DEFAULT_CATEGORY)
        case "auto_reply":
            return Mail(kind, corpus.auto_reply(**a.envelope()), "")
        case _:
            return Mail(kind, corpus.bounce(to=f"bounces@{domain}"), "")


def mails_build(answered: list[Answered], count: int, rng: random.Random, *, first: int = 0) -> list[Mail]:
    """``count`` messages of MIX's kinds in a shuffled order; the replies go round the
    tickets. Numbered from ``first`` (new complaints come from a sender of that number)."""
    kinds = [kind for kind, n in shares(count).items() for _ in range(n)]
    rng.shuffle(kinds)
    mails, replies = [], 0
    for i, kind in enumerate(kinds):
        mails.append(mail_build(kind, first + i, answered[replies % len(answered)]))
        replies += kind.startswith("reply_")
    return mails
