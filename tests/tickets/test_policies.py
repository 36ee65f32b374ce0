"""SLA policies chosen by conditions (DESIGN.md, "Which policy"): an ordered
list, the first whose conditions all hold wins, the fallbacks of each priority
last. Through every door that uses the rule: the intake, a person's priority
change, the sweep, the preview (API and command), the complaint form's promise
and the admin (in Chinese, the site's language).

Every ticket here is filed on Mon 2026-11-23 10:00 Beijing time, in an ordinary
working week (no holiday before New Year), on the seeded China calendar
(09:00–18:00, so a working day is 9 hours of business time)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from tests.builders import ticket_filed
from tests.factories import CategoryFactory, MerchantFactory, TeamFactory, UserFactory
from tests.tickets.admin_pages import form_data
from tests.tickets.test_consumer import NEW, valid
from tests.tickets.test_preview import URL, named, preview_command
from tickets import services
from tickets.escalation import sla_sweep
from tickets.models import AlertKeyword, BusinessCalendar, SLAPolicy, SLATarget, Ticket

SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)

pytestmark = pytest.mark.django_db

# --- Hand-worked deadlines for a ticket filed Mon 10:00 ---------------------------------
# Chat policy: first response 30 calendar minutes → 10:30 (a next response, 60 minutes
# after the consumer's message); resolution 1 working day = 9 h of business time:
# Mon 10–18 (8 h), Tue 09:00 + 1 h.
CHAT_FIRST = datetime(2026, 11, 23, 10, 30, tzinfo=SH)
CHAT_RESOLUTION = datetime(2026, 11, 24, 10, 0, tzinfo=SH)
# Normal fallback: 3 working days = 27 h: Mon 8, Tue 17, Wed 26, Thu 09:00 + 1 h.
NORMAL_FIRST = datetime(2026, 11, 26, 10, 0, tzinfo=SH)
# 10 working days = 90 h: Mon 8, Tue–Fri 44, Mon 11/30–Fri 12/4 89, Mon 12/7 09:00 + 1 h.
NORMAL_RESOLUTION = datetime(2026, 12, 7, 10, 0, tzinfo=SH)


UNITS = {"m": ("minutes", "calendar"), "h": ("hours", "calendar"), "d": ("days", "business")}


def policy_made(name: str, position: int, targets: str, **conditions) -> SLAPolicy:
    """A policy on the default calendar with ``conditions``, as an administrator
    saves it. ``targets``: first response, next response and resolution, e.g.
    "30m 60m 1d": minutes and hours on the calendar clock, working days on the
    business clock."""
    values = {}
    for name_, spec in zip(("first_response", "next_response", "resolution"), targets.split(), strict=True):
        unit, clock = UNITS[spec[-1]]
        values |= {f"{name_}_amount": int(spec[:-1]), f"{name_}_unit": unit, f"{name_}_clock": clock}
    calendar = BusinessCalendar.objects.get(is_default=True)
    return SLAPolicy.objects.create(name=name, position=position, calendar=calendar, **conditions, **values)


def fallback(priority: str) -> SLAPolicy:
    return SLAPolicy.objects.get(is_fallback=True, priority=priority)


def target(ticket: Ticket, kind: str) -> SLATarget:
    return SLATarget.objects.get(ticket=ticket, kind=kind, cycle=1)


def promised(ticket: Ticket, kind: str = "first_response") -> tuple[SLAPolicy | None, datetime | None]:
    """The policy of the ticket's ``kind`` target and the deadline it promised."""
    found = target(ticket, kind)
    return found.policy, found.due_at


@pytest.fixture(autouse=True)
def _own_policies(db):
    """These tests make their own policies over the fallbacks: the chat's seeded
    policy (its own tests are in test_chat.py) is set aside."""
    SLAPolicy.objects.filter(channel="chat").delete()


@pytest.fixture
def chat_policy(db) -> SLAPolicy:
    """在线客服: a chat is answered in minutes, on the calendar clock."""
    return policy_made("在线客服 30 分钟", 10, "30m 60m 1d", channel="chat")


@pytest.fixture
def refund_policy(category) -> SLAPolicy:
    """Refunds, on any channel, answered within 2 calendar hours; tried after the chat policy."""
    return policy_made("退款专线 2 小时", 20, "2h 2h 2d", category=category)


@pytest.fixture
def urgent_chat_policy(db) -> SLAPolicy:
    """An urgent chat: 10 minutes, and resolved within 4 calendar hours."""
    return policy_made("在线客服紧急 10 分钟", 5, "10m 20m 4h", channel="chat", priority="urgent")


@pytest.fixture
def vip_policy(db) -> SLAPolicy:
    """A VIP shop's complaints: 1 calendar hour, tried between the chat and the refund policies."""
    return policy_made("旗舰店专享 1 小时", 15, "1h 1h 1d", merchant=MerchantFactory(shop_id="VIP00001", name="旗舰店"))


@pytest.fixture
def team_policy(team) -> SLAPolicy:
    """The Orders team's complaints, whatever their priority: 4 calendar hours."""
    return policy_made("订单组 4 小时", 10, "4h 4h 3d", team=team)


# --- 1. Choosing ---------------------------------------------------------------------


class TestChoosing:
    def test_a_chat_about_a_refund_gets_the_chat_policy_the_web_form_the_fallback(self, category, chat_policy):
        chat = ticket_filed(category, channel="chat", at=MON_10)
        web = ticket_filed(category, at=MON_10)

        first = target(chat, "first_response")
        assert (first.policy, first.clock, first.due_at) == (chat_policy, "calendar", CHAT_FIRST)
        assert promised(chat, "resolution") == (chat_policy, CHAT_RESOLUTION)
        chat.refresh_from_db()
        assert chat.due_at == CHAT_FIRST  # the queue sorts it by its soonest deadline
        first = target(web, "first_response")
        assert (first.policy, first.clock, first.due_at) == (fallback("normal"), "business", NORMAL_FIRST)
        assert target(web, "resolution").due_at == NORMAL_RESOLUTION

    def test_of_two_matching_policies_the_lower_position_wins_until_it_is_moved(
        self, category, chat_policy, refund_policy
    ):
        before = ticket_filed(category, channel="chat", at=MON_10)
        assert target(before, "first_response").policy == chat_policy  # position 10 before 20

        chat_policy.position = 30
        chat_policy.save(update_fields=["position"])
        # Filed at 11:00: the refund policy, 2 calendar hours → 13:00.
        after = ticket_filed(category, channel="chat", at=MON_10 + timedelta(hours=1))

        assert promised(after) == (refund_policy, datetime(2026, 11, 23, 13, 0, tzinfo=SH))
        # The ticket filed before keeps what it was promised.
        assert promised(before) == (chat_policy, CHAT_FIRST)

    def test_a_merchants_policy_beats_a_category_policy_placed_after_it(self, category, refund_policy, vip_policy):
        about_vip = ticket_filed(category, merchant=vip_policy.merchant, at=MON_10)
        about_another_shop = ticket_filed(category, merchant=MerchantFactory(), at=MON_10)
        about_no_shop = ticket_filed(category, at=MON_10)

        # 1 calendar hour → 11:00; the refund policy's 2 hours → 12:00.
        assert promised(about_vip) == (vip_policy, datetime(2026, 11, 23, 11, 0, tzinfo=SH))
        for ticket in (about_another_shop, about_no_shop):
            assert promised(ticket) == (refund_policy, datetime(2026, 11, 23, 12, 0, tzinfo=SH))

    def test_a_policy_without_a_priority_holds_for_every_priority(
        self, team_policy, low_category, category, urgent_category
    ):
        elsewhere = CategoryFactory(code="delivery", name_zh="物流", default_priority="normal", team=TeamFactory())

        # Low, normal and urgent complaints of the Orders team: 4 calendar hours → 14:00.
        at_14 = datetime(2026, 11, 23, 14, 0, tzinfo=SH)
        for category_ in (low_category, category, urgent_category):
            ticket = ticket_filed(category_, at=MON_10)
            assert (ticket.priority, *promised(ticket)) == (category_.default_priority, team_policy, at_14)
        # Another team's complaint keeps its priority's fallback.
        assert promised(ticket_filed(elsewhere, at=MON_10)) == (fallback("normal"), NORMAL_FIRST)

    def test_a_fallback_is_tried_after_every_policy_with_conditions_whatever_its_number(self, category, chat_policy):
        normal = fallback("normal")
        normal.position = 1
        normal.save(update_fields=["position"])
        chat_policy.position = 500
        chat_policy.save(update_fields=["position"])

        chat = ticket_filed(category, channel="chat", at=MON_10)
        web = ticket_filed(category, at=MON_10)

        assert target(chat, "first_response").policy == chat_policy
        assert target(web, "first_response").policy == normal
        normal.refresh_from_db()
        assert normal.is_fallback  # a number does not make it a policy with conditions


# --- 2. Changes ----------------------------------------------------------------------


class TestChanges:
    def test_a_person_raising_a_chat_to_urgent_rechooses_with_its_channel(
        self, category, agent, chat_policy, urgent_chat_policy
    ):
        # Given a normal chat about a refund: the chat policy (the urgent chat policy wants urgent).
        ticket = ticket_filed(category, channel="chat", at=MON_10)
        assert target(ticket, "first_response").policy == chat_policy

        # When an agent raises it to urgent at 10:05
        at_10_05 = MON_10 + timedelta(minutes=5)
        services.ticket_change_priority(ticket=ticket, priority="urgent", actor=agent, now=at_10_05)

        # Then both running targets take the urgent chat policy, measured from the moment
        # their clocks started (10:00): first response 10 minutes → 10:10 (not 10:15);
        # resolution 4 calendar hours → 14:00.
        first, resolution = target(ticket, "first_response"), target(ticket, "resolution")
        assert (first.policy, first.started_at, first.due_at) == (
            urgent_chat_policy,
            MON_10,
            datetime(2026, 11, 23, 10, 10, tzinfo=SH),
        )
        assert (resolution.policy, resolution.clock, resolution.due_at) == (
            urgent_chat_policy,
            "calendar",
            datetime(2026, 11, 23, 14, 0, tzinfo=SH),
        )
        assert (first.redated_at, first.redate_reason) == (at_10_05, "priority_changed")
        assert ticket.events.filter(kind="target_recomputed", data__reason="priority_changed").count() == 2
        ticket.refresh_from_db()
        assert ticket.due_at == datetime(2026, 11, 23, 10, 10, tzinfo=SH)

    def test_a_web_complaint_raised_to_urgent_gets_the_urgent_fallback_not_the_chat_one(
        self, category, agent, urgent_chat_policy
    ):
        ticket = ticket_filed(category, at=MON_10)

        services.ticket_change_priority(ticket=ticket, priority="urgent", actor=agent, now=MON_10 + timedelta(hours=1))

        # Urgent fallback, from 10:00: first response 24 calendar hours → Tue 10:00;
        # resolution 72 hours → Thu 10:00.
        assert promised(ticket) == (fallback("urgent"), datetime(2026, 11, 24, 10, 0, tzinfo=SH))
        assert promised(ticket, "resolution") == (fallback("urgent"), datetime(2026, 11, 26, 10, 0, tzinfo=SH))

    def test_a_chat_owes_its_next_response_in_minutes(self, category, agent, chat_policy):
        ticket = ticket_filed(category, channel="chat", at=MON_10)
        services.ticket_reply(ticket=ticket, author=agent, body="您好，正在查询", now=MON_10 + timedelta(minutes=10))
        services.ticket_consumer_message(ticket=ticket, body="好的，请快一点", now=MON_10 + timedelta(minutes=20))

        # Asked again at 10:20: 60 calendar minutes → 11:20.
        assert promised(ticket, "next_response") == (chat_policy, datetime(2026, 11, 23, 11, 20, tzinfo=SH))

    def test_an_alert_word_raises_a_chat_to_urgent_before_its_policy_is_chosen(
        self, category, chat_policy, urgent_chat_policy
    ):
        AlertKeyword.objects.create(word="诈骗")

        ticket = ticket_filed(category, channel="chat", body="客服说要转账解冻，是不是诈骗？", at=MON_10)

        # Urgent before its clocks start: the urgent chat policy, 10 minutes → 10:10.
        assert ticket.priority == "urgent"
        assert promised(ticket) == (urgent_chat_policy, datetime(2026, 11, 23, 10, 10, tzinfo=SH))

    def test_a_priority_change_under_a_policy_for_every_priority_redates_nothing(self, team_policy, category, agent):
        ticket = ticket_filed(category, at=MON_10)

        services.ticket_change_priority(ticket=ticket, priority="urgent", actor=agent, now=MON_10 + timedelta(hours=1))

        # The same policy is chosen again: first response 4 calendar hours → 14:00, as promised.
        assert promised(ticket) == (team_policy, datetime(2026, 11, 23, 14, 0, tzinfo=SH))
        assert target(ticket, "first_response").redated_at is None
        assert not ticket.events.filter(kind="target_recomputed").exists()

    def test_a_breach_raising_the_priority_keeps_the_running_targets_policy(
        self, category, supervisor, chat_policy, urgent_chat_policy
    ):
        ticket = ticket_filed(category, channel="chat", at=MON_10)

        # The first response (30 minutes) breaches at 10:30; the sweep at 10:31 raises the chat to urgent.
        sla_sweep(now=MON_10 + timedelta(minutes=31))

        ticket.refresh_from_db()
        assert ticket.priority == "urgent"
        # The resolution keeps its policy and promise (Tue 10:00), not the urgent chat's 14:00.
        assert promised(ticket, "resolution") == (chat_policy, CHAT_RESOLUTION)


# --- 3. The preview --------------------------------------------------------------------

# Asked for Mon 10:00 (the deadlines at the top); the next response assumes a consumer
# message at that instant: the chat's 60 minutes → 11:00, the fallback's 27 h → Thu 10:00.
CHAT_ANSWER = {
    "category": "refund",
    "priority": "normal",
    "channel": "chat",
    "at": "2026-11-23T10:00:00+08:00",
    "policy": "在线客服 30 分钟",
    "first_response_due": "2026-11-23T10:30:00+08:00",
    "next_response_due": "2026-11-23T11:00:00+08:00",
    "resolution_due": "2026-11-24T10:00:00+08:00",
}
FALLBACK_ANSWER = {
    "category": None,
    "priority": "normal",
    "channel": "web",
    "at": "2026-11-23T10:00:00+08:00",
    "policy": "普通",
    "first_response_due": "2026-11-26T10:00:00+08:00",
    "next_response_due": "2026-11-26T10:00:00+08:00",
    "resolution_due": "2026-12-07T10:00:00+08:00",
}


class TestPreview:
    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"category": "refund", "channel": "chat"}, CHAT_ANSWER),
            ({"priority": "normal", "channel": "chat"}, {**CHAT_ANSWER, "category": None}),
            ({"priority": "normal"}, FALLBACK_ANSWER),
            ({"category": "refund"}, {**FALLBACK_ANSWER, "category": "refund"}),  # the web form by default
        ],
        ids=["refund-chat", "normal-chat", "normal-alone", "refund-web"],
    )
    def test_api_names_the_policy_chosen_and_its_due_times(self, client, category, chat_policy, params, expected):
        response = client.get(URL, {**params, "at": "2026-11-23T10:00+08:00"})

        assert response.status_code == 200
        assert named(response.json()) == expected
        policy = chat_policy if expected["policy"] == chat_policy.name else fallback("normal")
        assert response.json()["policy"]["id"] == policy.pk

    def test_command_names_the_chat_policy_and_the_fallback(self, category, chat_policy):
        at = ["--at", "2026-11-23T10:00+08:00"]
        assert preview_command("--category", "refund", "--channel", "chat", *at) == CHAT_ANSWER
        assert preview_command("--priority", "normal", *at) == FALLBACK_ANSWER


# --- 4. The complaint form's promise -----------------------------------------------------


def promise_of(page: str, name: str) -> str:
    """The promise the complaint form shows beside category ``name``."""
    found = re.search(rf'<span class="name">{name}</span>\s*<span class="promise[^"]*">([^<]*)</span>', page)
    assert found, f"no category {name} on the form"
    return found.group(1)


def test_the_complaint_form_promises_a_categorys_own_web_policy(client, category, urgent_category, chat_policy):
    # A chat-only policy does not change what the web form promises.
    page = client.get(NEW).content.decode()
    assert promise_of(page, "退款") == "3 个工作日内答复"

    own = policy_made("退款网页 2 小时", 20, "2h 2h 2d", category=category, channel="web")
    page = client.get(NEW).content.decode()
    assert promise_of(page, "退款") == "2 小时内答复"
    assert promise_of(page, "订单错误") == "紧急：24 小时内答复"

    # And the promise is kept: filed on the form at 10:00, due 2 calendar hours later.
    with time_machine.travel(MON_10, tick=False):
        assert client.post(NEW, valid(category)).status_code == 302
    assert promised(Ticket.objects.get()) == (own, datetime(2026, 11, 23, 12, 0, tzinfo=SH))


# --- 5. The admin, in Chinese ----------------------------------------------------------


def admin_url(name: str, *args) -> str:
    """An admin URL in the site's language (Chinese: no prefix)."""
    return reverse(f"admin:{name}", args=args)


def listed(page: str) -> list[tuple[str, str, str]]:
    """The changelist's rows, top to bottom: (matching order as in its input, name, conditions)."""
    return re.findall(
        r'name="form-\d+-position" value="(\d+)".*?<th class="field-__str__"><a [^>]*>([^<]*)</a></th>'
        r'.*?<td class="field-conditions">([^<]*)</td>',
        page,
        re.S,
    )


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True)


@pytest.fixture
def root(client, superuser):
    client.force_login(superuser)
    return client


class TestAdmin:
    def test_the_list_shows_the_policies_in_matching_order_with_their_conditions(
        self, root, refund_policy, vip_policy, chat_policy
    ):
        normal = fallback("normal")
        normal.position = 1
        normal.save(update_fields=["position"])

        page = root.get(admin_url("tickets_slapolicy_changelist"))

        assert page.status_code == 200
        # Those with conditions by number (created 20, 15, 10), then the fallbacks, whatever their number.
        assert listed(page.content.decode()) == [
            ("10", "在线客服 30 分钟", "在线聊天"),
            ("15", "旗舰店专享 1 小时", "旗舰店 (VIP00001)"),
            ("20", "退款专线 2 小时", "退款"),
            ("1", "普通", "普通优先级的兜底策略"),
            ("100", "紧急", "紧急优先级的兜底策略"),
            ("100", "低", "低优先级的兜底策略"),
        ]
        assert "匹配条件" in page.content.decode() and "适用哪个策略？" in page.content.decode()

    def test_moving_a_policy_in_the_list_changes_which_applies(self, root, category, chat_policy, refund_policy):
        page = root.get(admin_url("tickets_slapolicy_changelist"))
        formset = page.context["cl"].formset
        data = {**{f"form-{k}": v for k, v in formset.management_form.initial.items()}, "_save": "保存"}
        for i, form in enumerate(formset.forms):
            data |= {f"form-{i}-id": form.instance.pk, f"form-{i}-position": form.instance.position}
            if form.instance == chat_policy:
                data[f"form-{i}-position"] = 30

        assert root.post(admin_url("tickets_slapolicy_changelist"), data).status_code == 302

        chat_policy.refresh_from_db()
        assert chat_policy.position == 30
        ticket = ticket_filed(category, channel="chat", at=MON_10)
        assert target(ticket, "first_response").policy == refund_policy

    def test_which_page_answers_for_a_chat_about_a_refund(self, root, category, chat_policy, vip_policy):
        with time_machine.travel(MON_10, tick=False):
            page = root.get(admin_url("tickets_slapolicy_which"), {"category": category.pk, "channel": "chat"})
            web = root.get(admin_url("tickets_slapolicy_which"), {"category": category.pk, "channel": "web"})
            shop = root.get(
                admin_url("tickets_slapolicy_which"),
                {"category": category.pk, "channel": "web", "merchant": vip_policy.merchant_id},
            )

        assert page.status_code == 200
        content = page.content.decode()
        assert "适用哪个 SLA 策略？" in content
        assert "适用的策略：在线客服 30 分钟" in content
        # Asked at Mon 10:00 (the deadlines worked out at the top of the file).
        for label, due in [
            ("首次响应截止", "2026-11-23T10:30:00+08:00"),
            ("下次响应截止", "2026-11-23T11:00:00+08:00"),
            ("解决截止", "2026-11-24T10:00:00+08:00"),
        ]:
            # Shown as a person reads an instant (the <time> element carries the exact one).
            assert re.search(rf'<th[^>]*>{label}</th><td><time class="instant" datetime="{re.escape(due)}"', content), (
                label
            )
        assert admin_url("tickets_slapolicy_change", chat_policy.pk) in content
        assert "适用的策略：普通" in web.content.decode()
        assert "2026-11-26T10:00:00+08:00" in web.content.decode()
        assert "适用的策略：旗舰店专享 1 小时" in shop.content.decode()

    def test_which_page_asks_for_a_category_or_a_priority(self, root):
        page = root.get(admin_url("tickets_slapolicy_which"), {"channel": "chat"})

        assert page.status_code == 200
        assert "请选择分类或优先级。" in page.content.decode()
        assert "适用的策略" not in page.content.decode()

    def test_a_fallbacks_conditions_cannot_be_changed(self, root):
        normal = fallback("normal")
        page = root.get(admin_url("tickets_slapolicy_change", normal.pk))
        content = page.content.decode()

        for name in SLAPolicy.CONDITIONS:
            assert re.search(rf'<select name="{name}"[^>]*\sdisabled[\s>]', content), name
        assert "这是该优先级的兜底策略，其条件不可修改。" in content

        data = {**form_data(page), "priority": "urgent", "channel": "chat", "first_response_amount": "2"}
        assert root.post(admin_url("tickets_slapolicy_change", normal.pk), data).status_code == 302

        normal.refresh_from_db()
        assert (normal.priority, normal.channel, normal.is_fallback) == ("normal", "", True)
        assert normal.first_response_amount == 2  # the targets are edited, the conditions not

    def test_a_second_fallback_for_a_priority_is_refused(self, root, default_calendar):
        page = root.get(admin_url("tickets_slapolicy_add"))
        data = {
            **form_data(page),
            "name": "普通二号",
            "priority": "normal",
            "calendar": default_calendar.pk,
            "first_response_amount": "1",
            "next_response_amount": "1",
            "resolution_amount": "5",
        }

        refused = root.post(admin_url("tickets_slapolicy_add"), data)
        assert refused.status_code == 200
        assert (
            "该优先级已有兜底策略；请修改那一条，或为本策略再设置一个条件（渠道、分类、团队或商家）。"
            in refused.content.decode()
        )
        assert SLAPolicy.objects.filter(priority="normal").count() == 1

        # With a condition it is a policy of its own, tried before the fallback.
        assert root.post(admin_url("tickets_slapolicy_add"), {**data, "channel": "phone"}).status_code == 302
        added = SLAPolicy.objects.get(name="普通二号")
        assert (added.channel, added.is_fallback) == ("phone", False)

    def test_a_fallback_cannot_be_deleted_a_policy_with_conditions_can(self, root, category, chat_policy):
        assert root.get(admin_url("tickets_slapolicy_delete", fallback("normal").pk)).status_code == 403
        ticket = ticket_filed(category, channel="chat", at=MON_10)

        assert root.get(admin_url("tickets_slapolicy_delete", chat_policy.pk)).status_code == 200
        deleted = root.post(admin_url("tickets_slapolicy_delete", chat_policy.pk), {"post": "yes"})

        assert deleted.status_code == 302
        assert not SLAPolicy.objects.filter(pk=chat_policy.pk).exists()
        # The promise made under it stands.
        assert promised(ticket) == (None, CHAT_FIRST)

    def test_which_page_is_for_those_who_may_read_the_policies(self, client, category, supervisor, manager):
        which = admin_url("tickets_slapolicy_which")
        client.force_login(supervisor)  # staff, without the permission to read policies
        assert client.get(which, {"category": category.pk, "channel": "chat"}).status_code == 403

        client.force_login(manager)  # managers read the configuration behind the reports
        page = client.get(which, {"category": category.pk, "channel": "chat"})
        assert page.status_code == 200
        assert "适用的策略：普通" in page.content.decode()
