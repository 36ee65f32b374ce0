"""Surveys, keyword alerts, rate limits, follow-ups, aliases and masking, from
the outside (HTTP and the outbox)."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from feedback.models import KeywordHit, Survey
from tests.builders import ticket_filed
from tests.factories import UserFactory
from tests.tickets.test_consumer import NEW, valid
from tickets import services
from tickets.models import AlertKeyword, Notification, StaffProfile, Ticket, TicketEvent
from tickets.privacy import mask_contact, mask_email, mask_phone

# 李娜 files with an email address and no phone (the builder's default complaint otherwise).
LINA = {"requester_phone": "", "requester_email": "lina@example.cn"}


@pytest.mark.django_db
class TestSurvey:
    def test_resolving_invites_by_email_and_the_page_takes_one_rating_per_resolution(self, client, category, agent):
        ticket = ticket_filed(category, **LINA)
        services.ticket_reply(ticket=ticket, author=agent, body="已退款。")
        services.ticket_change_status(ticket=ticket, status="resolved", actor=agent)
        invitation = Notification.objects.get(kind="survey_invitation")
        assert invitation.recipient == "lina@example.cn"
        assert f"/t/{ticket.tracking_token}/#survey" in invitation.body

        page = client.get(f"/t/{ticket.tracking_token}/").content.decode()
        assert 'id="survey"' in page and 'name="rating"' in page
        url = f"/t/{ticket.tracking_token}/survey/"
        assert client.post(url, {"rating": "4", "comment": "处理得很快"}).status_code == 302
        survey = Survey.objects.get()
        assert (survey.rating, survey.comment, survey.resolution) == (4, "处理得很快", 1)
        assert (survey.team_id, survey.category_id, survey.agent_id) == (ticket.team_id, category.pk, None)
        # Answered: the page thanks instead of asking, and a second answer is refused.
        page = client.get(f"/t/{ticket.tracking_token}/").content.decode()
        assert 'name="rating"' not in page and "4" in page
        response = client.post(url, {"rating": "1"})
        assert response.status_code == 400 and Survey.objects.count() == 1

        # Reopened and resolved again: that resolution may be rated too.
        services.ticket_consumer_message(ticket=ticket, body="又出问题了")
        assert client.post(url, {"rating": "2"}).status_code == 400
        services.ticket_change_status(ticket=ticket, status="resolved", actor=agent)
        assert client.post(url, {"rating": "2"}).status_code == 302
        assert sorted(Survey.objects.values_list("resolution", "rating")) == [(1, 4), (2, 2)]
        assert ticket.events.filter(kind=TicketEvent.Kind.SURVEY_ANSWERED).count() == 2

    def test_an_open_ticket_has_no_survey_and_a_bad_rating_is_refused(self, client, category, agent):
        ticket = ticket_filed(category, **LINA)
        assert 'name="rating"' not in client.get(f"/t/{ticket.tracking_token}/").content.decode()
        assert client.post(f"/t/{ticket.tracking_token}/survey/", {"rating": "5"}).status_code == 400
        services.ticket_change_status(ticket=ticket, status="resolved", actor=agent)
        client.cookies["django_language"] = "en"
        response = client.post(f"/en/t/{ticket.tracking_token}/survey/", {"rating": "9"})
        assert response.status_code == 400 and not Survey.objects.exists()
        assert "Select a valid choice" in response.content.decode()


@pytest.mark.django_db
class TestKeywordAlerts:
    def test_an_alert_word_flags_raises_to_urgent_and_tells_the_supervisors(self, client, category, supervisor):
        AlertKeyword.objects.create(word="诈骗")
        AlertKeyword.objects.create(word="Fraud")
        AlertKeyword.objects.create(word="盗号", is_active=False)
        client.post(NEW, valid(category, description="有人冒充客服诈骗，说是 FRAUD 调查，还盗号了"))
        ticket = Ticket.objects.get()
        assert ticket.is_flagged and ticket.priority == "urgent"
        assert sorted(KeywordHit.objects.values_list("keyword__word", flat=True)) == ["Fraud", "诈骗"]
        # Its clocks run on the urgent policy from the start: 24 hours for the first response.
        first = ticket.targets.get(kind="first_response")
        assert first.duration == timedelta(hours=24)
        alert = Notification.objects.get(kind="keyword_alert")
        assert alert.recipient == supervisor.email and "诈骗" in alert.body
        assert ticket.events.filter(kind="keyword_alert").exists()
        assert ticket.events.get(kind="priority_changed").data == {
            "from": "normal",
            "to": "urgent",
            "reason": "keyword",
        }

    def test_no_alert_word_no_flag(self, client, category):
        AlertKeyword.objects.create(word="诈骗")
        client.post(NEW, valid(category))
        ticket = Ticket.objects.get()
        assert not ticket.is_flagged and ticket.priority == "normal"
        assert not Notification.objects.filter(kind="keyword_alert").exists()


@pytest.mark.django_db
class TestRateLimits:
    @override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "complaint_ip": (3, 3600), "complaint_contact": (100, 3600),
                                    "reply_ip": (100, 3600), "reply_ticket": (100, 3600)})  # fmt: skip
    def test_submissions_per_ip_trip_with_a_clear_message_and_reset(self, client, category):
        with time_machine.travel(timezone.now(), tick=False) as clock:
            for i in range(3):
                phone = f"1380013800{i}"
                assert client.post(NEW, valid(category, requester_phone=phone)).status_code == 302
            client.cookies["django_language"] = "en"
            response = client.post("/en" + NEW, valid(category, requester_phone="13800138009"))
            assert response.status_code == 429
            assert int(response["Retry-After"]) > 0
            page = response.content.decode()
            assert "too many messages" in page and "付款成功但订单列表里没有这个订单" in page  # typed text kept
            assert Ticket.objects.count() == 3
            clock.shift(timedelta(hours=2))
            assert client.post(NEW, valid(category, requester_phone="13800138009")).status_code == 302
        assert Ticket.objects.count() == 4

    @override_settings(RATE_LIMITS={**settings.RATE_LIMITS, "complaint_ip": (100, 3600), "complaint_contact": (2, 3600),
                                    "reply_ip": (100, 3600), "reply_ticket": (2, 3600)})  # fmt: skip
    def test_per_contact_and_per_ticket_limits(self, client, category):
        with time_machine.travel(timezone.now(), tick=False) as clock:
            assert client.post(NEW, valid(category)).status_code == 302
            assert client.post(NEW, valid(category, requester_phone="138 0013 8000")).status_code == 302
            # The same number written differently is the same contact.
            assert client.post(NEW, valid(category, requester_phone="+8613800138000")).status_code == 429
            ticket = Ticket.objects.first()
            url = f"/t/{ticket.tracking_token}/"
            assert client.post(url, {"body": "第一次追问"}).status_code == 302
            assert client.post(url, {"body": "第二次追问"}).status_code == 302
            response = client.post(url, {"body": "第三次追问"})
            assert response.status_code == 429 and "第三次追问" in response.content.decode()
            clock.shift(timedelta(hours=2))
            assert client.post(url, {"body": "第三次追问"}).status_code == 302

    def test_honeypot_filled_in_files_nothing(self, client, category):
        response = client.post(NEW, valid(category, website="http://spam.example"))
        assert response.status_code == 400 and not Ticket.objects.exists()


@pytest.mark.django_db
class TestFollowUpAliasAndMasking:
    def test_a_closed_complaint_offers_a_linked_new_one_prefilled(self, client, category, agent):
        closed = ticket_filed(
            category, requester_email="lina@example.cn", requester_phone="13800138000", order_number="2026112300001"
        )
        services.ticket_change_status(ticket=closed, status="closed", actor=agent)
        page = client.get(f"/t/{closed.tracking_token}/").content.decode()
        link = f"/complaints/new/?follows={closed.tracking_token}"
        assert link in page
        form_page = client.get(link).content.decode()
        assert closed.reference in form_page and 'value="2026112300001"' in form_page
        response = client.post(NEW, valid(category, follows=closed.tracking_token))
        assert response.status_code == 302
        follow_up = Ticket.objects.exclude(pk=closed.pk).get()
        assert follow_up.follows == closed
        assert follow_up.events.get(kind="created").data["follows"] == closed.reference

    def test_an_open_tickets_token_does_not_link(self, client, category):
        open_ticket = ticket_filed(category, **LINA)
        client.post(NEW, valid(category, follows=open_ticket.tracking_token))
        assert Ticket.objects.exclude(pk=open_ticket.pk).get().follows is None

    def test_the_agents_alias_not_their_name(self, client, category):
        agent = UserFactory(username="wang.fang", first_name="芳", last_name="王", groups=["agents"])
        StaffProfile.objects.create(user=agent, alias="小美")
        ticket = ticket_filed(category, **LINA)
        services.ticket_reply(ticket=ticket, author=agent, body="您好，已为您加急处理。")
        page = client.get(f"/t/{ticket.tracking_token}/").content.decode()
        assert "客服 · 小美" in page
        assert "芳 王" not in page and "王芳" not in page and "wang.fang" not in page

    def test_masks(self):
        assert mask_phone("13812345678") == "138****5678"
        assert mask_email("zhang.san@qq.com") == "z***@qq.com"
        assert mask_contact(phone="", email="lina@example.cn") == "l***@example.cn"

    def test_the_admin_ticket_list_masks_the_contact(self, admin_client, category):
        ticket_filed(category, requester_email="lina@example.cn")
        page = admin_client.get("/admin/tickets/ticket/").content.decode()
        assert "138****5678" in page
        assert "13812345678" not in page and "lina@example.cn" not in page
