"""One instant per change: a reply that waits for the ticket's lock while a
sweep holds it is stamped once it has the lock, after the sweep's steps, so its
"met" event, the target and the SLA report agree.

Real concurrency on PostgreSQL: the sweep runs in this test's connection inside
an open transaction (it holds the ticket's row lock); the agent's reply runs in
a second thread with its own connection and blocks on that lock until the
sweep commits."""

import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, connections, transaction

from tests.builders import ticket_filed
from tickets import services
from tickets.escalation import sla_sweep
from tickets.models import SLATarget, TicketEvent

SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
# Urgent: the first response is due 24 calendar hours after filing, Tue 10:00.
DUE = MON_10 + timedelta(hours=24)


def wait_until_blocked_on_a_lock(errors: list, timeout: float = 10.0) -> None:
    """Return once another backend of this database waits for a row lock."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # Inside a transaction the statistics views are a snapshot taken at the first
            # read: clear it, or the poll would never see the reply start waiting.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return
            assert not errors, errors
            time.sleep(0.02)
        cursor.execute(
            "SELECT datname, state, wait_event_type, wait_event, left(query, 80) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        others = cursor.fetchall()
    raise AssertionError(f"the reply never waited for the ticket's lock: {others}")


@pytest.mark.django_db(transaction=True)
def test_a_reply_that_waited_for_the_sweep_is_stamped_after_its_breach(urgent_category, agent, supervisor):
    ticket = ticket_filed(urgent_category, at=MON_10)
    replies, errors = [], []

    def reply():
        try:
            replies.append(services.ticket_reply(ticket=ticket, author=agent, body="您好，已为您处理"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    # The agent presses "send" at Tue 09:59:30, half a minute before the deadline. A sweep
    # that started at 10:00:05 already holds the ticket's lock and takes the breach.
    with time_machine.travel(DUE - timedelta(seconds=30), tick=False) as clock:
        with transaction.atomic():
            assert sla_sweep(now=DUE + timedelta(seconds=5))["breach"] == 1
            sender = threading.Thread(target=reply)
            sender.start()
            wait_until_blocked_on_a_lock(errors)
            # The sweep's transaction commits at 10:00:06; only then does the reply get the lock.
            clock.move_to(DUE + timedelta(seconds=6))
        sender.join(timeout=30)

    assert errors == [] and len(replies) == 1
    first = SLATarget.objects.get(ticket=ticket, kind="first_response")
    breach = TicketEvent.objects.get(ticket=ticket, kind="sla_breach")
    met = TicketEvent.objects.get(ticket=ticket, kind="target_met", target_kind="first_response")
    # The reply is stamped when it held the lock, 10:00:06, after the breach (10:00:05):
    # its event says late, as the target and the report do.
    assert replies[0].created_at == DUE + timedelta(seconds=6)
    assert first.met_at == DUE + timedelta(seconds=6) > breach.created_at
    assert met.data["late"] is True
    # The reports count breaches with SLATarget.BREACHED: this one is counted.
    assert list(SLATarget.objects.filter(SLATarget.BREACHED).values_list("kind", flat=True)) == ["first_response"]


@pytest.mark.django_db
def test_a_reply_at_the_deadline_itself_meets_it(urgent_category, agent):
    ticket = ticket_filed(urgent_category, at=MON_10)
    with time_machine.travel(DUE, tick=False):
        services.ticket_reply(ticket=ticket, author=agent, body="您好")
    met = TicketEvent.objects.get(ticket=ticket, kind="target_met", target_kind="first_response")
    assert met.data["late"] is False
    assert sla_sweep(now=DUE + timedelta(minutes=1))["breach"] == 0
