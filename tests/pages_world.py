"""The world the page tests read (tests/test_pages_in_chinese.py), and the pages.

``world_built`` makes, once per module, a little of everything a person can see
on a page, each the way the system makes it (tickets.services, the sweep, the
merchants' and feedback services, the mail pipeline), at fixed instants before
``NOW`` (a Monday afternoon in Shanghai), with Chinese or digit-only values:

* 王小明's complaint about 开心小店 (``main``): a picture and a PDF as evidence,
  assigned, answered, an internal note, re-prioritised, forwarded to the shop,
  the shop's answer, a consumer's follow-up with an alert word, a reply by email,
  and a duplicate merged into it;
* a resolved complaint awaiting its rating, a closed one rated, one pending on
  the consumer, an urgent one a week unanswered (breached to level 2, alerts for
  the supervisor), one the shop let lapse (a strike), one awaiting the shop, a
  phone call, a chat with an agent and one left waiting;
* the shop's penalties (one appealed, one appeal decided), its API key, its
  scorecard and its trend, risk signals (two shops sharing a phone), feedback,
  one with an alert word.

The whole is written inside one transaction, rolled back at the end of the module;
time stands still at ``NOW`` meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage

import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.http import HttpResponse
from django.test import Client, override_settings

from accounts.models import Merchant
from feedback.services import feedback_mark, feedback_submit, survey_submit
from mail.inbound import mail_receive
from merchants.appeals import penalty_appeal_decide, penalty_appeal_file
from merchants.penalties import merchant_penalty_impose
from merchants.risk import risk_signals_detect
from merchants.scoring import merchant_scores_compute
from merchants.tokens import token_create
from tests.builders import SH, picture, ticket_filed
from tests.factories import CategoryFactory, MerchantFactory, MerchantUserFactory, TeamFactory, UserFactory
from tests.tickets.pdf_builder import PdfBuilder, one_page
from tickets import services
from tickets.escalation import sla_sweep
from tickets.models import AlertKeyword, Notification, StaffProfile, Ticket
from tickets.services.chat import availability_set, chat_accept, chat_decline, chat_start
from tickets.uploads import evidence_clean

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=SH)  # a Monday, a working day
CONSUMER_EMAIL = "13800138000@163.com"


@dataclass
class World:
    users: dict[str, object]
    tickets: dict[str, Ticket]
    merchant: Merchant
    ids: dict[str, int] = field(default_factory=dict)


def _pdf(name: str):
    data = one_page(PdfBuilder()).save().data
    return evidence_clean(SimpleUploadedFile(name, data, content_type="application/pdf"))


def _reply_mail(to: str, body: str) -> bytes:
    """What the consumer's mail client sends on Reply: the answer above the quote."""
    message = EmailMessage()
    message["From"] = f"王小明 <{CONSUMER_EMAIL}>"
    message["To"] = to
    message["Subject"] = "回复：我们已回复您的投诉"
    message["Message-ID"] = "<20261128100000.12345@163.com>"
    message.set_content(f"{body}\n\n> 您好，我们正在核实退款进度。\n")
    return message.as_bytes()


def _build() -> World:
    at = NOW - timedelta(days=3)  # Friday 27 November, 15:00
    supervisor = UserFactory(username="主管", email="10001@163.com", groups=["supervisors"])
    agent = UserFactory(username="小美", email="10002@163.com", groups=["agents"])
    manager = UserFactory(username="经理", email="10003@163.com", groups=["managers"])
    root = UserFactory(username="管理员", email="10000@163.com", is_superuser=True)  # decides penalties and appeals
    team = TeamFactory(name="订单组", supervisors=[supervisor], members=[agent])
    refund = CategoryFactory(code="1001", name_zh="退款", name_en="退款", default_priority="normal", team=team)
    urgent = CategoryFactory(code="1002", name_zh="无法下单", name_en="无法下单", default_priority="urgent", team=team)
    merchant = MerchantFactory(
        name="开心小店",
        shop_id="00042",
        contact_name="张三",
        contact_phone="13700137000",
        contact_email="30000@163.com",
    )
    MerchantFactory(name="快乐小铺", shop_id="00043", contact_phone="13700137000", contact_email="30002@163.com")
    owner = UserFactory(username="店主", email="30001@163.com", is_staff=False)
    MerchantUserFactory(merchant=merchant, user=owner)
    StaffProfile.objects.create(user=agent, alias="小美")
    AlertKeyword.objects.create(word="诈骗")

    # 王小明's complaint, worked every way a ticket can be.
    main = ticket_filed(
        refund,
        at=at,
        subject="退款一直没有到账",
        body="订单 2026112312345 退款七天了还没到账。",
        requester_name="王小明",
        requester_email=CONSUMER_EMAIL,
        requester_phone="13800138000",
        merchant=merchant,
        order_number="2026112312345",
        evidence=[picture("截图"), _pdf("账单")],  # no extension: a file name is the sender's data
    )
    services.ticket_assign(ticket=main, assignee=agent, actor=agent, now=at + timedelta(minutes=10))
    services.ticket_reply(ticket=main, author=agent, body="您好，我们正在核实退款进度。", now=at + timedelta(hours=1))
    services.ticket_reply(ticket=main, author=agent, body="已联系财务。", public=False, now=at + timedelta(hours=2))
    services.ticket_change_priority(ticket=main, priority="urgent", actor=agent, now=at + timedelta(hours=3))
    services.ticket_forward_to_merchant(ticket=main, actor=agent, note="请尽快回复顾客", now=at + timedelta(hours=4))
    services.ticket_merchant_reply(ticket=main, author=owner, body="已安排退款。", now=at + timedelta(hours=5))
    services.ticket_consumer_message(
        ticket=main, body="客服电话说这是诈骗，我该怎么办？", now=at + timedelta(days=1, hours=1)
    )
    notice = Notification.objects.filter(ticket=main, kind="agent_replied").first()
    with time_machine.travel(at + timedelta(days=2), tick=False):  # the consumer answers the email on Sunday
        mail = mail_receive(_reply_mail(notice.reply_to, "还是没有收到。"), via="imap")
    duplicate = ticket_filed(
        refund,
        at=at + timedelta(days=1),
        subject="退款没到账",
        body="退款还没到。",
        requester_name="王小明",
        requester_phone="13800138000",
        merchant=merchant,
    )
    services.ticket_merge(source=duplicate, into=main, actor=agent, now=at + timedelta(days=1, hours=2))

    # A resolved complaint awaiting its rating; a closed one, rated; one pending on the consumer.
    resolved = ticket_filed(refund, at=at, subject="快递丢件", requester_name="李娜", requester_phone="13912345678")
    services.ticket_reply(ticket=resolved, author=agent, body="已为您补发。", now=at + timedelta(hours=1))
    services.ticket_change_status(ticket=resolved, status="resolved", actor=agent, now=at + timedelta(hours=2))
    closed = ticket_filed(refund, at=at - timedelta(days=7), subject="发票开错", requester_name="赵六")
    services.ticket_reply(ticket=closed, author=agent, body="已重开发票。", now=at - timedelta(days=7, hours=-1))
    services.ticket_change_status(ticket=closed, status="resolved", actor=agent, now=at - timedelta(days=6))
    survey_submit(ticket=closed, rating=4, comment="处理得很快", now=at - timedelta(days=6, hours=-1))
    services.ticket_change_status(ticket=closed, status="closed", actor=agent, now=at - timedelta(days=5))
    pending = ticket_filed(refund, at=at, subject="地址填错", requester_name="钱七")
    services.ticket_reply(ticket=pending, author=agent, body="请告诉我们正确的地址。", now=at + timedelta(hours=1))
    services.ticket_change_status(ticket=pending, status="pending", actor=agent, now=at + timedelta(hours=1))

    # The shop lets one complaint lapse (a strike) and has another to answer.
    lapsed = ticket_filed(refund, at=at, subject="商家不发货", requester_name="孙八", merchant=merchant)
    services.ticket_forward_to_merchant(ticket=lapsed, actor=agent, note="请核实", now=at + timedelta(hours=1))
    owed = ticket_filed(
        refund, at=NOW - timedelta(hours=3), subject="尺码不对", requester_name="周九", merchant=merchant
    )
    services.ticket_forward_to_merchant(ticket=owed, actor=agent, note="请答复", now=NOW - timedelta(hours=2))

    # Urgent and unanswered for a week: breached, escalated to level 2.
    late = ticket_filed(urgent, at=NOW - timedelta(days=7), subject="一直无法下单", requester_name="吴十")
    sla_sweep(now=NOW)

    phone = services.ticket_create(
        category=refund,
        subject="电话咨询退款",
        body="顾客来电询问退款进度。",
        requester_name="郑一",
        requester_phone="13512345678",
        channel="phone",
        author=agent,
        now=NOW - timedelta(hours=1),
    )
    # A chat with the agent, and one they passed on, waiting in the team's queue.
    availability_set(user=agent, status="online")
    chat = chat_start(
        category=refund, body="在吗？退款什么时候到？", requester_name="李娜", requester_phone="13812345678"
    )
    chat_accept(ticket=chat, agent=agent)
    services.ticket_reply(ticket=chat, author=agent, body="您好，我来帮您查。")
    waiting = chat_start(category=refund, body="我的订单不见了", requester_name="王五", requester_phone="13612345678")
    chat_decline(ticket=waiting, agent=agent)

    # The shop's penalties, appeals, key, scores; a risk signal; feedback.
    warning = merchant_penalty_impose(
        merchant=merchant, kind="warning", reason="多次未按时回复", actor=root, tickets=[lapsed], now=at
    )
    penalty_appeal_file(penalty=warning, body="已按时回复，请撤销。", source="portal", filed_by=owner, now=at)
    deduction = merchant_penalty_impose(
        merchant=merchant, kind="point_deduction", points=5, reason="投诉未答复", actor=root, now=at
    )
    appeal = penalty_appeal_file(penalty=deduction, body="当时系统故障。", source="portal", filed_by=owner, now=at)
    penalty_appeal_decide(appeal=appeal, decision="upheld", note="记录显示未回复", actor=root, now=at)
    token_create(user=owner, name="店铺系统")
    merchant_scores_compute(now=NOW - timedelta(days=1))
    merchant_scores_compute(now=NOW)
    risk_signals_detect(now=NOW)
    feedback_submit(topic="site", body="收到诈骗短信，冒充客服。", contact="13600136000", language="zh-hans", now=at)
    handled = feedback_submit(topic="service", body="客服态度很好。", language="zh-hans", now=at)
    feedback_mark(feedback=handled, handled=True, by=manager, now=at + timedelta(hours=1))

    return World(
        users={"agent": agent, "supervisor": supervisor, "manager": manager, "owner": owner},
        tickets={
            "main": main,
            "duplicate": duplicate,
            "resolved": resolved,
            "closed": closed,
            "pending": pending,
            "lapsed": lapsed,
            "owed": owed,
            "late": late,
            "phone": phone,
            "chat": chat,
            "waiting": waiting,
        },
        merchant=merchant,
        ids={"mail": mail.pk, "warning": warning.pk, "deduction": deduction.pk},
    )


@contextmanager
def world_built(django_db_blocker) -> Iterator[World]:
    """The world, in a transaction rolled back afterwards, with time stopped at NOW."""
    with django_db_blocker.unblock(), time_machine.travel(NOW, tick=False), transaction.atomic():
        built = _build()
        try:
            yield built
        finally:
            transaction.set_rollback(True)


# --- The pages --------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """A page: who reads it (None: an anonymous visitor), its path in the world,
    how it is asked for (a form sent with ``post``, ``repeat`` times), and what of
    the world it must show (so that a page checked is a page with rows in it)."""

    who: str | None
    path: Callable[[World], str]
    status: int = 200
    post: dict | None = None
    repeat: int = 1
    limits: dict = field(default_factory=dict)  # RATE_LIMITS to use instead
    extra: dict = field(default_factory=dict)  # request headers, environ
    shows: tuple[str, ...] = ()


def _token(name: str, suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/t/{w.tickets[name].tracking_token}/{suffix}"


def _desk(name: str, suffix: str = "") -> Callable[[World], str]:
    return lambda w: f"/desk/tickets/{w.tickets[name].pk}/{suffix}"


def _fixed(path: str) -> Callable[[World], str]:
    return lambda w: path


# A limit of 0: the next request is refused.
NO_MORE = {name: {name: (0, 3600)} for name in ("complaint_ip", "reply_ip", "feedback_ip", "token_guess")}

PAGES: dict[str, Page] = {
    # The consumer's pages.
    "complaints:complaint_new": Page(None, _fixed("/complaints/new/")),
    "complaints:complaint_new (errors)": Page(None, _fixed("/complaints/new/"), 400, post={"description": ""}),
    "complaints:complaint_new (follow-up)": Page(
        None, lambda w: f"/complaints/new/?follows={w.tickets['closed'].tracking_token}"
    ),
    "complaints:complaint_new (rate-limited)": Page(
        None, _fixed("/complaints/new/"), 429, post={"description": "退款"}, limits=NO_MORE["complaint_ip"]
    ),
    "complaints:complaint_submitted": Page(None, _token("main", "submitted/")),
    "complaints:tracking (answered, forwarded, evidence)": Page(
        None, _token("main"), shows=("您好，我们正在核实退款进度。", "已安排退款。", "账单", 'class="file-icon"')
    ),
    "complaints:tracking (reply sent)": Page(None, lambda w: f"/t/{w.tickets['main'].tracking_token}/?sent=1"),
    "complaints:tracking (reply errors)": Page(None, _token("main"), 400, post={"body": ""}),
    "complaints:tracking (reply rate-limited)": Page(
        None, _token("main"), 429, post={"body": "好"}, limits=NO_MORE["reply_ip"]
    ),
    "complaints:tracking (resolved, survey)": Page(None, _token("resolved"), shows=("已为您补发。", 'id="survey"')),
    "complaints:survey (errors)": Page(None, _token("resolved", "survey/"), 400, post={"comment": "好"}),
    "complaints:tracking (closed, rated)": Page(None, _token("closed"), shows=("survey-done", "?follows=")),
    "complaints:tracking (pending)": Page(None, _token("pending")),
    "complaints:tracking (merged)": Page(None, _token("duplicate")),
    "complaints:tracking (late)": Page(None, _token("late"), shows=('class="late"',)),
    "complaints:tracking (chat)": Page(None, _token("chat")),
    "complaints:tracking (too many guesses)": Page(None, _token("main"), 429, limits=NO_MORE["token_guess"]),
    "complaints:chat_new": Page(None, _fixed("/chat/")),
    "complaints:chat_new (errors)": Page(None, _fixed("/chat/"), 400, post={"description": ""}),
    "complaints:chat (with an agent)": Page(None, _token("chat", "chat/"), shows=("您好，我来帮您查。",)),
    "complaints:chat (waiting)": Page(None, _token("waiting", "chat/"), shows=("我的订单不见了",)),
    "feedback:new": Page(None, _fixed("/feedback/")),
    "feedback:new (errors)": Page(None, _fixed("/feedback/"), 400, post={"body": ""}),
    "feedback:new (rate-limited)": Page(
        None, _fixed("/feedback/"), 429, post={"body": "好"}, limits=NO_MORE["feedback_ip"]
    ),
    "feedback:thanks": Page(None, _fixed("/feedback/thanks/")),
    # The agent desk.
    "desk:login": Page(None, _fixed("/desk/login/")),
    "desk:login (errors)": Page(None, _fixed("/desk/login/"), post={"username": "小美", "password": "错"}),
    "desk:login (locked)": Page(
        None, _fixed("/desk/login/"), 429, post={"username": "小美", "password": "错"}, repeat=6
    ),
    "desk:queue": Page("agent", _fixed("/desk/"), shows=("退款一直没有到账", 'class="flag"')),
    "desk:queue (supervisor)": Page("supervisor", _fixed("/desk/"), shows=("一直无法下单", 'class="level"')),
    "desk:queue (filters)": Page("supervisor", _fixed("/desk/?priority=urgent&overdue=true&channel=web")),
    "desk:queue (saved view)": Page("agent", _fixed("/desk/?view=mine")),
    "desk:queue (empty)": Page("agent", _fixed("/desk/?q=没有这样的工单"), shows=('class="empty"',)),
    "desk:ticket": Page(
        "agent",
        _desk("main"),
        shows=("已联系财务。", "已安排退款。", "退款还没到。", "请尽快回复顾客", 'class="by-mail"'),
    ),
    "desk:ticket (breached)": Page(
        "supervisor", _desk("late"), shows=("state-breached", "ev-sla_breach", "ev-sla_level2")
    ),
    "desk:ticket (merged duplicate)": Page("agent", _desk("duplicate")),
    "desk:ticket (chat)": Page("agent", _desk("chat"), shows=('id="chat-bar"', "您好，我来帮您查。")),
    "desk:ticket (chat waiting)": Page("supervisor", _desk("waiting"), shows=("/chat/accept/",)),
    "desk:ticket (phone call)": Page("agent", _desk("phone")),
    "desk:ticket (resolved)": Page("agent", _desk("resolved")),
    "desk:reply (errors)": Page("agent", _desk("main", "reply/"), 400, post={"body": "", "kind": "public"}),
    "desk:merge (confirm)": Page("agent", _desk("main", "merge/"), post={"source": "{pending}"}),
    "desk:phone": Page("agent", _fixed("/desk/phone/")),
    "desk:phone (errors)": Page("agent", _fixed("/desk/phone/"), 400, post={"subject": ""}),
    "desk:profile": Page("agent", _fixed("/desk/profile/")),
    "desk:alerts": Page("supervisor", _fixed("/desk/alerts/"), shows=("一直无法下单", "商家不发货")),
    "desk:alerts (none)": Page("manager", _fixed("/desk/alerts/")),
    "desk:chats": Page("supervisor", _fixed("/desk/chats/"), shows=("小美", "我的订单不见了")),
    "mail:original": Page("agent", lambda w: f"/mail/original/{w.ids['mail']}/", shows=("还是没有收到。",)),
    # The managers' reports.
    **{
        f"reports:sla (by {group})": Page(
            "manager", _fixed(f"/reports/sla/?group={group}"), shows=(shown, "一直无法下单")
        )
        for group, shown in {
            "team": "订单组",
            "priority": "紧急",
            "category": "无法下单",
            "agent": "小美",
            "merchant": "开心小店",
            "channel": "电话",
        }.items()
    },
    "reports:sla (errors)": Page("manager", _fixed("/reports/sla/?start=2026-13-01&end=2026-11-01")),
    "reports:backlog": Page("manager", _fixed("/reports/backlog/")),
    "reports:volume": Page("manager", _fixed("/reports/volume/")),
    "feedback_reports:satisfaction": Page("manager", _fixed("/reports/satisfaction/"), shows=("处理得很快",)),
    "feedback_reports:inbox": Page("manager", _fixed("/reports/feedback/"), shows=("冒充客服", "客服态度很好")),
    "merchant_reports:list": Page("manager", _fixed("/reports/merchants/"), shows=("开心小店", "快乐小铺")),
    "merchant_reports:list (empty)": Page("supervisor", _fixed("/reports/merchants/?q=没有这家店")),
    "merchant_reports:detail": Page(
        "manager", lambda w: f"/reports/merchants/{w.merchant.pk}/", shows=("多次未按时回复", "商家不发货")
    ),
    "merchant_reports:risk": Page("manager", _fixed("/reports/merchants/risk/"), shows=("快乐小铺", "13700137000")),
    "merchant_reports:risk (supervisor, all)": Page("supervisor", _fixed("/reports/merchants/risk/?status=all")),
    # The downloads, read in a spreadsheet: each table of each page as CSV.
    "desk:export (CSV)": Page("supervisor", _fixed("/desk/export.csv"), shows=("一直无法下单",)),
    "merchant_reports:export (CSV)": Page("manager", _fixed("/reports/merchants/export.csv"), shows=("开心小店",)),
    **{
        f"{page} (CSV: {table})": Page("manager", _fixed(f"{path}?export={table}"))
        for page, path, tables in (
            ("reports:sla", "/reports/sla/", ("targets", "groups", "escalations", "trend", "overdue")),
            ("reports:backlog", "/reports/backlog/", ("age", "breaching")),
            ("reports:volume", "/reports/volume/", ("heatmap", "forecast", "staffing")),
            (
                "feedback_reports:satisfaction",
                "/reports/satisfaction/",
                ("overall", "category", "team", "agent", "comments"),
            ),
            ("feedback_reports:inbox", "/reports/feedback/", ("feedback", "topics", "keywords")),
        )
        for table in tables
    },
    # The merchant portal.
    "merchant:login": Page(None, _fixed("/merchant/login/")),
    "merchant:login (errors)": Page(None, _fixed("/merchant/login/"), post={"username": "店主", "password": "错"}),
    "merchant:login (locked)": Page(
        None, _fixed("/merchant/login/"), 429, post={"username": "店主", "password": "错"}, repeat=6
    ),
    "merchant:complaints": Page("owner", _fixed("/merchant/"), shows=("尺码不对",)),
    "merchant:complaints (all)": Page("owner", _fixed("/merchant/?show=all"), shows=("尺码不对", "商家不发货")),
    "merchant:complaint (owed)": Page("owner", lambda w: f"/merchant/complaints/{w.tickets['owed'].pk}/"),
    "merchant:complaint (answered)": Page(
        "owner", lambda w: f"/merchant/complaints/{w.tickets['main'].pk}/", shows=("已安排退款。",)
    ),
    "merchant:complaint (lapsed)": Page("owner", lambda w: f"/merchant/complaints/{w.tickets['lapsed'].pk}/"),
    "merchant:complaint (errors)": Page(
        "owner", lambda w: f"/merchant/complaints/{w.tickets['owed'].pk}/", 400, post={"body": ""}
    ),
    "merchant:scorecard": Page("owner", _fixed("/merchant/scorecard/"), shows=("多次未按时回复", "商家不发货")),
    "merchant:penalty (appealed)": Page(
        "owner", lambda w: f"/merchant/penalties/{w.ids['warning']}/", shows=("已按时回复，请撤销。",)
    ),
    "merchant:penalty (appeal decided)": Page(
        "owner", lambda w: f"/merchant/penalties/{w.ids['deduction']}/", shows=("记录显示未回复",)
    ),
    "merchant:penalty (errors)": Page(
        "owner", lambda w: f"/merchant/penalties/{w.ids['deduction']}/", 400, post={"body": ""}
    ),
    "merchant:tokens": Page("owner", _fixed("/merchant/tokens/"), shows=("店铺系统",)),
    "merchant:tokens (errors)": Page("owner", _fixed("/merchant/tokens/"), 400, post={"name": ""}),
    # The error pages.
    "404 (tracking link)": Page(None, _fixed("/t/0000000000000000000000000000000000000000/"), 404),
    "404 (desk)": Page("agent", _fixed("/desk/tickets/999999999/"), 404),
    "404 (no such page)": Page(None, _fixed("/no-such-page/"), 404),
    "403 (a merchant on the desk)": Page("owner", _fixed("/desk/"), 403),
    "403 (an agent on the reports)": Page("agent", _fixed("/reports/sla/"), 403),
    "400 (characters that cannot be stored)": Page(None, _fixed("/complaints/new/?q=%00"), 400),
    "413 (files too large)": Page(None, _fixed("/complaints/new/"), 413, post={}, extra={"CONTENT_LENGTH": str(10**9)}),
}


def _posted(data: dict, world: World) -> dict:
    """A form's fields, with ``{name}`` standing for that ticket's reference."""
    return {
        key: world.tickets[value[1:-1]].reference if value.startswith("{") else value for key, value in data.items()
    }


def page_request(world: World, page: Page, *, prefix: str = "") -> HttpResponse:
    client = Client(REMOTE_ADDR="203.0.113.7")
    if page.who:
        client.force_login(world.users[page.who])
    path = prefix + page.path(world)
    limits = {**settings.RATE_LIMITS, **page.limits}
    with override_settings(RATE_LIMITS=limits):
        for _ in range(page.repeat):
            if page.post is None:
                response = client.get(path, **page.extra)
            else:
                response = client.post(path, _posted(page.post, world), **page.extra)
    return response


def page_text(response: HttpResponse) -> str:
    """What the response holds, a page or a streamed download (CSV, with its BOM)."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode("utf-8-sig")
