"""The outbox's delivery machine (tickets.outbox), on the email channel and the
real database: claim by lease, a fresh clock per message, back-off and give-up,
leases that run out, one Message-ID across attempts, the retry service (and
what each channel lets it send again, and who may ask)."""

import threading
from datetime import datetime, timedelta
from smtplib import SMTPServerDisconnected
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import connections
from django.test import override_settings

from integrations import tasks as integrations_tasks
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.webhooks import WEBHOOK
from tests.factories import UserFactory
from tickets import tasks
from tickets.models import Notification
from tickets.outbox import (
    EMAIL,
    outbox_claim,
    outbox_deliver,
    outbox_due,
    outbox_give_up_expired,
    outbox_may_retry,
    outbox_retry,
)
from tickets.outbox.core import Outcome, outbox_record

SH = ZoneInfo("Asia/Shanghai")
T = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
LEASE = timedelta(seconds=180)  # OUTBOX_LEASE_S in the tests below

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _lease(settings):
    settings.OUTBOX_LEASE_S = LEASE.total_seconds()
    settings.NOTIFICATION_MAX_ATTEMPTS = 4


def email(recipient: str = "zhao@example.cn", **fields) -> Notification:
    """An outbox row written at T (due then), as the services write them."""
    fields = {"next_attempt_at": T, "created_at": T, **fields}
    return Notification.objects.create(kind="agent_replied", recipient=recipient, subject="回复", body="您好", **fields)


class Sent:
    """What the slow or flaky backends below saw: (recipient, Message-ID, the row's lease)."""

    log: list[tuple[str, str, datetime | None]] = []
    clock = None  # the test's time_machine traveller
    failures = 0  # how many sends fail (after the server has the message) before they succeed

    @classmethod
    def reset(cls, *, clock=None, failures: int = 0) -> None:
        cls.log, cls.clock, cls.failures = [], clock, failures


class SlowBackend:
    """An SMTP server that takes 40 s to answer each message."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        for message in messages:
            [recipient] = message.to
            row = Notification.objects.get(recipient=recipient)
            Sent.log.append((recipient, message.extra_headers.get("Message-ID"), row.leased_until))
            Sent.clock.shift(40)
        return len(messages)


class LostReplyBackend:
    """An SMTP server that takes the message, then the connection drops before
    its reply: the message is delivered and the sender sees a failure."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        for message in messages:
            Sent.log.append((message.to[0], message.message()["Message-ID"], None))
        if Sent.failures:
            Sent.failures -= 1
            raise SMTPServerDisconnected("Connection unexpectedly closed")
        return len(messages)


class DownBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server unreachable")


# --- Claim by lease --------------------------------------------------------------------


def test_a_claim_leases_the_row_and_counts_the_attempt():
    row = email()
    assert outbox_claim(EMAIL, row.pk, now=T) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.leased_until, row.next_attempt_at) == ("pending", 1, T + LEASE, T + LEASE)
    # Leased: neither another claim nor the re-sweep takes it.
    assert outbox_claim(EMAIL, row.pk, now=T + timedelta(seconds=1)) is None
    assert outbox_due(channel=EMAIL, now=T + timedelta(minutes=2)) == []


@pytest.mark.django_db(transaction=True)
def test_of_concurrent_claimers_exactly_one_gets_the_row():
    row = email()
    claimers = 6
    barrier = threading.Barrier(claimers)
    results = []

    def claim():
        try:
            barrier.wait()
            results.append(outbox_claim(EMAIL, row.pk, now=T))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim) for _ in range(claimers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results, key=str) == [1] + [None] * (claimers - 1)
    row.refresh_from_db()
    assert row.attempts == 1


@override_settings(EMAIL_BACKEND="tests.tickets.test_outbox.SlowBackend")
def test_each_message_is_claimed_at_its_own_time():
    first, second = email("a@example.cn"), email("b@example.cn")
    with time_machine.travel(T, tick=False) as clock:
        Sent.reset(clock=clock)
        assert outbox_deliver(channel=EMAIL, ids=[first.pk, second.pk]) == {"sent": 2}
    # The server takes 40 s per message: the second was claimed (its lease taken) 40 s after
    # the first, when its turn came, and each is recorded sent when its own answer came.
    assert [(recipient, leased) for recipient, _id, leased in Sent.log] == [
        ("a@example.cn", T + LEASE),
        ("b@example.cn", T + timedelta(seconds=40) + LEASE),
    ]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.sent_at, second.sent_at) == (T + timedelta(seconds=40), T + timedelta(seconds=80))


def test_a_task_stops_claiming_when_its_budget_is_spent(settings):
    rows = [email(f"r{n}@example.cn") for n in range(3)]
    settings.OUTBOX_TASK_BUDGET_S = 0  # spent before the first message
    with time_machine.travel(T, tick=False):
        assert tasks.notifications_deliver_task([r.pk for r in rows]) == {"deferred": 3}
        # Untouched: still due, for the re-sweep.
        assert outbox_due(channel=EMAIL, now=T + timedelta(minutes=5)) == [r.pk for r in rows]


# --- Back-off and give-up -----------------------------------------------------------------


def test_the_back_off_doubles_from_30_seconds_up_to_the_channels_cap():
    assert [EMAIL.backoff(n).total_seconds() for n in range(1, 10)] == [
        30, 60, 120, 240, 480, 960, 1920, 3600, 3600,
    ]  # fmt: skip


@override_settings(EMAIL_BACKEND="tests.tickets.test_outbox.DownBackend")
def test_failures_are_retried_after_the_back_off_then_given_up():
    row = email()
    expected_gaps = [30, 60, 120]  # after attempts 1, 2, 3; the 4th (NOTIFICATION_MAX_ATTEMPTS) gives up
    at = T
    with time_machine.travel(T, tick=False) as clock:
        for attempt, gap in enumerate(expected_gaps, start=1):
            assert outbox_deliver(channel=EMAIL, ids=[row.pk]) == {"pending": 1}
            row.refresh_from_db()
            assert (row.attempts, row.next_attempt_at, row.leased_until) == (attempt, at + timedelta(seconds=gap), None)
            clock.move_to(row.next_attempt_at - timedelta(seconds=1))
            assert outbox_deliver(channel=EMAIL, ids=[row.pk]) == {"skipped": 1}  # not yet
            at = row.next_attempt_at
            clock.move_to(at)
        assert outbox_deliver(channel=EMAIL, ids=[row.pk]) == {"failed": 1}
        clock.shift(timedelta(days=1))
        assert outbox_deliver(channel=EMAIL, ids=[row.pk]) == {"skipped": 1}  # given up: never again by itself
        assert outbox_due(channel=EMAIL, now=T + timedelta(days=2)) == []
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 4)
    assert row.last_error == "ConnectionRefusedError: SMTP server unreachable"


# --- Leases that run out -----------------------------------------------------------------


def test_a_row_whose_worker_died_is_claimed_again_when_its_lease_runs_out():
    row = email()
    assert outbox_claim(EMAIL, row.pk, now=T) == 1  # ... and its worker is killed mid-send

    assert outbox_due(channel=EMAIL, now=T + LEASE - timedelta(seconds=1)) == []
    assert outbox_due(channel=EMAIL, now=T + LEASE) == [row.pk]
    with time_machine.travel(T + LEASE, tick=False):
        assert outbox_deliver(channel=EMAIL, ids=[row.pk]) == {"sent": 1}
    row.refresh_from_db()
    assert (row.status, row.attempts, row.sent_at, row.leased_until) == ("sent", 2, T + LEASE, None)
    assert len(mail.outbox) == 1


def test_a_late_report_of_an_expired_claim_does_not_undo_the_next_one():
    row = email()
    assert outbox_claim(EMAIL, row.pk, now=T) == 1
    assert outbox_claim(EMAIL, row.pk, now=T + LEASE) == 2  # the first lease ran out: taken over
    with time_machine.travel(T + LEASE + timedelta(seconds=5), tick=False):
        late = Outcome(ok=False, error="TimeoutError: timed out")
        assert outbox_record(EMAIL, row, attempt=1, outcome=late, started=T, took_ms=1) == "pending"
    row.refresh_from_db()
    assert (row.attempts, row.leased_until, row.last_error) == (2, T + LEASE + LEASE, "")  # attempt 2's lease stands
    with time_machine.travel(T + LEASE + timedelta(seconds=6), tick=False):
        assert outbox_record(EMAIL, row, attempt=2, outcome=Outcome(ok=True), started=T + LEASE, took_ms=1) == "sent"


def test_a_last_attempt_that_never_reported_is_given_up_when_its_lease_runs_out():
    row = email(attempts=3)
    assert outbox_claim(EMAIL, row.pk, now=T) == 4  # the last one allowed; its worker dies
    assert outbox_give_up_expired(channel=EMAIL, now=T + LEASE - timedelta(seconds=1)) == 0
    assert outbox_give_up_expired(channel=EMAIL, now=T + LEASE) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.leased_until) == ("failed", 4, None)
    assert "never reported" in row.last_error


# --- One id across attempts ------------------------------------------------------------


@override_settings(EMAIL_BACKEND="tests.tickets.test_outbox.LostReplyBackend")
def test_a_resend_carries_the_message_id_made_when_the_row_was_written():
    row = email()
    assert row.message_id.startswith("<") and row.message_id.endswith(">")
    Sent.reset(failures=1)
    with time_machine.travel(T, tick=False) as clock:
        assert outbox_deliver(channel=EMAIL, ids=[row.pk]) == {"pending": 1}  # the server got it; we could not tell
        clock.shift(30)
        assert outbox_deliver(channel=EMAIL, ids=[row.pk]) == {"sent": 1}
    assert Sent.log == [("zhao@example.cn", row.message_id, None)] * 2
    assert email("other@example.cn").message_id != row.message_id


# --- Retry -----------------------------------------------------------------------------


def test_retry_requeues_pending_and_failed_rows_but_not_sent_or_in_flight_ones(
    monkeypatch, django_capture_on_commit_callbacks
):
    dispatched = []
    monkeypatch.setattr(tasks.notifications_deliver_task, "delay", lambda ids: dispatched.append(list(ids)))
    waiting = email("a@example.cn", attempts=2, next_attempt_at=T + timedelta(minutes=1))
    failed = email("b@example.cn", status="failed", attempts=4, last_error="SMTPServerDisconnected")
    sent = email("c@example.cn", status="sent", attempts=1)
    in_flight = email("d@example.cn")
    now = T + timedelta(seconds=10)
    assert outbox_claim(EMAIL, in_flight.pk, now=T) == 1

    with django_capture_on_commit_callbacks(execute=True):
        queued = outbox_retry(channel=EMAIL, ids=[waiting.pk, failed.pk, sent.pk, in_flight.pk], now=now)

    assert queued == [waiting.pk, failed.pk] == dispatched[0]
    for row in (waiting, failed, sent, in_flight):
        row.refresh_from_db()
    assert (waiting.status, waiting.attempts, waiting.next_attempt_at) == ("pending", 2, now)
    assert (failed.status, failed.attempts, failed.next_attempt_at) == ("pending", 0, now)
    assert (sent.status, sent.attempts) == ("sent", 1)
    assert (in_flight.attempts, in_flight.leased_until) == (1, T + LEASE)


def test_a_delivered_row_goes_again_only_on_a_channel_that_resends(monkeypatch, django_capture_on_commit_callbacks):
    """A sent email is not sent twice (the consumer would read it twice); a delivered
    webhook is, when asked (its receiver lost it): attempts afresh, the same webhook-id."""
    dispatched = []
    monkeypatch.setattr(tasks.notifications_deliver_task, "delay", lambda ids: dispatched.append(("email", ids)))
    monkeypatch.setattr(integrations_tasks.webhooks_deliver_task, "delay", lambda ids: dispatched.append(("hook", ids)))
    sent = email(status="sent", attempts=1, sent_at=T)
    endpoint = WebhookEndpoint.objects.create(name="ERP", url="https://erp.example.cn/hooks", events=["ticket.replied"])
    delivered = WebhookDelivery.objects.create(
        endpoint=endpoint, event="ticket.replied", payload={}, status="delivered", attempts=2, delivered_at=T
    )
    now = T + timedelta(hours=1)

    with django_capture_on_commit_callbacks(execute=True):
        assert outbox_retry(channel=EMAIL, ids=[sent.pk], now=now) == []
        assert outbox_retry(channel=WEBHOOK, ids=[delivered.pk], now=now) == [delivered.pk]

    assert dispatched == [("hook", [delivered.pk])]
    sent.refresh_from_db()
    assert (sent.status, sent.attempts) == ("sent", 1)
    again = WebhookDelivery.objects.get(pk=delivered.pk)
    assert (again.status, again.attempts, again.next_attempt_at, again.uuid) == ("pending", 0, now, delivered.uuid)


def test_who_may_send_again_is_each_channels_permission():
    def holding(*codenames: str):
        user = UserFactory(username=f"ops-{len(codenames)}")
        user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
        return type(user).objects.get(pk=user.pk)  # permissions are cached per instance

    nobody, emails, both = (
        holding(),
        holding("change_notification"),
        holding("change_notification", "change_webhookendpoint"),
    )
    assert [(outbox_may_retry(EMAIL, u), outbox_may_retry(WEBHOOK, u)) for u in (nobody, emails, both)] == [
        (False, False),
        (True, False),
        (True, True),
    ]
