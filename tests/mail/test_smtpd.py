"""The local SMTP receiver (mail.smtpd, ``manage.py mail_smtpd``) for real: a
receiver listening on a free port of 127.0.0.1, mail sent to it with smtplib as
any MTA would, and what the sender is told and the ticket shows. 250 means the
message is stored; 451 means the sender keeps it and tries again; 550 and 552
are refusals the sender bounces.

Times: filed Mon 2026-11-23 10:00 Beijing, answered at 11:00; the consumer's
reply arrives at 15:00 and opens a next response of 27 working hours (normal
priority, three working days of 9 hours): Mon 3 h, Tue 12, Wed 21, Thu 09:00 + 6 h
→ Thu 11/26 15:00."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

import mail.inbound
from cs_desk.launcher import celery_commands, child_commands
from mail.models import InboundMail
from mail.smtpd import MailHandler, smtpd_controller
from tests.builders import ticket_filed
from tests.mail.test_inbound import reply_mail
from tests.ports import free_port
from tickets import services
from tickets.models import Message, Notification, SLATarget, Ticket

ROOT = Path(__file__).resolve().parents[2]
SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
MON_15 = MON_10 + timedelta(hours=5)
CONSUMER = "wang.fang@example.cn"

# The receiver stores from threads of its own, which see only what is committed.
pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def listening():
    """A receiver on a free port of 127.0.0.1, with the settings as they are now."""
    handler = MailHandler()
    controller = smtpd_controller(host="127.0.0.1", port=free_port(), handler=handler)
    controller.start()
    try:
        yield controller.hostname, controller.port
    finally:
        controller.stop()
        handler.close()


@pytest.fixture
def receiver():
    with listening() as address:
        yield address


@pytest.fixture
def answered(category, agent):
    """A complaint the agent has answered; the consumer got the "we replied" email."""
    ticket = ticket_filed(category, at=MON_10, requester_email=CONSUMER)
    services.ticket_reply(ticket=ticket, author=agent, body="请提供订单截图。", now=MON_10 + timedelta(hours=1))
    return ticket, Notification.objects.get(ticket=ticket, kind="agent_replied")


def on_the_wire(raw: bytes) -> bytes:
    """A message as SMTP carries it: lines end in CRLF (smtplib sends bytes as given)."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def send(address: tuple[str, int], raw: bytes, *, to: list[str], sender: str = CONSUMER) -> dict:
    with smtplib.SMTP(*address, timeout=10) as client:
        return client.sendmail(sender, to, on_the_wire(raw))


def test_a_reply_sent_over_smtp_joins_the_conversation(receiver, answered):
    # given the consumer's reply to the signed Reply-To of our email
    ticket, notice = answered
    raw = reply_mail(notice.reply_to, "订单号 2026112300042，请尽快处理。", in_reply_to=notice.message_id)

    # when an MTA hands it to the receiver at Mon 15:00
    with time_machine.travel(MON_15, tick=False):
        refused = send(receiver, raw, to=[notice.reply_to])

    # then every recipient was taken (250), and the message was stored and posted
    # before the answer: it is the consumer's message on the ticket
    assert refused == {}
    row = InboundMail.objects.get()
    assert (row.via, row.status, row.outcome, row.ticket_id) == ("smtp", "posted", "consumer_message", ticket.pk)
    message = ticket.messages.get(pk=row.message_id)
    assert (message.author_kind, message.is_public) == (Message.AuthorKind.CONSUMER, True)
    assert message.body == "订单号 2026112300042，请尽快处理。"
    # stored as delivered, with the envelope recipient written above it as an MTA does
    assert bytes(row.raw).startswith(f"Delivered-To: {notice.reply_to}\r\n".encode())
    # a reply is owed again: Thu 11/26 15:00 (module docstring)
    due = SLATarget.objects.get(ticket=ticket, kind="next_response").due_at
    assert due == datetime(2026, 11, 26, 15, tzinfo=SH)


def test_a_signed_address_in_bcc_only_threads_by_the_envelope(receiver, answered):
    # given a reply addressed to a friend, our signed address only in Bcc (which
    # the client leaves out of the message: it is in the envelope alone), and no
    # In-Reply-To to thread by either
    ticket, notice = answered
    raw = reply_mail("朋友 <friend@example.cn>", "抄送给客服：还没收到退款。")
    assert notice.reply_to.encode() not in raw

    # when the receiver takes it for the signed address
    with time_machine.travel(MON_15, tick=False):
        send(receiver, raw, to=[notice.reply_to])

    # then it joins the ticket it was signed for, not a new complaint
    row = InboundMail.objects.get()
    assert (row.outcome, row.ticket_id) == ("consumer_message", ticket.pk)
    assert ticket.messages.filter(author_kind=Message.AuthorKind.CONSUMER, body="抄送给客服：还没收到退款。").exists()
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize(
    "recipient",
    ["someone@example.net", "reply+x@cs-desk.example.evil.net", "postmaster"],
    ids=["other-domain", "lookalike-domain", "no-domain"],
)
def test_mail_for_another_domain_is_refused_never_relayed(receiver, recipient):
    with smtplib.SMTP(*receiver, timeout=10) as client:
        client.ehlo()
        client.mail(CONSUMER)
        code, reply = client.rcpt(recipient)
    assert code == 550 and b"Relaying denied" in reply
    assert not InboundMail.objects.exists()


def test_a_message_over_the_limit_is_refused_while_it_arrives_and_nothing_is_stored(settings):
    # given a limit of 20,000 bytes and a message of about 30,000
    settings.MAIL_MAX_BYTES = 20_000
    raw = reply_mail("service@cs-desk.example", "附件太大" + "。" * 10_000, sender="li.lei@example.cn")
    assert len(raw) > 30_000

    with listening() as address, smtplib.SMTP(*address, timeout=10) as client:
        # a client that declares the size is refused at MAIL FROM (the receiver
        # offers SIZE 20000 in its EHLO answer) …
        client.ehlo()
        assert client.esmtp_features["size"] == "20000"
        with pytest.raises(smtplib.SMTPSenderRefused) as declared:
            client.sendmail("li.lei@example.cn", ["service@cs-desk.example"], on_the_wire(raw))
        # … and one that does not, when its DATA passes the limit
        client.rset()
        client.mail("li.lei@example.cn")
        client.rcpt("service@cs-desk.example")
        code, _reply = client.data(on_the_wire(raw))

    assert declared.value.smtp_code == 552
    assert code == 552
    assert not InboundMail.objects.exists()


def test_a_failing_pipeline_answers_451_and_the_retry_loses_nothing(receiver, answered, monkeypatch):
    ticket, notice = answered
    raw = reply_mail(notice.reply_to, "第一次没发出去吗？", in_reply_to=notice.message_id)

    # given a pipeline that stores the message and then fails (the database goes away mid-way)
    def broken(pk):
        raise RuntimeError("server closed the connection unexpectedly")

    monkeypatch.setattr(mail.inbound, "mail_process", broken)

    # when the MTA delivers it, it is told to try later (4xx: it keeps the message)
    with time_machine.travel(MON_15, tick=False), pytest.raises(smtplib.SMTPDataError) as failed:
        send(receiver, raw, to=[notice.reply_to])
    assert failed.value.smtp_code == 451
    assert InboundMail.objects.get().status == "received"  # kept, for the retry (or the re-sweep)
    assert not ticket.messages.filter(body="第一次没发出去吗？").exists()

    # when the pipeline is well again and the MTA retries, the same message is posted once
    monkeypatch.undo()
    with time_machine.travel(MON_15 + timedelta(minutes=5), tick=False):
        assert send(receiver, raw, to=[notice.reply_to]) == {}
    row = InboundMail.objects.get()
    assert (row.status, row.outcome, row.ticket_id) == ("posted", "consumer_message", ticket.pk)
    assert ticket.messages.filter(body="第一次没发出去吗？").count() == 1


# --- make run ------------------------------------------------------------------------


def test_make_run_starts_the_smtp_receiver_beside_the_web_server_and_celery():
    commands = child_commands("python", port="8000", live_port="8001", smtp=("127.0.0.1", "2525"), schedule="/tmp/beat")

    assert commands["smtp"] == ["python", "manage.py", "mail_smtpd", "--host", "127.0.0.1", "--port", "2525"]
    assert commands["web"][:4] == ["python", "-m", "gunicorn", "cs_desk.wsgi"]
    assert "127.0.0.1:8000" in commands["web"]
    assert commands["live"][:4] == ["python", "-m", "uvicorn", "cs_desk.asgi:application"]
    assert commands["live"][4:8] == ["--host", "127.0.0.1", "--port", "8001"]
    assert commands["live"][8:10] == ["--workers", "2"]
    assert {name: commands[name] for name in ("sla", "worker", "beat")} == celery_commands(
        "python", schedule="/tmp/beat"
    )


@pytest.mark.slow
def test_the_launchers_smtp_process_takes_mail_and_stops_on_sigterm(answered, tmp_path, settings):
    # given the receiver started as make run starts it, against the test database
    ticket, notice = answered
    port = free_port()
    command = child_commands(sys.executable, port="0", live_port="0", smtp=("127.0.0.1", str(port)), schedule="")[
        "smtp"
    ]
    s = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cs_desk.settings.dev",
        "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
        "SECRET_KEY": settings.SECRET_KEY,  # the reply addresses are signed with it
        "CS_DESK_DATA_DIR": str(tmp_path),
    }
    log = tmp_path / "smtp.log"
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        banner = _banner(port, process)
        assert banner.startswith(b"220 cs-desk.example"), log.read_text()

        # when a reply is sent to it
        send(("127.0.0.1", port), reply_mail(notice.reply_to, "好的，谢谢。"), to=[notice.reply_to])

        # then it is on the ticket, and SIGTERM stops the receiver cleanly
        assert ticket.messages.filter(author_kind=Message.AuthorKind.CONSUMER, body="好的，谢谢。").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=20)
    assert code == 0, log.read_text()
    assert "taking mail for cs-desk.example on 127.0.0.1:" in log.read_text()


def _banner(port: int, process: subprocess.Popen) -> bytes:
    """The receiver's greeting, once it listens (Django starts in a second or two)."""
    for _ in range(300):
        assert process.poll() is None, "mail_smtpd exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                return sock.recv(512)
        except OSError:
            time.sleep(0.05)  # waiting for a process to listen; no test clock involved
    raise AssertionError("mail_smtpd did not listen within 15 s")
