"""Emails: written with the change, rendered in the recipient's language,
delivered by the outbox (tickets.outbox, email channel) through Django's email
backend, retried with back-off, given up on after N attempts, re-swept."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import override_settings
from django.utils import translation

from tests.factories import UserFactory
from tickets import services
from tickets.models import Notification, StaffProfile
from tickets.notifications import TEMPLATES, notifications_for
from tickets.outbox import EMAIL, outbox_deliver, outbox_due

SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)

pytestmark = pytest.mark.django_db


class FlakyBackend:
    """An email backend whose SMTP server is down."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server unreachable")


def receipt(category, **extra) -> Notification:
    ticket = services.ticket_create(
        category=category,
        subject="商家不发货",
        body="下单十天了还没有发货。",
        requester_name="赵六",
        requester_email="zhao@example.cn",
        now=MON_10,
        **extra,
    )
    return Notification.objects.get(ticket=ticket, kind="ticket_received")


def test_receipt_promises_the_reply_time_in_the_consumers_language(category):
    notification = receipt(category)
    assert notification.status == Notification.Status.PENDING
    assert notification.language == "zh-hans"
    assert notification.subject.startswith("[CS-20261123-")
    # 3 working days from Mon 10:00 → Thu 2026-11-26 10:00, Shanghai time.
    assert "2026年11月26日 10:00" in notification.body
    assert "2026年11月26日 10:00（北京时间）" in notification.body
    assert "/t/" in notification.body


def test_english_receipt(category):
    notification = receipt(category, language="en")
    assert "Nov. 26, 2026, 10 a.m. (Beijing time)" in notification.body


def deliver(notification: Notification, at: datetime) -> dict[str, int]:
    """What the delivery task does, at ``at``."""
    with time_machine.travel(at, tick=False):
        return outbox_deliver(channel=EMAIL, ids=[notification.pk])


def test_delivery_sends_once_and_marks_sent(category):
    notification = receipt(category)
    assert deliver(notification, MON_10) == {"sent": 1}
    assert deliver(notification, MON_10) == {"skipped": 1}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["zhao@example.cn"]
    # The Message-ID made when the row was written.
    assert mail.outbox[0].message()["Message-ID"] == notification.message_id
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.sent_at) == ("sent", 1, MON_10)
    assert notification.leased_until is None


@override_settings(EMAIL_BACKEND="tests.tickets.test_notifications.FlakyBackend", NOTIFICATION_MAX_ATTEMPTS=3)
def test_failed_delivery_backs_off_then_gives_up(category):
    notification = receipt(category)
    assert deliver(notification, MON_10) == {"pending": 1}
    notification.refresh_from_db()
    assert notification.attempts == 1
    assert notification.next_attempt_at == MON_10 + timedelta(seconds=30)
    assert "ConnectionRefusedError" in notification.last_error

    assert deliver(notification, MON_10 + timedelta(seconds=29)) == {"skipped": 1}  # not due yet
    assert deliver(notification, MON_10 + timedelta(seconds=30)) == {"pending": 1}
    notification.refresh_from_db()
    assert notification.next_attempt_at == MON_10 + timedelta(seconds=90)  # 30 s later, then 60 s

    assert deliver(notification, MON_10 + timedelta(seconds=90)) == {"failed": 1}
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED
    assert notification.attempts == 3


def test_resweep_picks_up_rows_whose_dispatch_was_lost(category, settings):
    notification = receipt(category)
    settings.NOTIFICATION_RESWEEP_AFTER = timedelta(minutes=2)
    # Just written: its on-commit dispatch is still in flight, leave it alone.
    assert outbox_due(channel=EMAIL, now=MON_10 + timedelta(minutes=1)) == []
    assert outbox_due(channel=EMAIL, now=MON_10 + timedelta(minutes=2)) == [notification.pk]


def test_one_row_per_address_each_in_its_readers_language(agent, supervisor):
    StaffProfile.objects.create(user=agent, language="en")
    twin = UserFactory(username="twin", email=agent.email)  # a second account on the agent's address
    nowhere = UserFactory(username="nowhere", email="")
    context = {"reference": "CS-20261123-000001"}

    staff = notifications_for("sla_warning", context, users=[None, agent, supervisor, twin, nowhere], ticket_id=8)
    shop = notifications_for(
        "merchant_warning", context, addresses=[("shop@happy.example", None), ("", None)], language="en"
    )
    consumer = notifications_for("agent_replied", context, addresses=[("zhao@example.cn", None)])

    # Staff read their profile's language, else the site's (zh-hans); the rest read
    # the language given, else the site's. Nobody twice, nobody without an address.
    assert [(n.recipient, n.language, n.user_id, n.ticket_id) for n in staff] == [
        ("agent@staff.example", "en", agent.pk, 8),
        ("supervisor@staff.example", "zh-hans", supervisor.pk, 8),
    ]
    assert [(n.recipient, n.language, n.user_id) for n in shop] == [("shop@happy.example", "en", None)]
    assert [(n.recipient, n.language) for n in consumer] == [("zhao@example.cn", "zh-hans")]


# --- Kinds ------------------------------------------------------------------------


def test_every_kind_written_has_a_label(category):
    """The admin names each notification by its kind's label, never its code: every
    kind the templates render, and the managers' daily digest, is a Notification.Kind."""
    assert set(Notification.Kind.values) == {*TEMPLATES, "daily_digest"}
    receipt_row = receipt(category)
    with translation.override("zh-hans"):
        assert receipt_row.get_kind_display() == "投诉已受理"
        assert str(receipt_row) == f"投诉已受理 #{receipt_row.pk}"
