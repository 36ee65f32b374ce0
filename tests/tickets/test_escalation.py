"""The sweep: each step of the ladder exactly once, set-based, safe to run many
at once (DESIGN.md, "How the SLA is enforced")."""

import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from merchants.models import MerchantStrike
from tests.builders import ticket_filed
from tests.bulk import bulk_open_tickets
from tests.factories import MerchantFactory
from tickets import services
from tickets.escalation import sla_sweep
from tickets.models import Notification, SLATarget, Ticket, TicketEvent

SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
ROOT = Path(__file__).resolve().parents[2]


def ladder(ticket: Ticket) -> list[tuple[str, str, int]]:
    return list(
        ticket.events.filter(step__isnull=False).order_by("created_at", "id").values_list("kind", "target_kind", "step")
    )


@pytest.mark.django_db
class TestLadder:
    def test_urgent_ladder_each_step_once(self, urgent_category, supervisor, manager, agent):
        ticket = ticket_filed(urgent_category, at=MON_10)
        services.ticket_assign(ticket=ticket, assignee=agent, now=MON_10 + timedelta(minutes=1))

        # Urgent first response: 24 calendar hours → due Tue 10:00; warning at 18 h (Tue 04:00),
        # level 2 at 36 h (Tue 22:00).
        assert sla_sweep(now=MON_10 + timedelta(hours=18))["warning"] == 0  # exactly at 75 %: not yet
        assert sla_sweep(now=MON_10 + timedelta(hours=18, seconds=1))["warning"] == 1
        assert sla_sweep(now=MON_10 + timedelta(hours=20))["warning"] == 0
        warning = Notification.objects.get(ticket=ticket, kind="sla_warning")
        assert warning.recipient == agent.email  # the assignee hears first

        result = sla_sweep(now=MON_10 + timedelta(hours=24, seconds=1))
        assert (result["breach"], result["level2"]) == (1, 0)
        ticket.refresh_from_db()
        assert ticket.is_overdue is True
        assert ticket.escalation_level == 1
        assert ticket.priority == "urgent"  # already the highest
        assert ticket.assignee == supervisor  # handed to the team's supervisor
        assert Notification.objects.filter(ticket=ticket, kind="sla_breach", recipient=supervisor.email).exists()

        result = sla_sweep(now=MON_10 + timedelta(hours=36, seconds=1))
        assert result["level2"] == 1
        ticket.refresh_from_db()
        assert ticket.escalation_level == 2
        assert Notification.objects.filter(ticket=ticket, kind="sla_level2", recipient=manager.email).exists()

        for _ in range(3):
            sla_sweep(now=MON_10 + timedelta(days=10))
        assert ladder(ticket)[:3] == [
            ("sla_warning", "first_response", 1),
            ("sla_breach", "first_response", 2),
            ("sla_level2", "first_response", 3),
        ]
        # The resolution target (72 h) climbed its own ladder in the last sweeps, each step once.
        assert sorted(ladder(ticket)[3:]) == [
            ("sla_breach", "resolution", 2),
            ("sla_level2", "resolution", 3),
            ("sla_warning", "resolution", 1),
        ]

    def test_breach_raises_priority_one_step(self, low_category, supervisor):
        ticket = ticket_filed(low_category, at=MON_10)
        # Low first response: 45 working hours from Mon 10:00 → Mon 2026-11-30 10:00
        # (Mon 8, Tue–Fri 36 = 44 h, +1 h).
        first = SLATarget.objects.get(ticket=ticket, kind="first_response")
        assert first.due_at == datetime(2026, 11, 30, 10, tzinfo=SH)
        sla_sweep(now=datetime(2026, 11, 30, 10, 1, tzinfo=SH))
        ticket.refresh_from_db()
        assert ticket.priority == "normal"
        assert ticket.events.filter(kind="priority_changed", data__reason="sla_breach").count() == 1
        # A raise by an escalation re-dates no running target: the resolution keeps its low
        # promise, 15 working days = 135 h from Mon 10:00: Mon 8, Tue–Fri 36 (44), the next
        # two weeks 45 each (134), Mon 2026-12-14 09:00 + 1 h → 10:00.
        resolution = SLATarget.objects.get(ticket=ticket, kind="resolution")
        assert resolution.due_at == datetime(2026, 12, 14, 10, tzinfo=SH)
        assert not ticket.events.filter(kind="target_recomputed").exists()
        first.refresh_from_db()
        assert first.due_at == datetime(2026, 11, 30, 10, tzinfo=SH)

    def test_a_breach_never_makes_another_target_breach_on_the_spot(self, category, supervisor, agent):
        ticket = ticket_filed(category, at=MON_10)
        # Normal: first response 3 working days = 27 h from Mon 10:00 → Thu 2026-11-26 10:00;
        # resolution 10 working days = 90 h → Mon 2026-12-07 10:00.
        result = sla_sweep(now=datetime(2026, 11, 26, 10, 1, tzinfo=SH))
        assert result["breach"] == 1
        ticket.refresh_from_db()
        assert ticket.priority == "urgent"
        # Urgent's resolution (72 calendar hours from Mon 10:00) would have been Thu 10:00,
        # already past; the promise of 10 working days stands and nothing else is taken.
        resolution = SLATarget.objects.get(ticket=ticket, kind="resolution")
        assert resolution.due_at == datetime(2026, 12, 7, 10, tzinfo=SH)
        assert resolution.steps_taken == 0
        assert list(ticket.events.filter(step__isnull=False).values_list("kind", "target_kind")) == [
            ("sla_warning", "first_response"),
            ("sla_breach", "first_response"),
        ]
        # The raised priority applies to targets opened afterwards: the consumer's next
        # message after a reply is owed an answer in urgent's 24 calendar hours.
        services.ticket_reply(ticket=ticket, author=agent, body="正在处理", now=datetime(2026, 11, 26, 11, tzinfo=SH))
        services.ticket_consumer_message(ticket=ticket, body="还没有退款", now=datetime(2026, 11, 26, 12, tzinfo=SH))
        following = SLATarget.objects.get(ticket=ticket, kind="next_response")
        assert following.due_at == datetime(2026, 11, 27, 12, tzinfo=SH)

    def test_met_target_is_never_escalated(self, urgent_category, agent):
        ticket = ticket_filed(urgent_category, at=MON_10)
        services.ticket_reply(ticket=ticket, author=agent, body="已处理", now=MON_10 + timedelta(hours=1))
        result = sla_sweep(now=MON_10 + timedelta(hours=30))
        assert result["breach"] == 0
        assert not ticket.events.filter(target_kind="first_response", step__isnull=False).exists()

    def test_missed_steps_are_all_taken_once_after_an_outage(self, urgent_category):
        ticket = ticket_filed(urgent_category, at=MON_10)
        # Nothing swept for five days (workers down): the next sweep takes every step that
        # came due — warning, breach and level 2 of both targets (72 h × 150 % = 108 h) — once each.
        sla_sweep(now=MON_10 + timedelta(days=5))
        sla_sweep(now=MON_10 + timedelta(days=5))
        assert len(ladder(ticket)) == 6
        ticket.refresh_from_db()
        assert ticket.due_at is None or ticket.due_at < MON_10 + timedelta(days=5)
        assert SLATarget.objects.filter(ticket=ticket, next_step_at__isnull=False).count() == 0

    def test_paused_target_does_not_escalate(self, category, agent):
        ticket = ticket_filed(category, at=MON_10)
        services.ticket_reply(ticket=ticket, author=agent, body="请补充", now=MON_10 + timedelta(hours=1))
        services.ticket_change_status(ticket=ticket, status="pending", actor=agent, now=MON_10 + timedelta(hours=2))
        assert sla_sweep(now=MON_10 + timedelta(days=60))["tickets"] == 0

    def test_sweep_with_nothing_due_takes_nothing(self, category):
        ticket_filed(category, at=MON_10)
        assert sla_sweep(now=MON_10 + timedelta(hours=1)) == {
            "warning": 0, "breach": 0, "level2": 0, "merchant_warning": 0, "merchant_missed": 0,
            "tickets": 0, "batches": 0,
        }  # fmt: skip


@pytest.mark.django_db
class TestMerchantDeadline:
    def test_warning_then_miss_returns_ticket_with_one_strike(self, category, agent, supervisor):
        merchant = MerchantFactory(name="快乐小店", contact_email="shop@happy.example")
        ticket = ticket_filed(category, at=MON_10, merchant=merchant)
        services.ticket_assign(ticket=ticket, assignee=agent, now=MON_10)
        services.ticket_forward_to_merchant(ticket=ticket, actor=agent, note="请回复", now=MON_10)

        # 24 calendar hours: warning at 18 h, miss after 24 h.
        assert sla_sweep(now=MON_10 + timedelta(hours=18, seconds=1))["merchant_warning"] == 1
        assert Notification.objects.filter(kind="merchant_warning", recipient="shop@happy.example").count() == 1

        result = sla_sweep(now=MON_10 + timedelta(hours=24, seconds=1))
        assert result["merchant_missed"] == 1
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.OPEN  # back in the platform queue
        assert ticket.escalation_level == 1
        assert SLATarget.objects.get(ticket=ticket, kind="merchant_reply").status == SLATarget.Status.MISSED
        strike = MerchantStrike.objects.get()
        assert (strike.merchant, strike.ticket) == (merchant, ticket)
        assert Notification.objects.filter(kind="merchant_missed", recipient=supervisor.email).exists()

        for _ in range(3):
            sla_sweep(now=MON_10 + timedelta(days=3))
        assert MerchantStrike.objects.count() == 1
        assert ticket.events.filter(kind="merchant_missed").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_in_threads_take_each_merchant_miss_once(category, agent):
    merchant = MerchantFactory()
    now = timezone.now()
    tickets = [ticket_filed(category, at=now - timedelta(hours=30), merchant=merchant) for _ in range(40)]
    for ticket in tickets:
        services.ticket_forward_to_merchant(ticket=ticket, actor=agent, now=now - timedelta(hours=25))

    barrier = threading.Barrier(4)
    results, errors = [], []

    def sweep():
        try:
            barrier.wait()
            results.append(sla_sweep(now=now, batch_size=5))
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(r["merchant_missed"] for r in results) == 40
    assert MerchantStrike.objects.count() == 40
    assert TicketEvent.objects.filter(kind="merchant_missed").count() == 40
    # One escalation each: back in the platform queue at level 1, one status change, one notice.
    assert set(Ticket.objects.values_list("status", "escalation_level")) == {("open", 1)}
    back = TicketEvent.objects.filter(kind="status_changed", data__reason="merchant_missed")
    assert back.count() == 40 and back.values("ticket").distinct().count() == 40
    assert Notification.objects.filter(kind="merchant_missed", recipient=agent.email).count() == 0  # not assigned
    assert Notification.objects.filter(kind="merchant_missed").values("ticket").distinct().count() == 40
    assert Notification.objects.filter(kind="merchant_missed").count() == 40


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_four_sweep_processes_over_2000_due_tickets(urgent_category, supervisor, manager):
    # 2,000 urgent tickets filed 40 h ago: warning (18 h), breach (24 h) and level 2 (36 h)
    # of the first response are all due; the resolution's warning (54 h) is not.
    ids = bulk_open_tickets(category=urgent_category, count=2000, created_at=timezone.now() - timedelta(hours=40))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cs_desk.settings.test",
        "DATABASE_URL": _database_url(),
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "sla_sweep", "--batch-size", "50"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], [err[-2000:] for _, err in outputs]
    counts = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]

    assert sum(c["breach"] for c in counts) == 2000
    assert sum(c["warning"] for c in counts) == 2000
    assert sum(c["level2"] for c in counts) == 2000
    per_step = dict(
        TicketEvent.objects.filter(ticket_id__in=ids, step__isnull=False)
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    assert per_step == {"sla_warning": 2000, "sla_breach": 2000, "sla_level2": 2000}
    # Nothing left behind, nothing doubled.
    assert not SLATarget.objects.filter(ticket_id__in=ids, kind="first_response", next_step_at__lt=timezone.now())
    assert Ticket.objects.filter(pk__in=ids, escalation_level=2, assignee=supervisor).count() == 2000
    assert Notification.objects.filter(kind="sla_level2", recipient=manager.email).count() == 2000
    # The work was shared (SKIP LOCKED lets the processes take different batches).
    assert sum(1 for c in counts if c["tickets"] > 0) >= 2, counts


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.slow
@pytest.mark.django_db
def test_sweep_query_count_does_not_grow_with_tickets_not_due(urgent_category, supervisor, manager):
    now = timezone.now()
    due_ids = bulk_open_tickets(category=urgent_category, count=10, created_at=now - timedelta(hours=25))

    def measure(when):
        with CaptureQueriesContext(connection) as ctx:
            sla_sweep(now=when)
        return len(ctx.captured_queries)

    idle_small = measure(now - timedelta(hours=24))  # the first step (18 h) is 7 h later
    due_small = measure(now)  # warning and breach of 10 tickets
    Ticket.objects.filter(pk__in=due_ids).delete()

    due_ids = bulk_open_tickets(category=urgent_category, count=10, created_at=now - timedelta(hours=25))
    bulk_open_tickets(category=urgent_category, count=50_000, created_at=now)  # open, not due
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket; ANALYZE tickets_slatarget;")
    idle_large = measure(now - timedelta(hours=24))
    due_large = measure(now)

    assert idle_large == idle_small
    assert due_large == due_small
    assert idle_small <= 3  # the lock query, inside its transaction
    assert Ticket.objects.filter(pk__in=due_ids, is_overdue=True).count() == 10


@pytest.mark.django_db
@pytest.mark.parametrize(("due", "called"), [(25, 1), (10, 1), (9, 0), (0, 0)])
def test_a_full_first_batch_calls_for_another_sweeper_once(urgent_category, supervisor, due, called):
    now = timezone.now()
    if due:
        bulk_open_tickets(category=urgent_category, count=due, created_at=now - timedelta(hours=25))
    calls = []

    counts = sla_sweep(now=now, batch_size=10, on_backlog=lambda: calls.append(1))

    assert len(calls) == called
    assert counts["breach"] == due


@pytest.mark.django_db
@pytest.mark.parametrize(("helpers", "asked"), [(1, [{"helpers": 0}]), (0, [])])
def test_sweep_task_asks_for_at_most_its_helpers(urgent_category, supervisor, settings, monkeypatch, helpers, asked):
    from tickets import tasks

    settings.SLA_SWEEP_BATCH_SIZE = 10
    bulk_open_tickets(category=urgent_category, count=30, created_at=timezone.now() - timedelta(hours=25))
    sent = []
    monkeypatch.setattr(tasks.sla_sweep_task, "apply_async", lambda **options: sent.append(options["kwargs"]))

    counts = tasks.sla_sweep_task(helpers=helpers)

    assert sent == asked
    assert counts["breach"] == 30  # the caller carries on alone all the same


@pytest.mark.django_db
def test_sweep_task_carries_on_when_the_broker_refuses_the_helper(urgent_category, supervisor, monkeypatch):
    from tickets import tasks

    bulk_open_tickets(category=urgent_category, count=30, created_at=timezone.now() - timedelta(hours=25))

    def refuse(**options):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.sla_sweep_task, "apply_async", refuse)
    monkeypatch.setattr(tasks.settings, "SLA_SWEEP_BATCH_SIZE", 10)

    assert tasks.sla_sweep_task(helpers=1)["breach"] == 30
