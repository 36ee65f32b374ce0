"""The agent desk's tools, from the outside: canned answers and their variables,
merging a duplicate, bulk actions, logging a phone call, the CSV export and the
API under the same visibility rule, and the collision warning."""

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from tests.builders import hours_ago, ticket_filed
from tests.factories import CategoryFactory, MerchantUserFactory, TeamFactory, UserFactory
from tickets import services
from tickets.models import CannedAnswer, Message, SLATarget, StaffProfile, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def desk(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def other_ticket():
    other_team = TeamFactory(name="Fraud desk")
    return ticket_filed(CategoryFactory(code="fraud-x", team=other_team, default_priority="urgent"))


class TestCannedAnswers:
    def test_variables_are_filled_in_for_the_ticket(self, desk, agent, category):
        StaffProfile.objects.create(user=agent, alias="小美")
        # Filed Monday 2026-11-23 10:00 Shanghai: normal priority, resolution due in 10 working days.
        filed = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
        ticket = services.ticket_create(
            category=category, subject="退款", body="退款没到", requester_name="王芳",
            requester_phone="13900001111", order_number="ORD-778899", now=filed,
        )  # fmt: skip
        CannedAnswer.objects.create(
            title="退款处理中",
            body="{consumer_name}您好，我是{agent_name}。您的投诉 {reference}（订单 {order_number}）"
            "将在 {promised_time} 前处理完毕。{unknown} 保持原样。",
        )
        response = desk.get(f"/desk/tickets/{ticket.pk}/answers/", {"q": "退款"})
        assert response.status_code == 200
        [answer] = response.json()["results"]
        resolution = ticket.targets.get(kind=SLATarget.Kind.RESOLUTION)
        # 10 working days from Monday 10:00 → Monday 2026-12-07 10:00 (no holiday in between).
        assert resolution.due_at == datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
        assert answer["text"] == (
            f"王芳您好，我是小美。您的投诉 {ticket.reference}（订单 ORD-778899）"
            "将在 2026年12月7日 10:00（北京时间） 前处理完毕。{unknown} 保持原样。"
        )

    def test_english_answer_is_filled_in_english(self, desk, category):
        ticket = ticket_filed(category, requester_name="Li Na")
        CannedAnswer.objects.create(
            title="Refund on the way", language="en", body="Dear {consumer_name}, {agent_name} here about {reference}."
        )
        [answer] = desk.get(f"/desk/tickets/{ticket.pk}/answers/", {"q": "refund"}).json()["results"]
        assert answer["text"] == f"Dear Li Na, Customer service here about {ticket.reference}."
        assert answer["language"] == "en"

    def test_search_ranks_the_ticket_category_and_language_first(self, desk, category, urgent_category):
        ticket = ticket_filed(category)
        CannedAnswer.objects.create(title="通用 问候", body="您好")
        CannedAnswer.objects.create(title="English greeting", language="en", body="Hello")
        CannedAnswer.objects.create(title="退款 问候", body="退款您好", category=category)
        CannedAnswer.objects.create(title="订单 问候", body="订单您好", category=urgent_category)
        CannedAnswer.objects.create(title="停用 问候", body="旧", is_active=False)
        titles = [a["title"] for a in desk.get(f"/desk/tickets/{ticket.pk}/answers/").json()["results"]]
        # Another category's and inactive answers are not offered at all.
        assert titles == ["退款 问候", "通用 问候", "English greeting"]
        titles = [
            a["title"] for a in desk.get(f"/desk/tickets/{ticket.pk}/answers/", {"q": "greeting"}).json()["results"]
        ]
        assert titles == ["English greeting"]

    def test_answers_of_a_ticket_one_cannot_see_are_404(self, desk, other_ticket):
        assert desk.get(f"/desk/tickets/{other_ticket.pk}/answers/").status_code == 404

    def test_a_supervisor_keeps_their_teams_answers_an_agent_uses_them_in_the_desk(
        self, client, supervisor, agent, category
    ):
        client.force_login(supervisor)
        response = client.post(
            "/admin/tickets/cannedanswer/add/",
            {"title": "物流延误", "language": "zh-hans", "category": category.pk,
             "body": "您好{consumer_name}，订单 {order_number} 已催促。", "is_active": "on"},
        )  # fmt: skip
        assert response.status_code == 302
        assert CannedAnswer.objects.get(title="物流延误").created_by == supervisor
        typo = client.post(
            "/admin/tickets/cannedanswer/add/",
            {
                "title": "错字",
                "language": "zh-hans",
                "category": category.pk,
                "body": "您好{consumer}",
                "is_active": "on",
            },
        )
        assert typo.status_code == 200 and "{consumer}" in typo.content.decode()
        # An answer for every category is the administrators' to write.
        general = client.post(
            "/admin/tickets/cannedanswer/add/",
            {"title": "通用", "language": "zh-hans", "body": "您好", "is_active": "on"},
        )
        assert general.status_code == 200 and "该字段是必填项" in general.content.decode()
        assert not CannedAnswer.objects.filter(title__in=["错字", "通用"]).exists()
        client.force_login(agent)
        assert client.get("/admin/tickets/cannedanswer/").status_code == 403
        assert client.get("/admin/tickets/cannedanswer/add/").status_code == 403


class TestMerge:
    def test_merge_keeps_every_message_and_event(self, desk, agent, category):
        kept = ticket_filed(category, at=hours_ago(3), body="第一次投诉：退款没到账")
        duplicate = ticket_filed(category, at=hours_ago(1), body="第二次投诉：还是没到账")
        services.ticket_reply(ticket=duplicate, author=agent, body="内部核实中", public=False)
        messages_before = set(Message.objects.filter(ticket__in=[kept, duplicate]).values_list("pk", flat=True))
        events_before = set(TicketEvent.objects.filter(ticket__in=[kept, duplicate]).values_list("pk", flat=True))

        confirm = desk.post(f"/desk/tickets/{kept.pk}/merge/", {"source": duplicate.reference.lower()})
        assert confirm.status_code == 200 and duplicate.reference in confirm.content.decode()
        Ticket.objects.get(pk=duplicate.pk, merged_into=None)  # nothing happens before confirming
        response = desk.post(f"/desk/tickets/{kept.pk}/merge/", {"source": duplicate.reference, "confirm": "1"})
        assert response.status_code == 302

        duplicate.refresh_from_db()
        assert duplicate.merged_into == kept and duplicate.status == "closed"
        assert not duplicate.targets.filter(status__in=["running", "paused"]).exists()
        # Nothing was deleted or moved; both conversations and trails show on the kept ticket.
        assert set(Message.objects.filter(ticket__in=[kept, duplicate]).values_list("pk", flat=True)) == messages_before
        events_after = set(TicketEvent.objects.filter(ticket__in=[kept, duplicate]).values_list("pk", flat=True))
        assert events_before < events_after
        page = desk.get(f"/desk/tickets/{kept.pk}/")
        shown = {m.pk for m in page.context["conversation"]}
        assert shown == messages_before
        assert events_after == {e.pk for e, _detail in page.context["timeline"]}
        assert kept.events.filter(kind="merged_in", actor=agent, data__source=duplicate.reference).exists()
        assert duplicate.events.filter(kind="merged", data__into=kept.reference).exists()
        # The duplicate's owed first response now is owed on the kept ticket (it already had one).
        assert kept.targets.filter(kind="first_response", status="running").count() == 1

    def test_owed_reply_moves_to_the_kept_ticket(self, desk, agent, category):
        kept = ticket_filed(category, at=hours_ago(3))
        services.ticket_reply(ticket=kept, author=agent, body="已处理")
        duplicate = ticket_filed(category, at=hours_ago(1))
        services.ticket_merge(source=duplicate, into=kept, actor=agent)
        assert kept.targets.filter(kind="next_response", status="running").count() == 1

    def test_refusals(self, desk, agent, category, other_ticket):
        kept = ticket_filed(category)
        for source, expected in [(kept.reference, "不能合并到自身"), (other_ticket.reference, "没有您可查看的工单"),
                                 ("CS-00000000-000000", "没有您可查看的工单")]:  # fmt: skip
            response = desk.post(f"/desk/tickets/{kept.pk}/merge/", {"source": source, "confirm": "1"}, follow=True)
            assert expected in response.content.decode()
        closed = ticket_filed(category)
        services.ticket_change_status(ticket=closed, status="closed", actor=agent)
        dup = ticket_filed(category)
        response = desk.post(
            f"/desk/tickets/{closed.pk}/merge/", {"source": dup.reference, "confirm": "1"}, follow=True
        )
        assert "请先重新打开" in response.content.decode()
        assert Ticket.objects.get(pk=dup.pk).merged_into is None

    def test_a_chain_stays_one_merge_away(self, agent, category):
        a, b, c = ticket_filed(category), ticket_filed(category), ticket_filed(category)
        services.ticket_merge(source=a, into=b, actor=agent)
        services.ticket_merge(source=b, into=c, actor=agent)
        assert set(c.merged_tickets.values_list("pk", flat=True)) == {a.pk, b.pk}

    def test_the_duplicates_consumer_is_sent_on_only_if_it_is_theirs(self, client, agent, category):
        kept = ticket_filed(category, requester_phone="13812345678")
        same = ticket_filed(category, requester_phone="13812345678")
        stranger = ticket_filed(category, requester_phone="13900000000")
        services.ticket_merge(source=same, into=kept, actor=agent)
        services.ticket_merge(source=stranger, into=kept, actor=agent)
        page = client.get(f"/t/{same.tracking_token}/").content.decode()
        assert kept.reference in page and f"/t/{kept.tracking_token}/" in page
        page = client.get(f"/t/{stranger.tracking_token}/").content.decode()
        assert kept.reference in page and kept.tracking_token not in page


class TestBulk:
    def test_assign_status_priority_on_ticked_rows_with_events(self, desk, agent, supervisor, category):
        tickets = [ticket_filed(category) for _ in range(3)]
        ids = [t.pk for t in tickets]
        desk.post(
            "/desk/bulk/", {"ticket": ids, "action": "assign", "assign": supervisor.pk, "next": "/desk/?view=mine"}
        )
        desk.post("/desk/bulk/", {"ticket": ids, "action": "priority", "priority": "urgent"})
        response = desk.post("/desk/bulk/", {"ticket": ids, "action": "status", "status": "pending"}, follow=True)
        assert "已更改 3 个工单" in response.content.decode()
        for ticket in Ticket.objects.filter(pk__in=ids):
            assert (ticket.assignee, ticket.priority, ticket.status) == (supervisor, "urgent", "pending")
            kinds = set(ticket.events.filter(actor=agent).values_list("kind", flat=True))
            assert {"assigned", "priority_changed", "status_changed", "target_recomputed"} <= kinds

    def test_invisible_tickets_are_ignored_and_refusals_reported(self, desk, agent, category, other_ticket):
        closed, open_ = ticket_filed(category), ticket_filed(category)
        services.ticket_change_status(ticket=closed, status="closed", actor=agent)
        response = desk.post(
            "/desk/bulk/", {"ticket": [closed.pk, open_.pk, other_ticket.pk], "action": "status", "status": "open"},
            follow=True,
        )  # fmt: skip
        text = response.content.decode()
        assert "已更改 1 个工单" in text and closed.reference in text
        assert Ticket.objects.get(pk=open_.pk).status == "open"
        assert Ticket.objects.get(pk=closed.pk).status == "closed"
        assert Ticket.objects.get(pk=other_ticket.pk).status == "new"
        assert not other_ticket.events.filter(actor=agent).exists()

    def test_assigning_outside_the_ticket_team_is_refused(self, desk, agent, category):
        outsider = UserFactory(username="outsider", groups=["agents"])
        ticket = ticket_filed(category)
        desk.post("/desk/bulk/", {"ticket": [ticket.pk], "action": "assign", "assign": outsider.pk})
        assert Ticket.objects.get(pk=ticket.pk).assignee is None
        desk.post("/desk/bulk/", {"ticket": [ticket.pk], "action": "assign", "assign": "me"})
        assert Ticket.objects.get(pk=ticket.pk).assignee == agent

    def test_a_manager_cannot_bulk_change(self, client, manager, category):
        ticket = ticket_filed(category)
        client.force_login(manager)
        assert (
            client.post("/desk/bulk/", {"ticket": [ticket.pk], "action": "assign", "assign": "me"}).status_code == 403
        )

    def test_next_must_stay_on_this_site(self, desk, category):
        ticket = ticket_filed(category)
        response = desk.post(
            "/desk/bulk/",
            {"ticket": [ticket.pk], "action": "priority", "priority": "low", "next": "https://evil.example/"},
        )
        assert response["Location"] == "/desk/"


class TestPhoneCall:
    def test_a_call_becomes_a_phone_ticket_assigned_to_the_agent(self, desk, agent, category):
        response = desk.post(
            "/desk/phone/",
            {"requester_name": "张伟", "requester_phone": "139 0000 2222", "category": category.pk,
             "description": "来电：退款一周没到账\n订单已取消。", "priority": "urgent"},
        )  # fmt: skip
        ticket = Ticket.objects.get(requester_name="张伟")
        assert response.status_code == 302 and response["Location"] == f"/desk/tickets/{ticket.pk}/"
        assert (ticket.channel, ticket.priority, ticket.assignee, ticket.requester_phone) == (
            "phone", "urgent", agent, "+8613900002222",
        )  # fmt: skip
        assert ticket.subject == "来电：退款一周没到账"
        assert ticket.events.get(kind="created").actor == agent
        assert ticket.targets.filter(kind="first_response", status="running").exists()

    def test_each_optional_field_says_so_once(self, desk):
        html = desk.get("/desk/phone/").content.decode()
        for label in ("来电人邮箱", "店铺", "订单号"):
            assert f"{label} <small>（选填）</small></label>" in html, label
        assert "（选填）（选填）" not in html and "（选填） <small>" not in html

    def test_bad_input_keeps_what_was_typed(self, desk, category):
        response = desk.post(
            "/desk/phone/", {"requester_name": "张伟", "requester_phone": "12345", "category": category.pk,
                             "description": "来电：退款一周没到账"},
        )  # fmt: skip
        assert response.status_code == 400
        text = response.content.decode()
        assert "请输入有效的电话号码：中国大陆手机或固定电话，或以 + 加国家代码开头。" in text
        assert "来电：退款一周没到账" in text
        assert not Ticket.objects.exists()


class TestExportAndApi:
    def test_export_is_the_filtered_queue_the_agent_may_see(self, desk, category, urgent_category, other_ticket):
        normal = ticket_filed(category, subject='=HYPERLINK("http://evil")', requester_phone="13812345678")
        urgent = ticket_filed(urgent_category)
        response = desk.get("/desk/export.csv", {"priority": "normal"})
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        raw = b"".join(response.streaming_content)
        assert raw.startswith("\ufeff".encode())
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert rows[0][0] == "工单编号"
        assert [r[0] for r in rows[1:]] == [normal.reference]
        assert rows[1][2] == '\'=HYPERLINK("http://evil")' and rows[1][11] == "138****5678"
        everything = b"".join(desk.get("/desk/export.csv").streaming_content).decode("utf-8-sig")
        assert urgent.reference in everything and other_ticket.reference not in everything

    def test_api_lists_and_opens_only_visible_tickets(self, desk, category, other_ticket):
        mine = ticket_filed(category)
        listed = desk.get("/api/v1/tickets/")
        assert listed.status_code == 200
        assert [t["reference"] for t in listed.json()["results"]] == [mine.reference]
        assert listed.json()["results"][0]["requester"] == "138****5678"
        assert desk.get(f"/api/v1/tickets/{mine.pk}/").json()["reference"] == mine.reference
        missing = desk.get(f"/api/v1/tickets/{other_ticket.pk}/")
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"
        assert desk.get("/api/v1/tickets/999999/").status_code == 404

    def test_api_refuses_merchants_and_anonymous(self, client, category):
        ticket = ticket_filed(category)
        anonymous = client.get("/api/v1/tickets/")
        assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"] == "Bearer"
        client.force_login(MerchantUserFactory().user)
        # Not staff: refused whether or not the ticket exists (nothing revealed).
        assert client.get("/api/v1/tickets/").json()["code"] == "permission_denied"
        assert client.get(f"/api/v1/tickets/{ticket.pk}/").status_code == 403
        assert client.get("/api/v1/tickets/999999/").status_code == 403
        assert client.get("/desk/export.csv").status_code == 403


class TestCollision:
    def test_two_agents_writing_see_each_other_until_one_stops(self, client, agent, team, category):
        colleague = UserFactory(username="colleague", groups=["agents"])
        team.members.add(colleague)
        StaffProfile.objects.create(user=colleague, alias="Alex")
        ticket = ticket_filed(category)
        other = client.__class__()
        client.force_login(agent)
        other.force_login(colleague)
        with time_machine.travel(timezone.now(), tick=False) as clock:
            assert other.post(f"/desk/tickets/{ticket.pk}/presence/").json() == {"others": []}
            assert client.post(f"/desk/tickets/{ticket.pk}/presence/").json() == {"others": ["colleague (Alex)"]}
            clock.shift(timedelta(seconds=31))  # the colleague stopped beating
            assert client.post(f"/desk/tickets/{ticket.pk}/presence/").json() == {"others": []}
            other.post(f"/desk/tickets/{ticket.pk}/presence/")
            other.post(f"/desk/tickets/{ticket.pk}/presence/", {"leaving": "1"})
            assert client.post(f"/desk/tickets/{ticket.pk}/presence/").json() == {"others": []}

    def test_a_reply_written_over_a_colleagues_is_held_back_with_the_draft(self, client, agent, team, category):
        colleague = UserFactory(username="colleague", groups=["agents"])
        team.members.add(colleague)
        ticket = ticket_filed(category)
        client.force_login(agent)
        seen = client.get(f"/desk/tickets/{ticket.pk}/").context["seen"]
        services.ticket_reply(ticket=ticket, author=colleague, body="同事已经回复了")
        response = client.post(f"/desk/tickets/{ticket.pk}/reply/", {"body": "我的草稿", "seen": seen})
        assert response.status_code == 409
        text = response.content.decode()
        assert "我的草稿" in text and "同事已经回复了" in text and "未发送" in text
        assert not ticket.messages.filter(body="我的草稿").exists()
        sent = client.post(f"/desk/tickets/{ticket.pk}/reply/", {"body": "我的草稿", "seen": seen, "send_anyway": "1"})
        assert sent.status_code == 302 and ticket.messages.filter(body="我的草稿").exists()
        # Internal notes are never held back.
        note = client.post(f"/desk/tickets/{ticket.pk}/reply/", {"body": "备注", "kind": "note", "seen": 0})
        assert note.status_code == 302


def test_profile_sets_the_alias_consumers_see(desk, agent):
    assert desk.get("/desk/profile/").status_code == 200
    response = desk.post("/desk/profile/", {"alias": "小美", "language": "en"})
    assert response.status_code == 302
    profile = StaffProfile.objects.get(user=agent)
    assert (profile.alias, profile.language) == ("小美", "en")
    too_long = desk.post("/desk/profile/", {"alias": "长" * 31, "language": ""})
    assert too_long.status_code == 400
