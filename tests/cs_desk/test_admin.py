"""The admin site: cs_desk's own (its brand in each language), and in Chinese
throughout: every list, object page and add form of every model it shows,
rendered with rows in it, has no English word outside the short allow-list of
tests/i18n_words.py.

The rows are written with Chinese or digit-only values (names, subjects,
usernames, shop ids) so that what the check finds is the interface's English,
not the data's; the rows the migrations ship with bilingual names are given
Chinese ones here (see ``_seeded_rows_in_chinese``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from accounts.models import ApiKey
from cs_desk.admin import CsDeskAdminSite
from feedback.services import feedback_submit, survey_submit
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from mail.models import InboundMail
from merchants.appeals import penalty_appeal_file
from merchants.models import MerchantDocument, MerchantPenalty, MerchantRiskSignal, MerchantStrike
from merchants.penalties import LADDER_JOB, merchant_penalty_impose
from merchants.scoring import merchant_scores_compute
from reports.digest import daily_digest_send
from tests.builders import picture, ticket_filed
from tests.factories import CategoryFactory, MerchantFactory, MerchantUserFactory, TeamFactory, UserFactory
from tests.i18n_words import english_words
from tickets import services
from tickets.escalation import sla_sweep
from tickets.models import (
    AlertKeyword,
    BusinessCalendar,
    CannedAnswer,
    Category,
    StaffAlert,
    StaffProfile,
)
from tickets.services.chat import availability_set, chat_accept, chat_start
from tickets.services.worktime import work_time_add

SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)  # Monday, an ordinary working week
CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}

pytestmark = pytest.mark.django_db


# --- The brand ----------------------------------------------------------------------


def test_the_admin_is_cs_desks_own_site():
    """The site every app registers on and the URLconf mounts is cs_desk's."""
    assert isinstance(admin.site, CsDeskAdminSite)
    assert reverse("admin:index") == "/admin/"
    assert admin.site._registry  # the apps' pages are on it


@pytest.mark.parametrize(
    ("prefix", "header", "title"),
    [
        ("", "cs_desk 客服管理", "配置与记录 | cs_desk 管理后台"),
        ("/en", "cs_desk customer service", "Configuration and records | cs_desk admin"),
    ],
)
def test_the_index_shows_the_brand_in_each_language(admin_client, prefix, header, title):
    page = admin_client.get(f"{prefix}/admin/").content.decode()

    assert f'<div id="site-name"><a href="{prefix}/admin/">{header}</a></div>' in page
    assert f"<title>{title}</title>" in page
    assert f"<h1>{title.split(' | ')[0]}</h1>" in page
    assert "Django" not in page


def test_the_login_page_shows_the_brand(client):
    page = client.get("/admin/login/", **CHINESE).content.decode()

    assert '<a href="/admin/">cs_desk 客服管理</a>' in page
    assert "<title>登录 | cs_desk 管理后台</title>" in page


# --- Every page in Chinese ----------------------------------------------------------


def _seeded_rows_in_chinese() -> None:
    """The rows the migrations ship with English names (data, not the interface):
    the categories' codes and English names, and the role groups (agents,
    supervisors, managers: renamed last, as the code finds the roles by these
    names). The calendar, the chat's policy and the appeals team ship in Chinese
    (tickets 0027), and are checked as they are."""
    for number, category in enumerate(Category.objects.order_by("pk"), start=9001):
        Category.objects.filter(pk=category.pk).update(code=str(number), name_en=category.name_zh)
    for number, group in enumerate(Group.objects.order_by("pk"), start=1):
        Group.objects.filter(pk=group.pk).update(name=f"角色{number}")


@pytest.fixture
def root(db):
    user = get_user_model().objects.create_superuser("管理员", "10000@例子.中国")
    # A fixed salt: the user page shows the hash's first characters, which must not spell a word by chance.
    user.password = make_password("pass-2026-管理", salt="2026112310001000")
    user.save(update_fields=["password"])
    return user


@pytest.fixture
def rows(root):
    """At least one row of every model the admin shows, made the way the system makes
    them, with Chinese or digit-only values."""
    supervisor = UserFactory(username="主管", email="10001@例子.中国", groups=["supervisors"])
    agent = UserFactory(username="小美", email="10002@例子.中国", groups=["agents"])
    team = TeamFactory(name="订单组", email="20000@例子.中国", supervisors=[supervisor], members=[agent])
    category = CategoryFactory(code="1001", name_zh="退款", name_en="退款", default_priority="normal", team=team)
    merchant = MerchantFactory(
        name="开心小店",
        shop_id="00042",
        legal_entity="开心商贸有限公司",
        contact_name="张三",
        contact_phone="13700137000",
        contact_email="30000@例子.中国",
    )
    owner = UserFactory(username="店主", email="30001@例子.中国")
    MerchantUserFactory(merchant=merchant, user=owner)
    StaffProfile.objects.create(user=agent, alias="小美")
    keyword = AlertKeyword.objects.create(word="诈骗")
    CannedAnswer.objects.create(
        title="退款进度", body="您好{consumer_name}，您的投诉 {reference} 正在处理。", category=category
    )
    ApiKey.objects.create(kind="staff", user=agent, name="订单系统", prefix="12345678", key_hash="1" * 64)
    ApiKey.objects.create(
        kind="merchant", user=owner, merchant=merchant, name="店铺系统", prefix="87654321", key_hash="2" * 64
    )
    endpoint = WebhookEndpoint.objects.create(
        name="订单系统", url="https://例子.中国/hooks", events=list(WebhookEvent.values)
    )
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=WebhookEvent.TICKET_CREATED, payload={})
    WebhookAttempt.objects.create(
        delivery=delivery, number=1, at=MON_10, status_code=500, error="", response_excerpt="", duration_ms=120
    )

    ticket = ticket_filed(
        category,
        at=MON_10,
        subject="退款一直没有到账",
        body="有人诈骗，订单 2026112312345 退款七天了还没到账。",
        requester_name="王小明",
        requester_email="40000@例子.中国",
        requester_phone="13800138000",
        merchant=merchant,
        evidence=[picture("截图")],
    )
    target = services.ticket_forward_to_merchant(ticket=ticket, actor=agent, note="请尽快回复", now=MON_10)
    MerchantStrike.objects.create(
        merchant=merchant, ticket=ticket, target=target, reason="missed_reply", params={"reference": ticket.reference}
    )
    penalty = merchant_penalty_impose(merchant=merchant, kind="warning", reason="测试", actor=root, tickets=[ticket])
    penalty_appeal_file(penalty=penalty, body="已按时回复，请撤销。", source="portal", filed_by=owner)
    MerchantRiskSignal.objects.create(
        kind="shared_contact",
        key="phone:13700137000",
        evidence={"field": "phone", "value": "13700137000"},
        detected_at=MON_10,
        last_seen_at=MON_10,
    ).merchants.set([merchant])
    # a step the penalty ladder took (decided by the job, not a person)
    MerchantPenalty.objects.create(
        merchant=merchant, kind="point_deduction", points=5, strike_count=3, threshold=3, decided_by_job=LADDER_JOB
    )
    MerchantDocument.objects.create(
        merchant=merchant, kind="business_licence", file=ContentFile(b"1", name="执照.png"), original_name="营业执照"
    )
    merchant_scores_compute(now=MON_10)
    services.ticket_change_status(ticket=ticket, status="resolved", actor=agent, now=MON_10)
    survey_submit(ticket=ticket, rating=5, comment="很满意", now=MON_10)
    feedback_submit(topic="site", body="诈骗短信太多了", contact="13600136000", language="zh-hans", now=MON_10)
    daily_digest_send(now=MON_10)
    InboundMail.objects.create(
        key="3" * 64,
        header_message_id="<12345@例子.中国>",
        via="smtp",
        raw="From: 50000@例子.中国\r\n\r\n退款\r\n".encode(),
        sender="50000@例子.中国",
        recipient="60000@例子.中国",
        subject="退款",
        status="posted",
        outcome="new_ticket",
        text="退款",
        ticket=ticket,
    )
    # a breach, which alerts the team's supervisor in the desk
    ticket_filed(category, at=MON_10 - timedelta(days=30), subject="一个月没人回复", requester_name="李娜")
    sla_sweep(now=MON_10)
    assert StaffAlert.objects.exists()
    # a chat the agent took
    availability_set(user=agent, status="online")
    chat = chat_start(category=category, body="在吗？", requester_name="李娜", requester_phone="13812345678")
    chat_accept(ticket=chat, agent=agent)
    work_time_add(ticket_id=ticket.pk, user_id=agent.pk, seconds=10, now=MON_10)
    assert keyword.hits.exists()
    _seeded_rows_in_chinese()
    return ticket


def _pages(root) -> list[str]:
    """The admin's pages: the index, each app's index, each model's list, the object
    page of its first row and its add form (where one may add), and the pages of its
    own tools (which SLA policy applies, with an answer; a calendar's official
    schedule and re-dating)."""
    request = RequestFactory().get("/")
    request.user = root
    calendar = BusinessCalendar.objects.get(is_default=True)
    pages = [
        reverse("admin:index"),
        reverse("admin:tickets_slapolicy_which"),
        reverse("admin:tickets_slapolicy_which") + "?channel=chat&priority=urgent",
        reverse("admin:tickets_businesscalendar_official", args=[calendar.pk]),
        reverse("admin:tickets_businesscalendar_redate", args=[calendar.pk]),
    ]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        pages.append(reverse("admin:app_list", args=[opts.app_label]))
        pages.append(reverse(f"{prefix}_changelist"))
        first = model_admin.get_queryset(request).order_by("pk").first()
        assert first is not None, f"no {opts.label} row to open"
        pages.append(reverse(f"{prefix}_change", args=[first.pk]))
        if model_admin.has_add_permission(request):
            pages.append(reverse(f"{prefix}_add"))
    return list(dict.fromkeys(pages))


def test_every_admin_page_is_in_chinese(rows, root):
    client = Client(**CHINESE)
    client.force_login(root)

    english = {}
    for page in _pages(root):
        response = client.get(page)
        assert response.status_code == 200, page
        assert response["Content-Language"] == "zh-hans", page
        words = english_words(response.content.decode())
        if words:
            english[page] = sorted(words)

    assert english == {}


def test_the_checker_finds_an_untranslated_label(admin_client):
    """The check above is not vacuous: the same page in English is full of English words."""
    with translation.override("en"):
        page = admin_client.get("/en/admin/tickets/slatarget/").content.decode()
    assert {"SLA", "targets"} & english_words(page) == {"targets"}


def test_durations_and_notification_kinds_read_in_chinese(rows, root):
    client = Client(**CHINESE)
    client.force_login(root)

    targets = client.get(reverse("admin:tickets_slatarget_changelist") + f"?q={rows.reference}").content.decode()
    notices = client.get(reverse("admin:tickets_notification_changelist")).content.decode()

    # The complaint's alert word made it urgent: a first response within 24 calendar hours,
    # a resolution within 72, and the merchant's 24 hours.
    assert targets.count('<td class="field-promise">1天0小时 · 自然时间</td>') == 2
    assert targets.count('<td class="field-promise">3天0小时 · 自然时间</td>') == 1
    # Each notice by its kind's label: the acknowledgement, the forward to the shop, the
    # supervisors' alert, the invitation to rate once resolved.
    for label in ("投诉已受理", "已转交商家", "关键词预警", "满意度调查邀请"):
        assert f'<td class="field-kind">{label}</td>' in notices, label
