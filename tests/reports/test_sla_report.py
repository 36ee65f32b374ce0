"""The SLA report, the backlog and the volume page, checked against figures
worked out by hand (tests/reports/helpers.py explains each number)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission

from reports import selectors as reports
from tests.factories import UserFactory
from tests.reports.helpers import SH, at, history, target, ticket
from tickets import services
from tickets.models import SLATarget, StaffProfile

PERIOD = reports.Period(date(2026, 11, 16), date(2026, 11, 22), SH)
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SH)


def rows_of(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV must start with the UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


@pytest.fixture
def figures(category):
    return history(category)


def by_kind(rows):
    return {r.kind: r for r in rows}


def report(period, grouping="team"):
    return reports.sla_report(period=period, reader=None, grouping=reports.GROUPINGS[grouping])


def trend(period):
    return reports.sla_trend(period=period, reader=None, report=report(period))


@pytest.mark.django_db
class TestSLAFigures:
    def test_compliance_and_percentiles_over_every_team(self, figures):
        summary = by_kind(report(PERIOD).summary)
        first = summary["first_response"]
        assert (first.met, first.breached, first.open, first.compliance) == (3, 2, 1, 60.0)
        assert first.business[0] == 5400.0
        resolution = summary["resolution"]
        assert (resolution.met, resolution.breached, resolution.compliance) == (1, 0, 100.0)
        assert resolution.business == [36000.0, 36000.0] and resolution.calendar == [90000.0, 90000.0]
        merchant = summary["merchant_reply"]
        assert (merchant.met, merchant.breached, merchant.open, merchant.compliance) == (0, 1, 0, 0.0)
        assert summary["next_response"].compliance is None and summary["next_response"].decided == 0

    def test_grouped_by_team(self, figures, team):
        groups = {g.name: g for g in report(PERIOD).groups}
        assert set(groups) == {"Orders", "Returns"}
        orders = by_kind(groups["Orders"].targets)["first_response"]
        assert (orders.met, orders.breached, orders.open, orders.compliance) == (2, 2, 1, 50.0)
        assert orders.business == [7200.0, pytest.approx(12960.0)]
        assert orders.calendar == [10800.0, pytest.approx(30960.0)]
        assert (groups["Orders"].warnings, groups["Orders"].level1, groups["Orders"].level2) == (4, 1, 1)
        assert (groups["Returns"].warnings, groups["Returns"].level1, groups["Returns"].level2) == (1, 1, 0)
        assert by_kind(groups["Returns"].targets)["first_response"].compliance == 100.0

    def test_grouped_by_agent_names_the_unassigned(self, figures, agent):
        figures["A1"].assignee = agent
        figures["A1"].save()
        groups = {g.name: g for g in report(PERIOD, "agent").groups}
        assert by_kind(groups["agent"].targets)["first_response"].met == 1
        assert by_kind(groups["未分配"].targets)["first_response"].met == 2  # "Unassigned", in the default language

    def test_trend_days_in_shanghai(self, figures):
        days = {d.day: d for d in trend(PERIOD)}
        assert len(days) == 7
        # 11-16: A1 (FR met, resolution met); 11-18: A3 late; 11-19: A4 breached.
        assert (days[date(2026, 11, 16)].tickets, days[date(2026, 11, 16)].compliance) == (1, 100.0)
        assert days[date(2026, 11, 18)].compliance == 0.0
        assert (days[date(2026, 11, 21)].met, days[date(2026, 11, 21)].breached) == (1, 1)
        assert days[date(2026, 11, 22)].tickets == 1  # A5 at 20:00; OLD (15th, 23:00) is in no day

    def test_a_ticket_at_half_past_eleven_counts_on_its_shanghai_day(self, category):
        # 23:30 Shanghai on Sunday the 22nd is 15:30 UTC; 00:30 on Monday the 23rd is
        # 16:30 UTC on the 22nd — the same UTC day, different Shanghai days.
        late = ticket(category, "CS-LATE", at(22, 23, 30))
        target(late, "first_response", started=at(22, 23, 30), hours=24, status="met", met_at=at(23, 9, 30),
               business_seconds=1800, calendar_seconds=36000)  # fmt: skip
        ticket(category, "CS-EARLY", at(23, 0, 30))
        days = {d.day: d for d in trend(PERIOD)}
        assert (days[date(2026, 11, 22)].tickets, days[date(2026, 11, 22)].met) == (1, 1)
        grid = reports.heatmap(period=PERIOD, reader=None)
        assert grid[6][23] == 1 and sum(map(sum, grid)) == 1  # Sunday 23:00; Monday's is next week
        week = reports.Period(date(2026, 11, 22), date(2026, 11, 23), SH)
        grid = reports.heatmap(period=week, reader=None)
        assert (grid[6][23], grid[0][0]) == (1, 1)
        # Read in UTC, both fall on the 22nd.
        utc = reports.Period(date(2026, 11, 22), date(2026, 11, 22), ZoneInfo("UTC"))
        assert [d.tickets for d in trend(utc)] == [2]

    def test_the_clock_time_is_recorded_by_the_engine_when_met(self, category, agent):
        # Filed Monday 17:00, answered Tuesday 10:00: 17 h of calendar time, of which
        # business time is Monday 17:00-18:00 and Tuesday 09:00-10:00 = 2 h.
        monday_17 = datetime(2026, 11, 23, 17, 0, tzinfo=SH)
        t = services.ticket_create(
            category=category, subject="退款", body="七天没到账", requester_name="李雷", requester_phone="13800001111",
            now=monday_17,
        )  # fmt: skip
        services.ticket_reply(ticket=t, author=agent, body="已处理", now=datetime(2026, 11, 24, 10, 0, tzinfo=SH))
        first = t.targets.get(kind="first_response")
        assert (first.status, first.business_seconds, first.calendar_seconds) == ("met", 7200, 61200)
        period = reports.Period(date(2026, 11, 23), date(2026, 11, 24), SH)
        summary = by_kind(report(period).summary)["first_response"]
        assert (summary.met, summary.business, summary.calendar) == (1, [7200.0, 7200.0], [61200.0, 61200.0])

    def test_overdue_list(self, figures):
        overdue, count = reports.overdue_tickets(reader=None)
        assert count == 1 and [t.reference for t in overdue] == ["CS-A4"]

    def test_the_overdue_csv_holds_every_overdue_ticket_the_page_the_first_100(self, client, manager, category):
        # 103 overdue tickets, due 1, 2 … 103 hours before NOW: the page shows the 100 longest overdue
        # and says there are 103; the CSV has all 103, longest overdue first.
        for n in range(1, 104):
            ticket(
                category, f"CS-O{n:03d}", NOW - timedelta(hours=200), is_overdue=True, due_at=NOW - timedelta(hours=n)
            )
        client.force_login(manager)
        with time_machine.travel(NOW, tick=False):
            page = client.get("/reports/sla/")
            rows = rows_of(client.get("/en/reports/sla/?export=overdue"))
        assert len(page.context["overdue"]) == 100 and page.context["overdue_count"] == 103
        assert rows[0][:2] == ["Reference", "Subject"]
        assert [r[0] for r in rows[1:]] == [f"CS-O{n:03d}" for n in range(103, 0, -1)]
        assert rows[1][7] == "103.0" and rows[-1][7] == "1.0"  # overdue by, in hours


@pytest.mark.django_db
class TestBacklog:
    def test_ages_priorities_and_what_breaches_soon(self, category, urgent_category):
        # Open tickets at NOW (Mon 23rd 10:00): ages 1 h (urgent), 10 h, 2 d, 20 d (normal);
        # one closed ticket is not counted.
        a = ticket(urgent_category, "CS-U1", NOW - timedelta(hours=1), priority="urgent")
        b = ticket(category, "CS-N1", NOW - timedelta(hours=10))
        c = ticket(category, "CS-N2", NOW - timedelta(days=2))
        d = ticket(category, "CS-N3", NOW - timedelta(days=20))
        ticket(category, "CS-X", NOW - timedelta(days=1), status="closed")
        # Due in 3 h (urgent), in 10 h and in 30 h (normal); one already breached.
        target(a, "first_response", started=NOW - timedelta(hours=1), hours=4, status="running")
        target(b, "first_response", started=NOW - timedelta(hours=10), hours=20, status="running")
        target(c, "resolution", started=NOW - timedelta(days=2), hours=78, status="running")
        target(d, "first_response", started=NOW - timedelta(days=20), hours=24, status="running", steps_taken=2)
        data = reports.backlog(now=NOW, reader=None)
        assert data.total == 4
        cells = {bucket: row for bucket, row in zip(data.buckets, data.cells, strict=True)}
        assert cells[data.buckets[0]] == {"urgent": 1, "normal": 0, "low": 0}
        assert [sum(row.values()) for row in data.cells] == [1, 1, 1, 0, 0, 1]
        assert data.breaching_4h == {"urgent": 1, "normal": 0, "low": 0}
        assert data.breaching_24h == {"urgent": 1, "normal": 1, "low": 0}

    def test_page(self, client, manager, category):
        ticket(category, "CS-N1", NOW - timedelta(hours=10))
        client.force_login(manager)
        with time_machine.travel(NOW, tick=False):
            html = client.get("/en/reports/backlog/").content.decode()
            rows = rows_of(client.get("/en/reports/backlog/?export=age"))
        assert 'id="open-total">1<' in html
        # The manager's zone (Shanghai): Mon 10:00, the sentence not ending on "p.m.." or "a.m..".
        assert "As of 11/23/2026 10 a.m.: open tickets (new, open, awaiting the merchant, pending)</p>" in html
        assert rows[0] == ["Age", "Urgent", "Normal", "Low", "Total"]
        assert rows[2] == ["4–24 h", "0", "1", "0", "1"]


@pytest.mark.django_db
class TestPages:
    def test_sla_page_shows_the_figures_in_chinese_and_english(self, client, manager, figures):
        client.force_login(manager)
        with time_machine.travel(NOW, tick=False):
            zh = client.get("/reports/sla/?start=2026-11-16&end=2026-11-22&group=team").content.decode()
            en = client.get("/en/reports/sla/?start=2026-11-16&end=2026-11-22&group=team").content.decode()
        assert "SLA 报告" in zh and "首次响应" in zh and "<svg" in zh
        assert 'id="compliance">57.1%<' in zh  # 4 met of 7 decided (FR 3 + 2, resolution 1, merchant 0 + 1)
        assert "SLA report" in en and "By Team" in en
        assert 'href="/en/desk/tickets/' in en and "CS-A4" in en  # the overdue list links to the workspace
        assert "Orders" in en and "Returns" in en

    def test_csv_of_the_grouped_table(self, client, manager, figures):
        client.force_login(manager)
        with time_machine.travel(NOW, tick=False):
            response = client.get("/en/reports/sla/?start=2026-11-16&end=2026-11-22&group=team&export=groups")
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert 'filename="sla-groups-20261116-20261122.csv"' in response["Content-Disposition"]
        rows = rows_of(response)
        assert rows[0][:6] == ["Team", "Target", "Met", "Breached", "Still open", "Compliance %"]
        assert ["Orders", "First response", "2", "2", "1", "50.0", "2.0", "3.6", "3.0", "8.6"] in rows
        assert ["Returns", "Merchant reply", "0", "1", "0", "0.0", "", "", "", ""] in rows

    def test_csv_in_chinese_opens_in_excel(self, client, manager, figures):
        client.force_login(manager)
        with time_machine.travel(NOW, tick=False):
            rows = rows_of(client.get("/reports/sla/?start=2026-11-16&end=2026-11-22&export=targets"))
        assert rows[0][:3] == ["目标", "已达成", "已违约"]
        assert rows[1][:5] == ["首次响应", "3", "2", "1", "60.0"]

    def test_bad_dates_give_field_errors_not_500(self, client, manager):
        client.force_login(manager)
        for query, message in (
            ("start=2026-13-01", "有效的日期"),
            ("start=2026-11-20&end=2026-11-01", "结束日期早于开始日期"),
            ("start=2024-01-01&end=2026-11-01", "366"),
        ):
            response = client.get(f"/reports/sla/?{query}")
            assert response.status_code == 200 and message in response.content.decode(), query
        assert client.get("/reports/sla/?group=nonsense&export=nothing").status_code == 404

    def test_the_readers_time_zone_sets_the_days(self, client, manager, category):
        StaffProfile.objects.create(user=manager, time_zone="UTC")
        ticket(category, "CS-LATE", at(22, 23, 30))
        ticket(category, "CS-EARLY", at(23, 0, 30))
        client.force_login(manager)
        with time_machine.travel(NOW, tick=False):
            rows = rows_of(client.get("/en/reports/sla/?start=2026-11-22&end=2026-11-22&export=trend"))
        assert rows[1][:2] == ["2026-11-22", "2"]

    def test_volume_page_and_forecast(self, client, manager, category):
        # Three Mondays at 10:xx within the last 8 weeks → 3 / 8 = 0.38 expected.
        for weeks in (1, 2, 8):
            ticket(category, f"CS-M{weeks}", NOW - timedelta(weeks=weeks, minutes=-5))
        ticket(category, "CS-TOO-OLD", NOW - timedelta(weeks=9))
        client.force_login(manager)
        with time_machine.travel(NOW, tick=False):
            html = client.get("/en/reports/volume/?start=2026-09-01&end=2026-11-23").content.decode()
            rows = rows_of(client.get("/en/reports/volume/?export=forecast"))
        assert "Complaints by hour of the week" in html and "<svg" in html
        assert rows[1][0] == "Monday" and rows[1][11] == "0.38"


@pytest.mark.django_db
class TestWhoReads:
    URLS = ["/reports/sla/", "/reports/backlog/", "/reports/volume/", "/reports/satisfaction/", "/reports/feedback/"]

    def test_agents_and_merchants_are_refused_anonymous_sent_to_sign_in(self, client, agent):
        client.force_login(agent)
        for url in self.URLS:
            assert client.get(url).status_code == 403, url
            assert client.get(url + "?export=targets").status_code == 403, url
        client.logout()
        response = client.get("/reports/sla/")
        assert response.status_code == 302 and "/desk/login/" in response["Location"]
        merchant_user = UserFactory(username="shop", is_staff=False)
        from tests.factories import MerchantUserFactory

        MerchantUserFactory(user=merchant_user)
        client.force_login(merchant_user)
        assert client.get("/reports/sla/").status_code == 403

    def test_an_agent_granted_the_permission_reads_their_teams_only(self, client, agent, figures):
        agent.user_permissions.add(Permission.objects.get(codename="view_reports"))
        client.force_login(agent)
        with time_machine.travel(NOW, tick=False):
            response = client.get("/en/reports/sla/?start=2026-11-16&end=2026-11-22&group=team&export=groups")
        teams = {row[0] for row in rows_of(response)[1:]}
        assert teams == {"Orders"}  # the agent's team; Returns is not theirs

    def test_supervisor_sees_their_teams_manager_everything(self, client, supervisor, manager, figures):
        for user, expected in ((supervisor, {"Orders"}), (manager, {"Orders", "Returns"})):
            client.force_login(user)
            with time_machine.travel(NOW, tick=False):
                response = client.get("/en/reports/sla/?start=2026-11-16&end=2026-11-22&group=team&export=escalations")
            assert {row[0] for row in rows_of(response)[1:]} == expected
            assert client.get("/reports/sla/").status_code == 200

    def test_the_menu_shows_reports_to_readers_only(self, client, agent, manager):
        client.force_login(agent)
        assert "/reports/sla/" not in client.get("/desk/").content.decode()
        client.force_login(manager)
        assert 'href="/reports/sla/"' in client.get("/desk/").content.decode()


@pytest.mark.django_db
def test_met_while_paused_is_not_breached(category):
    t = ticket(category, "CS-P", at(16, 9))
    target(t, SLATarget.Kind.RESOLUTION, started=at(16, 9), hours=10, due_at=None, status="met", met_at=at(20, 9),
           business_seconds=3600, calendar_seconds=3600)  # fmt: skip
    resolution = by_kind(report(PERIOD).summary)["resolution"]
    assert (resolution.met, resolution.breached) == (1, 0)
