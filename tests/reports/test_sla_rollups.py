"""The SLA report from its rollups (reports.rollups, docs/reports.md): the counts
the triggers keep agree with the targets at every step of a ticket's life, the
rebuild finds the same rows the incremental path left, and the percentiles read
from the histograms are within the stated bound of the values worked out by hand
(tests/reports/helpers.py for the hand-worked history)."""

from __future__ import annotations

import math
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from reports import selectors as reports
from reports.models import SLAChange, SLARollup
from reports.rollups import ERROR_BOUND, bucket_of, bucket_value, rollups_compact, rollups_rebuild
from reports.rollups_sql import COUNTS
from reports.selectors import sla as sla_selectors
from reports.selectors.sla_rollups import percentiles_of
from tests.reports.helpers import SH, at, history, target, ticket
from tickets import services
from tickets.escalation import sla_sweep
from tickets.models import SLATarget, Ticket

CELL = ["grouping", "span", "day", "team_id", "kind", "key"]
PERIOD = reports.Period(date(2026, 11, 16), date(2026, 11, 22), SH)
WEEK = reports.Period(date(2026, 11, 23), date(2026, 11, 29), SH)


@pytest.fixture
def histograms(monkeypatch):
    """Percentiles from the histograms, however few targets the period holds."""
    monkeypatch.setattr(sla_selectors, "EXACT_PERCENTILES_MAX", 0)


def by_kind(rows):
    return {r.kind: r for r in rows}


def within_bound(value: float | None, exact: float | None) -> bool:
    if exact is None:
        return value is None
    return value is not None and abs(value - exact) <= ERROR_BOUND * exact + 1e-9


def counts(figures: reports.TargetFigures) -> tuple:
    return figures.kind, figures.met, figures.breached, figures.open


def assert_agrees(period: reports.Period, *, reader=None) -> None:
    """Every grouping of the report, from the rollups, is the report computed from
    the targets: the same counts, escalations, days and groups; the percentiles
    equal, or within the bound where they come from the histograms."""
    for grouping in reports.GROUPINGS.values():
        rolled = reports.sla_report(period=period, reader=reader, grouping=grouping)
        exact = sla_selectors.sla_report_exact(period=period, reader=reader, grouping=grouping)
        assert rolled.days == exact.days, grouping.code
        pairs = list(zip(rolled.summary, exact.summary, strict=True))
        assert [(g.key, g.name, g.warnings, g.level1, g.level2) for g in rolled.groups] == [
            (g.key, g.name, g.warnings, g.level1, g.level2) for g in exact.groups
        ], grouping.code
        for r, e in zip(rolled.groups, exact.groups, strict=True):
            pairs += list(zip(r.targets, e.targets, strict=True))
        for r, e in pairs:
            assert counts(r) == counts(e), grouping.code
            for mine, theirs in zip(r.business + r.calendar, e.business + e.calendar, strict=True):
                assert within_bound(mine, theirs), (grouping.code, r.kind, mine, theirs)


def rollup_rows() -> list:
    """The rollups with the ledger folded in, without the rows that net to nothing."""
    rollups_compact()
    rows = SLARollup.objects.values_list(*CELL, *COUNTS, "business", "calendar")
    return sorted(row for row in rows if any(row[len(CELL) :]))


def assert_rebuild_agrees() -> None:
    incremental = rollup_rows()
    rollups_rebuild()
    assert not SLAChange.objects.exists()
    assert rollup_rows() == incremental


class TestTheBound:
    def test_a_bucket_and_its_value_by_hand(self):
        # ln 7200 / ln 1.02 = 8.88184 / 0.0198026 = 448.52: bucket 1 + 448 = 449, which
        # holds [1.02^448, 1.02^449) = [7126.5, 7269.0); read as the harmonic mean of
        # its bounds, 2 × 7126.5 × 7269.0 / 14395.5 = 7197.1.
        assert bucket_of(7200) == 449
        assert bucket_value(449) == pytest.approx(7197.07, abs=0.01)
        # The worst a value can be off is at a bound: (1.02 - 1) / (1.02 + 1) = 0.990 %.
        low, high = 1.02**448, 1.02**449
        assert pytest.approx(0.0099, abs=1e-5) == ERROR_BOUND
        assert abs(bucket_value(449) - low) / low == pytest.approx(ERROR_BOUND)
        assert abs(bucket_value(449) - high) / high == pytest.approx(ERROR_BOUND)
        assert bucket_of(0) == 0 and bucket_value(0) == 0.0

    def test_percentiles_of_a_histogram_against_the_values_by_hand(self):
        # Orders' first responses took 3600, 7200 and 14400 business seconds: exact
        # p50 = 7200; p90 at rank 0.9 × 2 = 1.8 is 7200 + 0.8 × 7200 = 12960. From the
        # buckets: 7197.1, and 7197.1 + 0.8 × (14393.3 − 7197.1) = 12954.1.
        bins = {bucket_of(3600): 1, bucket_of(7200): 1, bucket_of(14400): 1}
        p50, p90 = percentiles_of(bins, (0.5, 0.9))
        assert p50 == pytest.approx(7197.07, abs=0.01) and p90 == pytest.approx(12954.09, abs=0.01)
        assert within_bound(p50, 7200) and within_bound(p90, 12960)
        assert percentiles_of({}, (0.5, 0.9)) == [None, None]

    def test_a_value_near_the_worst_case(self):
        # 10800 s sits near the top of bucket 469, [10589.6, 10801.4): read as 10694.5,
        # 0.977 % low: inside the bound, barely.
        assert bucket_of(10800) == 469
        assert (10800 - bucket_value(469)) / 10800 == pytest.approx(0.00977, abs=1e-5)


@pytest.mark.django_db
class TestTheHandWorkedHistory:
    def test_counts_from_the_rollups_percentiles_from_the_histograms(self, category, histograms):
        history(category)
        summary = by_kind(reports.sla_report(period=PERIOD, reader=None, grouping=reports.GROUPINGS["team"]).summary)
        first = summary["first_response"]
        assert (first.met, first.breached, first.open, first.compliance) == (3, 2, 1, 60.0)
        # business [1800, 3600, 7200, 14400]: p50 (3600 + 7200) / 2 = 5400; from the
        # buckets (3598.7 + 7197.1) / 2 = 5397.9.
        assert first.business[0] == pytest.approx(5397.90, abs=0.01) and within_bound(first.business[0], 5400)
        groups = {
            g.name: g for g in reports.sla_report(period=PERIOD, reader=None, grouping=reports.GROUPINGS["team"]).groups
        }
        orders = by_kind(groups["Orders"].targets)["first_response"]
        assert (orders.met, orders.breached, orders.open) == (2, 2, 1)
        assert within_bound(orders.business[0], 7200) and within_bound(orders.business[1], 12960)
        # calendar [3600, 10800, 36000]: p50 10800 (read 10694.5, 0.98 % low), p90 30960.
        assert within_bound(orders.calendar[0], 10800) and within_bound(orders.calendar[1], 30960)
        assert (groups["Orders"].warnings, groups["Orders"].level1, groups["Orders"].level2) == (4, 1, 1)
        assert_agrees(PERIOD)

    def test_the_same_figures_after_the_fold_and_after_a_rebuild(self, category, histograms):
        history(category)
        assert SLAChange.objects.exists()  # nothing folded yet: the report reads the ledger
        assert_agrees(PERIOD)
        rollups_compact()
        assert not SLAChange.objects.exists()
        assert_agrees(PERIOD)
        assert_rebuild_agrees()
        assert_agrees(PERIOD)

    def test_a_ticket_moved_to_another_team_takes_its_targets_along(self, category, histograms):
        # The report groups by the ticket's team now, as the scope of a reader is the
        # ticket's team now: A1 moved from Orders to Returns counts for Returns, its
        # history included (the admin's edit is a plain save; the trigger sees it).
        t = history(category)
        rollups_compact()
        returns = Ticket.objects.get(reference="CS-B1").team
        t["A1"].team = returns
        t["A1"].save()
        groups = {
            g.name: g for g in reports.sla_report(period=PERIOD, reader=None, grouping=reports.GROUPINGS["team"]).groups
        }
        assert by_kind(groups["Orders"].targets)["first_response"].met == 1  # A2
        assert by_kind(groups["Returns"].targets)["first_response"].met == 2  # B1, A1
        assert by_kind(groups["Returns"].targets)["resolution"].met == 1  # A1's
        assert (groups["Orders"].warnings, groups["Returns"].warnings) == (3, 2)  # A1's resolution moved
        assert_agrees(PERIOD)
        assert_rebuild_agrees()

    def test_the_rebuild_command_twice(self, category):
        history(category)
        call_command("reports_rollup_rebuild", stdout=open("/dev/null", "w"))  # noqa: SIM115
        first = rollup_rows()
        call_command("reports_rollup_rebuild", stdout=open("/dev/null", "w"))  # noqa: SIM115
        assert rollup_rows() == first
        # Clocks started on each day from OLD's 15th to A5's 22nd (A6's cancelled target on the 20th counts too).
        assert SLARollup.objects.filter(grouping="team", span=1).values("day").distinct().count() == 8
        assert_agrees(PERIOD)


@pytest.mark.django_db
class TestALifeThroughTheServices:
    def test_met_breached_paused_resumed_resolved_reopened(self, category, agent, supervisor, histograms):
        monday = datetime(2026, 11, 23, 9, 0, tzinfo=SH)

        def kinds():
            report = reports.sla_report(period=WEEK, reader=None, grouping=reports.GROUPINGS["agent"])
            assert_agrees(WEEK)
            return {f.kind: (f.met, f.breached, f.open) for f in report.summary}

        # Given a complaint filed Monday 09:00 (normal: 3 working days to answer, 10 to resolve)
        t = services.ticket_create(category=category, subject="退款", body="七天没到账", requester_name="李雷",
                                   requester_phone="13800001111", now=monday)  # fmt: skip
        assert kinds()["first_response"] == (0, 0, 1) and kinds()["resolution"] == (0, 0, 1)
        # When the agent answers at 10:00, the first response is met (3600 s of business time).
        services.ticket_reply(ticket=t, author=agent, body="已处理", now=at(23, 10))
        assert kinds()["first_response"] == (1, 0, 0)
        # The consumer writes at 11:00: a next response is owed.
        services.ticket_consumer_message(ticket=t, body="还没到账", now=at(23, 11))
        assert kinds()["next_response"] == (0, 0, 1)
        # Nobody answers: on Friday the sweep breaches it (due Thursday 11:00) and hands
        # the ticket to the supervisor: the targets move from the agent to them.
        t.refresh_from_db()
        t.assignee = agent
        t.save()
        sla_sweep(now=at(27, 12))
        t.refresh_from_db()
        assert t.assignee == supervisor
        assert kinds()["next_response"] == (0, 1, 0)
        groups = {
            g.key: g for g in reports.sla_report(period=WEEK, reader=None, grouping=reports.GROUPINGS["agent"]).groups
        }
        assert set(groups) == {supervisor.pk} and groups[supervisor.pk].level1 == 1
        # Pending (waiting on the consumer): the resolution clock pauses, still owed.
        services.ticket_change_status(ticket=t, status=Ticket.Status.PENDING, actor=agent, now=at(27, 13))
        assert t.targets.get(kind="resolution").status == SLATarget.Status.PAUSED
        assert kinds()["resolution"] == (0, 0, 1) and kinds()["next_response"] == (0, 1, 0)
        # The consumer answers: resumed, and another reply is owed.
        services.ticket_consumer_message(ticket=t, body="好的", now=at(27, 14))
        assert kinds()["resolution"] == (0, 0, 1) and kinds()["next_response"] == (0, 1, 1)
        # Resolved on Saturday: the resolution is met; the open next response no longer owed.
        services.ticket_change_status(ticket=t, status=Ticket.Status.RESOLVED, actor=supervisor, now=at(28, 10))
        assert kinds()["resolution"] == (1, 0, 0) and kinds()["next_response"] == (0, 1, 0)
        # Reopened on Sunday: a second resolution cycle runs.
        services.ticket_change_status(ticket=t, status=Ticket.Status.OPEN, actor=supervisor, now=at(29, 10))
        assert kinds()["resolution"] == (1, 0, 1)
        assert_rebuild_agrees()
        assert kinds()["resolution"] == (1, 0, 1)


@pytest.mark.django_db
class TestDays:
    def test_the_day_boundary_in_shanghai(self, category):
        # 23:59:59 on Sunday the 22nd is 15:59:59 UTC; midnight on Monday the 23rd is
        # 16:00 UTC the same UTC day: two Shanghai days, and two weeks (from Monday the
        # 16th, and from Monday the 23rd).
        late = ticket(category, "CS-LATE", datetime(2026, 11, 22, 23, 59, 59, tzinfo=SH))
        early = ticket(category, "CS-EARLY", at(23, 0, 0))
        target(late, "first_response", started=late.created_at, hours=24, status="met", met_at=at(23, 9),
               business_seconds=0, calendar_seconds=32401)  # fmt: skip
        target(early, "first_response", started=early.created_at, hours=24, status="met", met_at=at(23, 10),
               business_seconds=3600, calendar_seconds=36000)  # fmt: skip
        rollups_compact()
        team_days = SLARollup.objects.filter(grouping="team", span=1).values_list("day", "met")
        assert sorted(team_days) == [(date(2026, 11, 22), 1), (date(2026, 11, 23), 1)]
        weeks = SLARollup.objects.filter(grouping="team", span=7).values_list("day", "calendar")
        assert sorted(weeks) == [
            (date(2026, 11, 16), {str(bucket_of(32401)): 1}),
            (date(2026, 11, 23), {str(bucket_of(36000)): 1}),
        ]
        sunday = reports.Period(date(2026, 11, 22), date(2026, 11, 22), SH)
        monday = reports.Period(date(2026, 11, 23), date(2026, 11, 23), SH)
        for period, calendar in ((sunday, 32401.0), (monday, 36000.0)):
            first = by_kind(reports.sla_report(period=period, reader=None, grouping=reports.GROUPINGS["team"]).summary)
            assert first["first_response"].met == 1 and first["first_response"].calendar[0] == calendar
        assert_agrees(reports.Period(date(2026, 11, 22), date(2026, 11, 23), SH))

    def test_a_reader_in_another_offset_gets_the_targets_own_figures(self, category):
        # Read in UTC, both fall on the 22nd: the rollups' Shanghai days cannot say, so
        # the report is computed from the targets.
        for ref, when in (("CS-LATE", datetime(2026, 11, 22, 23, 30, tzinfo=SH)), ("CS-EARLY", at(23, 0, 30))):
            t = ticket(category, ref, when)
            target(t, "first_response", started=when, hours=24, status="running")
        utc = reports.Period(date(2026, 11, 22), date(2026, 11, 22), ZoneInfo("UTC"))
        first = by_kind(reports.sla_report(period=utc, reader=None, grouping=reports.GROUPINGS["team"]).summary)
        assert first["first_response"].open == 2


@pytest.mark.django_db
class TestScopedReaders:
    def test_a_supervisor_reads_their_teams_rollups(self, category, supervisor, histograms):
        history(category)
        assert_agrees(PERIOD, reader=supervisor)
        groups = reports.sla_report(period=PERIOD, reader=supervisor, grouping=reports.GROUPINGS["team"]).groups
        assert [g.name for g in groups] == ["Orders"]

    def test_an_agent_with_a_ticket_in_another_team_sees_it_counted(self, category, agent):
        t = history(category)
        t["B1"].assignee = agent  # Returns' ticket, assigned to Orders' agent: in their scope
        t["B1"].save()
        groups = {
            g.name for g in reports.sla_report(period=PERIOD, reader=agent, grouping=reports.GROUPINGS["team"]).groups
        }
        assert groups == {"Orders", "Returns"}
        assert_agrees(PERIOD, reader=agent)


def test_log_buckets_cover_every_stored_value():
    # PositiveIntegerField's largest value still has a bucket a smallint holds.
    assert bucket_of(2**31 - 1) < 2**15 and math.isclose(bucket_value(bucket_of(86400)), 86400, rel_tol=ERROR_BOUND)


@pytest.mark.django_db
def test_deleting_a_ticket_takes_its_targets_out(category):
    t = history(category)
    t["A2"].delete()
    first = by_kind(reports.sla_report(period=PERIOD, reader=None, grouping=reports.GROUPINGS["team"]).summary)
    assert (first["first_response"].met, first["first_response"].breached) == (2, 2)
    assert_rebuild_agrees()
