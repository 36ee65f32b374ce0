"""Satisfaction figures, the public feedback form and its inbox, and the
managers' daily digest."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine

from feedback.models import Feedback, KeywordHit, Survey
from reports import satisfaction as csat
from reports.digest import daily_digest_send
from tests.factories import UserFactory
from tests.reports.helpers import SH, at, history, ticket
from tests.reports.test_sla_report import PERIOD, rows_of
from tickets.models import AlertKeyword, Notification, ReportDigest, StaffProfile


def survey(t, rating, comment="", *, when, agent=None):
    return Survey.objects.create(
        ticket=t, resolution=1, rating=rating, comment=comment, team=t.team, category=t.category, agent=agent,
        created_at=when,
    )  # fmt: skip


@pytest.fixture
def rated(category, agent, supervisor):
    """Ratings 5, 4, 2 for the agent and 1 for the supervisor in the period, one 5
    outside it. By hand: overall 4 answers, mean (5 + 4 + 2 + 1) / 4 = 3.0,
    satisfied 2 / 4 = 50.0 %; the agent 11 / 3 = 3.67, 66.7 %; the supervisor 1.0."""
    tickets = [ticket(category, f"CS-R{i}", at(16, 9 + i)) for i in range(5)]
    survey(tickets[0], 5, "很快解决了", when=at(17, 9), agent=agent)
    survey(tickets[1], 4, when=at(18, 9), agent=agent)
    survey(tickets[2], 2, "<script>alert(1)</script>太慢", when=at(19, 9), agent=agent)
    survey(tickets[3], 1, '=HYPERLINK("http://evil")', when=at(20, 9), agent=supervisor)
    survey(tickets[4], 5, "上周的", when=at(15, 9), agent=agent)
    return tickets


@pytest.mark.django_db
class TestSatisfaction:
    def test_figures(self, rated, agent):
        overall = csat.csat_overall(period=PERIOD, reader=None)
        assert (overall.answers, overall.average, overall.satisfied) == (4, 3.0, 50.0)
        assert overall.distribution == [1, 1, 0, 1, 1]
        agents = {s.name: s for s in csat.csat_by(period=PERIOD, reader=None, by="agent")}
        assert (agents["agent"].answers, agents["agent"].average, agents["agent"].satisfied) == (3, 3.67, 66.7)
        assert agents["supervisor"].average == 1.0
        assert [s.name for s in csat.csat_by(period=PERIOD, reader=None, by="agent")] == ["supervisor", "agent"]
        assert [s.comment for s in csat.latest_comments(period=PERIOD, reader=None)] == [
            '=HYPERLINK("http://evil")',
            "<script>alert(1)</script>太慢",
            "很快解决了",
        ]

    def test_page_escapes_comments_and_csv_defuses_formulas(self, client, manager, rated):
        client.force_login(manager)
        with time_machine.travel(datetime(2026, 11, 23, 10, tzinfo=SH), tick=False):
            html = client.get("/en/reports/satisfaction/?start=2026-11-16&end=2026-11-22").content.decode()
            comments = rows_of(client.get("/en/reports/satisfaction/?start=2026-11-16&end=2026-11-22&export=comments"))
            agents = rows_of(client.get("/reports/satisfaction/?start=2026-11-16&end=2026-11-22&export=agent"))
        assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;太慢" in html
        assert 'id="csat-average">3.0<' in html and 'id="csat-satisfied">50.0%<' in html
        assert comments[1][3] == '\'=HYPERLINK("http://evil")'
        assert agents[0][:4] == ["客服", "评价数", "平均评分", "满意率 %（4–5 分）"]
        assert agents[2] == ["agent", "3", "3.67", "66.7", "0", "1", "0", "1", "1"]


@pytest.mark.django_db
class TestFeedback:
    def test_the_form_files_feedback_and_flags_alert_words(self, client, manager):
        AlertKeyword.objects.create(word="诈骗")
        response = client.post("/feedback/", {"topic": "site", "body": "App 里有诈骗广告", "contact": "13812345678"})
        assert response.status_code == 302 and response["Location"] == "/feedback/thanks/"
        feedback = Feedback.objects.get()
        assert (feedback.topic, feedback.is_flagged, feedback.language) == ("site", True, "zh-hans")
        assert KeywordHit.objects.get().feedback == feedback
        alert = Notification.objects.get(kind="feedback_alert")
        assert alert.recipient == manager.email and "诈骗" in alert.subject and "App 里有诈骗广告" in alert.body

    def test_bad_input_keeps_what_was_typed(self, client):
        response = client.post("/en/feedback/", {"topic": "nonsense", "body": "  ", "contact": "me@example.cn"})
        html = response.content.decode()
        assert response.status_code == 400 and Feedback.objects.count() == 0
        assert "This field is required." in html and "Select a valid choice." in html
        assert 'value="me@example.cn"' in html

    def test_inbox_lists_by_topic_masks_contacts_and_marks_handled(self, client, manager, category):
        AlertKeyword.objects.create(word="诈骗")
        with time_machine.travel(datetime(2026, 11, 20, 9, tzinfo=SH), tick=False):
            client.post("/feedback/", {"topic": "site", "body": "<b>诈骗</b>链接", "contact": "13812345678"})
            client.post("/feedback/", {"topic": "promotions", "body": "助力页面打不开", "contact": "li.lei@qq.com"})
        ticket(category, "CS-K1", at(21, 9))
        client.force_login(manager)
        with time_machine.travel(datetime(2026, 11, 23, 10, tzinfo=SH), tick=False):
            html = client.get("/en/reports/feedback/?start=2026-11-16&end=2026-11-22").content.decode()
            only = client.get("/en/reports/feedback/?start=2026-11-16&end=2026-11-22&topic=promotions").content.decode()
            topics = rows_of(client.get("/en/reports/feedback/?start=2026-11-16&end=2026-11-22&export=topics"))
        assert "&lt;b&gt;诈骗&lt;/b&gt;链接" in html and "138****5678" in html and "13812345678" not in html
        assert "l***@qq.com" in html
        assert "助力页面打不开" in only and "链接" not in only.split('id="feedback-list"')[1].split("</table>")[0]
        assert ["Website and app", "1", "1"] in topics and ["Promotions", "1", "1"] in topics
        flagged = Feedback.objects.get(topic="site")
        response = client.post(
            f"/en/reports/feedback/{flagged.pk}/mark/", {"handled": "1", "next": "https://evil.example/"}
        )
        assert response.status_code == 302 and response["Location"] == "/en/reports/feedback/"
        flagged.refresh_from_db()
        assert flagged.handled_by == manager and flagged.handled_at is not None

    def test_agents_cannot_mark_feedback(self, client, agent):
        feedback = Feedback.objects.create(topic="other", body="hi")
        client.force_login(agent)
        assert client.post(f"/reports/feedback/{feedback.pk}/mark/", {"handled": "1"}).status_code == 403
        feedback.refresh_from_db()
        assert feedback.handled_at is None


@pytest.mark.django_db
class TestDigest:
    def test_yesterdays_compliance_breaches_and_oldest_open_once(self, category, manager):
        english = UserFactory(username="boss", groups=["managers"])
        StaffProfile.objects.create(user=english, language="en")
        history(category)
        # Sent Sunday the 22nd at 08:00 about Saturday the 21st. Decided that day:
        # B1's first response met on time (09:30); nothing fell due and was broken
        # (B1's merchant reply was due on the 22nd). Open: A1-A5, B1 and OLD (A6 is
        # resolved); overdue: A4.
        sent = daily_digest_send(now=datetime(2026, 11, 22, 8, 0, tzinfo=SH))
        assert sent == 2
        assert ReportDigest.objects.get().day == date(2026, 11, 21)
        zh = Notification.objects.get(kind="daily_digest", recipient_user=manager)
        en = Notification.objects.get(kind="daily_digest", recipient_user=english)
        assert en.subject.startswith("Daily SLA digest for") and "100.0% met, 0 breaches" in en.subject
        assert "First response: 1 met, 0 breached (compliance 100.0%)" in en.body
        assert "Open now: 7 tickets, 1 of them overdue" in en.body
        oldest = en.body.split("The oldest:")[1]
        assert oldest.index("CS-OLD") < oldest.index("CS-A1") < oldest.index("CS-A2")
        assert "/en/desk/tickets/" in en.body
        assert "SLA 日报" in zh.subject and "首次响应: 达标 1，违约 0" in zh.body
        # A second run, or a second worker, sends nothing.
        assert daily_digest_send(now=datetime(2026, 11, 22, 8, 5, tzinfo=SH)) is None
        assert Notification.objects.filter(kind="daily_digest").count() == 2

    def test_the_breaches_of_the_day(self, category, manager):
        history(category)
        daily_digest_send(now=datetime(2026, 11, 23, 8, 0, tzinfo=SH))  # about Sunday the 22nd
        with pytest.raises(Notification.DoesNotExist):
            Notification.objects.get(kind="daily_digest", language="en")
        body = Notification.objects.get(kind="daily_digest").body
        # B1's merchant reply was due on the 22nd at 10:00 and missed: one breach.
        assert "商家回复: 达标 0，违约 1" in body and "CS-B1" in body
