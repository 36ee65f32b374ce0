"""The mailbox and the pipeline together, on a real Dovecot and a real PostgreSQL:
each message in the mailbox becomes exactly one message on one ticket, whether
the provider delivers it twice, a worker is killed in the middle of processing
it, or the IMAP server restarts between two reads."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection

from mail.imap import imap_fetch_once, imap_mail_receive
from mail.models import InboundMail
from tests.builders import ticket_filed
from tests.mail.dovecot import (  # noqa: F401 (the fixtures dovecot and dovecot_server)
    dovecot_fixture,
    dovecot_server_fixture,
)
from tests.mail.test_inbound import CONSUMER, MON_10, reply_mail
from tickets import services
from tickets.models import Message, Notification

ROOT = Path(__file__).resolve().parents[2]
DONE = "cs_desk/processed"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# A worker that dies in the middle of processing: the consumer's message is written
# (in the pipeline's open transaction) and then the process is killed, before COMMIT.
KILLED_WORKER = """
import os, sys, django
django.setup()
from tickets.services import conversation
import mail.inbound as inbound
original = conversation.ticket_consumer_message
def dies_after(**kwargs):
    original(**kwargs)
    os._exit(9)
inbound.services.ticket_consumer_message = dies_after
from mail.imap import imap_fetch_once, imap_mail_receive
imap_fetch_once(imap_mail_receive)
"""


@pytest.fixture
def live_database_environ() -> dict[str, str]:
    """The environment of a process that works on this test's database."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {"DJANGO_SETTINGS_MODULE": "cs_desk.settings.test", "DATABASE_URL": url}


@pytest.fixture
def answered(category, agent):
    ticket = ticket_filed(category, at=MON_10, requester_email=CONSUMER)
    services.ticket_reply(ticket=ticket, author=agent, body="请提供订单截图。", now=MON_10 + timedelta(hours=1))
    return ticket, Notification.objects.get(ticket=ticket, kind="agent_replied")


def consumer_messages(ticket) -> list[str]:
    return list(
        ticket.messages.filter(author_kind=Message.AuthorKind.CONSUMER).order_by("id").values_list("body", flat=True)
    )


def test_a_message_delivered_twice_becomes_one_message(dovecot, answered):
    ticket, notice = answered
    raw = reply_mail(notice.reply_to, "截图见附件。")
    dovecot.append(raw)
    dovecot.append(raw)  # the provider's retry
    dovecot.append(reply_mail(notice.reply_to, "另外，订单号是 2026112300042。"))

    assert imap_fetch_once(imap_mail_receive)["done"] == 3

    assert consumer_messages(ticket)[1:] == ["截图见附件。", "另外，订单号是 2026112300042。"]
    assert InboundMail.objects.count() == 2
    assert dovecot.message_ids("INBOX") == [] and len(dovecot.message_ids(DONE)) == 3


def test_a_worker_killed_mid_message_leaves_nothing_half_done(dovecot, answered, live_database_environ):
    ticket, notice = answered
    dovecot.append(reply_mail(notice.reply_to, "请尽快处理。"))
    env = {**os.environ, **live_database_environ, **dovecot.environ()}

    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WORKER], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert killed.returncode == 9, killed.stderr[-2000:]
    # The message was stored (its own transaction) but nothing it caused was committed.
    assert InboundMail.objects.get().status == "received"
    assert consumer_messages(ticket)[1:] == []
    assert len(dovecot.message_ids("INBOX")) == 1
    # The next read finishes it, once.
    imap_fetch_once(imap_mail_receive)
    assert consumer_messages(ticket)[1:] == ["请尽快处理。"]
    assert InboundMail.objects.get().status == "posted"


def test_a_server_restart_between_reads_loses_and_doubles_nothing(dovecot, answered):
    ticket, notice = answered
    dovecot.append(reply_mail(notice.reply_to, "第一封"))
    imap_fetch_once(imap_mail_receive)
    dovecot.restart()
    dovecot.append(reply_mail(notice.reply_to, "第二封"))
    imap_fetch_once(imap_mail_receive)
    imap_fetch_once(imap_mail_receive)
    assert consumer_messages(ticket)[1:] == ["第一封", "第二封"]
