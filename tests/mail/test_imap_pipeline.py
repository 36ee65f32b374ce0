"""The mailbox and the pipeline together, on a real Dovecot and a real PostgreSQL:
each message in the mailbox becomes exactly one message on one ticket, whether
the provider delivers it twice, a worker is killed in the middle of processing
it, or the IMAP server restarts between two reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection

from mail.imap import MailLanes, imap_fetch_once, imap_mail_receive
from mail.models import InboundMail
from tests.builders import ticket_filed
from tests.mail.dovecot import (  # noqa: F401 (the fixtures dovecot and dovecot_server)
    dovecot_fixture,
    dovecot_server_fixture,
)
from tests.mail.lanes import DIES, dies_once
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


# --- Lanes: the pipeline in processes of its own, side by side ---------------------------

OTHER = "li.lei@example.cn"


@pytest.fixture
def two_answered(category, agent):
    """Two consumers' tickets, each answered by an agent (so each has a signed Reply-To)."""
    answered = []
    for email in (CONSUMER, OTHER):
        ticket = ticket_filed(category, at=MON_10, requester_email=email)
        services.ticket_reply(ticket=ticket, author=agent, body="请提供订单截图。", now=MON_10 + timedelta(hours=1))
        answered.append((ticket, Notification.objects.get(ticket=ticket, kind="agent_replied")))
    return answered


@pytest.fixture
def lanes_environ(monkeypatch, live_database_environ, tmp_path):
    """What a lane's process (a fresh interpreter) needs to work on this test's database."""
    for name, value in live_database_environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CS_DESK_TEST_DIED", str(tmp_path / "died"))


def test_lanes_take_every_message_once_and_keep_each_senders_order(dovecot, two_answered, lanes_environ):
    (first, first_notice), (second, second_notice) = two_answered
    # 14 messages: more than one bulk (BULK = 10), so a second is handed over while the first is finished.
    texts = {CONSUMER: [f"王芳的第 {n} 封" for n in range(1, 8)], OTHER: [f"李雷的第 {n} 封" for n in range(1, 8)]}
    for n in range(7):  # interleaved, as two people writing at once
        dovecot.append(reply_mail(first_notice.reply_to, texts[CONSUMER][n]))
        dovecot.append(reply_mail(second_notice.reply_to, texts[OTHER][n], sender=OTHER))
    lanes = MailLanes(imap_mail_receive, 2)
    try:
        assert imap_fetch_once(lanes) == {"done": 14, "retry": 0, "failed": 0}
    finally:
        lanes.close()

    assert consumer_messages(first)[1:] == texts[CONSUMER]
    assert consumer_messages(second)[1:] == texts[OTHER]
    assert InboundMail.objects.filter(status="posted").count() == 14
    assert dovecot.message_ids("INBOX") == [] and len(dovecot.message_ids(DONE)) == 14


def test_a_lane_that_dies_is_replaced_and_its_messages_are_taken_next_time(dovecot, two_answered, lanes_environ):
    (first, first_notice), (second, second_notice) = two_answered
    dovecot.append(reply_mail(first_notice.reply_to, "第一封", headers={"X-Test-Dies": "yes"}))
    dovecot.append(reply_mail(first_notice.reply_to, "第二封"))
    dovecot.append(reply_mail(second_notice.reply_to, "李雷的信", sender=OTHER))
    lanes = MailLanes(dies_once, 2)
    assert lanes.lane_of(CONSUMER) != lanes.lane_of(OTHER)  # the two senders are in different lanes
    try:
        counts = imap_fetch_once(lanes)
        # The dying lane's message is a failed attempt, counted on the message; so is the
        # other message of that lane, waiting behind it. The other lane was not touched.
        assert counts == {"done": 1, "retry": 2, "failed": 0}
        assert consumer_messages(second)[1:] == ["李雷的信"]
        assert dovecot.flags("INBOX")[_message_id(dovecot, "第一封")] == ("$CsDeskAttempt1",)

        assert imap_fetch_once(lanes) == {"done": 2, "retry": 0, "failed": 0}  # a new process takes the lane
    finally:
        lanes.close()

    assert consumer_messages(first)[1:] == ["第一封", "第二封"]
    assert InboundMail.objects.filter(status="posted").count() == 3
    assert dovecot.message_ids("INBOX") == [] and len(dovecot.message_ids(DONE)) == 3
    assert DIES in bytes(InboundMail.objects.get(text__startswith="第一封").raw)


def _message_id(dovecot, text: str) -> str:
    """The Message-ID of the message in INBOX whose reply is ``text``."""
    with dovecot.mailbox() as box:
        box.folder.set("INBOX")
        for message in box.fetch(mark_seen=False):
            if message.text.startswith(text):
                return message.headers["message-id"][0].strip()
    raise AssertionError(f"no message starting {text!r}")


def test_the_command_reads_with_lanes_by_default(dovecot, two_answered, lanes_environ, capsys, settings):
    from django.core.management import call_command

    (first, first_notice), (second, second_notice) = two_answered
    dovecot.append(reply_mail(first_notice.reply_to, "王芳补充一句"))
    dovecot.append(reply_mail(second_notice.reply_to, "李雷补充一句", sender=OTHER))
    assert settings.MAIL_IMAP_WORKERS == 2

    call_command("mail_imap", "--once")

    assert json.loads(capsys.readouterr().out) == {"done": 2, "failed": 0, "retry": 0}
    assert consumer_messages(first)[1:] == ["王芳补充一句"] and consumer_messages(second)[1:] == ["李雷补充一句"]
