"""Real Celery workers and beat (as the launcher runs them), on a real Redis, against the test database:
an overdue ticket is escalated by the beat-driven sweep and its emails leave the
outbox, and its webhooks reach a receiver; a deadline that passes while they run is
escalated within 2 seconds (the sweep's default interval, 1 s, as deployed); a Redis
outage delays escalation but loses nothing."""

import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from cs_desk.launcher import celery_commands
from integrations.models import WebhookDelivery, WebhookEndpoint
from tests.api.receiver import SECRET
from tests.builders import hours_ago, ticket_filed
from tests.ports import free_port
from tickets.models import Notification, SLATarget, TicketEvent

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class PrivateRedis:
    """A redis-server of the test's own, so that stopping it harms nobody else."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def celery_processes(redis_server, tmp_path):
    s = connection.settings_dict
    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cs_desk.settings.dev",
        "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
        "REDIS_URL": redis_server.url,
        "CELERY_BROKER_URL": redis_server.url,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "OUTBOX_RESWEEP_INTERVAL_S": "1",
        "NOTIFICATION_RESWEEP_AFTER_S": "1",
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",  # the webhook receiver listens on 127.0.0.1
        "CS_DESK_DATA_DIR": str(tmp_path / "data"),
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    processes = [
        subprocess.Popen(
            [*command, *(["--without-gossip", "--without-mingle"] if "worker" in command else [])],
            cwd=ROOT, env=env, stdout=(logs / f"{name}.log").open("w"), stderr=subprocess.STDOUT,
        )
        for name, command in celery_commands(sys.executable, schedule=str(tmp_path / "beat-schedule")).items()
    ]  # fmt: skip
    yield mail_dir
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for(condition, *, timeout: float, what: str):
    """Poll the database until the worker has done its part (not a clock: the
    deadlines involved are already in the past)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def overdue_ticket(category):
    """Filed 25 hours ago: urgent, its 24-hour first response already breached."""
    return ticket_filed(
        category,
        at=hours_ago(25),
        subject="付款成功但没有订单",
        body="付了 299 元，订单列表里没有。",
        requester_name="韩梅梅",
        requester_phone="",
        requester_email="han@example.cn",
    )


def test_worker_and_beat_escalate_an_overdue_ticket_and_send_its_emails_and_webhooks(
    celery_processes, urgent_category, supervisor, manager, webhook_receiver
):
    mail_dir = celery_processes
    receiver = webhook_receiver
    WebhookEndpoint.objects.create(
        name="ERP", url=receiver.url, events=["ticket.created", "ticket.breached"], secret=SECRET
    )
    ticket = overdue_ticket(urgent_category)

    wait_for(
        lambda: TicketEvent.objects.filter(ticket=ticket, kind="sla_breach").exists(),
        timeout=60,
        what="the beat-driven sweep to record the breach",
    )
    ticket.refresh_from_db()
    assert ticket.is_overdue and ticket.escalation_level == 1 and ticket.assignee == supervisor

    def all_sent():
        statuses = dict(Notification.objects.filter(ticket=ticket).values_list("kind", "status"))
        return statuses.get("sla_breach") == "sent" and statuses.get("ticket_received") == "sent"

    wait_for(all_sent, timeout=60, what="the outbox to deliver the breach and receipt emails")
    sent_mail = "".join(path.read_text() for path in mail_dir.glob("*.log"))
    assert ticket.reference in sent_mail
    assert supervisor.email in sent_mail and "han@example.cn" in sent_mail

    wait_for(lambda: len(receiver.received) >= 2, timeout=60, what="the worker to deliver the two webhooks")
    assert sorted(receiver.events()) == ["ticket.breached", "ticket.created"]
    assert {r["verdict"] for r in receiver.received} == {"ok"}  # Standard Webhooks and legacy signatures
    # The receiver has both; the worker records each answer just after it came.
    wait_for(
        lambda: set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"},
        timeout=30,
        what="the worker to record both deliveries",
    )
    delivered = sorted(str(uuid) for uuid in WebhookDelivery.objects.values_list("uuid", flat=True))
    assert sorted(r["headers"]["webhook-id"] for r in receiver.received) == delivered


def _sweep_send_failures(beat_log: Path) -> int:
    """How many times beat has failed to hand the SLA sweep to the broker."""
    return beat_log.read_text(errors="replace").count("Message Error: Couldn't apply scheduled task sla-sweep")


class _PortHeld:
    """While the test's Redis is down, its port stays taken (another process on this
    machine could otherwise listen there, and beat and the workers would talk to it):
    every connection is reset at once, as a stopped server's clients see it."""

    def __init__(self, port: int):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.open = True
        self.thread = threading.Thread(target=self._reset_all, daemon=True)
        self.thread.start()

    def _reset_all(self) -> None:
        while self.open:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # the accept timeout, or the socket closed
                continue
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST, no TIME_WAIT
            conn.close()

    def release(self) -> None:
        self.open = False
        self.thread.join(timeout=5)
        self.sock.close()


def _sent_messages(mail_dir: Path) -> list[str]:
    """The messages the worker sent (the file backend separates them with a line of 79 dashes)."""
    text = "".join(path.read_text() for path in sorted(mail_dir.glob("*.log")))
    return [m for m in text.split("-" * 79 + "\n") if m.strip()]


def test_redis_outage_delays_escalation_but_loses_nothing(
    celery_processes, redis_server, urgent_category, supervisor, tmp_path
):
    mail_dir = celery_processes
    beat_log = tmp_path / "logs" / "beat.log"
    first = overdue_ticket(urgent_category)
    wait_for(
        lambda: TicketEvent.objects.filter(ticket=first, kind="sla_breach").exists(),
        timeout=60,
        what="the first escalation",
    )

    redis_server.stop()
    held = _PortHeld(redis_server.port)
    # Once beat has failed to send a sweep, no sweep sent before the outage is still running.
    failures = _sweep_send_failures(beat_log)
    wait_for(lambda: _sweep_send_failures(beat_log) > failures, timeout=60, what="beat to fail to send a sweep")
    second = overdue_ticket(urgent_category)  # filed while the broker is down: the request still succeeds
    # Two more sweeps (1 s apart) were due after it was filed, and neither reached the worker.
    failures = _sweep_send_failures(beat_log)
    wait_for(lambda: _sweep_send_failures(beat_log) >= failures + 2, timeout=60, what="two more failed sweep sends")

    assert not TicketEvent.objects.filter(ticket=second, kind="sla_breach").exists()
    # The receipt waits in the outbox, and nothing about the ticket left by mail.
    assert list(Notification.objects.filter(ticket=second).values_list("kind", "status")) == [
        ("ticket_received", "pending")
    ]
    assert not [m for m in _sent_messages(mail_dir) if second.reference in m]

    held.release()
    redis_server.start()  # same port: worker and beat reconnect by themselves
    wait_for(
        lambda: TicketEvent.objects.filter(ticket=second, kind="sla_breach").exists(),
        timeout=90,
        what="the escalation after Redis came back",
    )
    expected = {"ticket_received", "sla_warning", "sla_breach"}  # receipt; warning at 18 h and breach at 24 h
    wait_for(
        lambda: (
            set(Notification.objects.filter(ticket=second, status="sent").values_list("kind", flat=True)) == expected
        ),
        timeout=60,
        what="the receipt, warning and breach emails after Redis came back",
    )
    assert TicketEvent.objects.filter(ticket=second, kind="sla_breach").count() == 1
    assert Notification.objects.filter(ticket=second).count() == 3
    # Each sent exactly once: the receipt to the consumer, the warning and the breach to the supervisor.
    about_second = [m for m in _sent_messages(mail_dir) if second.reference in m]
    assert len(about_second) == 3
    assert sum("han@example.cn" in m for m in about_second) == 1
    assert sum(supervisor.email in m for m in about_second) == 2


def test_filing_a_ticket_with_the_broker_down_succeeds_and_keeps_the_email(urgent_category):
    """The on-commit dispatch fails (nothing listens on the broker's port), yet the
    submission succeeds and its receipt waits in the outbox for the re-sweep."""
    s = connection.settings_dict
    script = (
        "from tickets.models import Category; from tickets import services; "
        "t = services.ticket_create(category=Category.objects.get(code='order-error'), subject='s', body='b', "
        "requester_name='n', requester_email='outage@example.cn'); print(t.reference)"
    )
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cs_desk.settings.dev",
            "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0",
            "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-3000:]
    assert "will deliver them" in result.stderr  # the dispatch failure is logged, not raised
    notification = Notification.objects.get(recipient="outage@example.cn")
    assert notification.status == Notification.Status.PENDING
    assert elapsed < 30


def test_a_deadline_passing_while_they_run_is_escalated_within_two_seconds(celery_processes, urgent_category):
    # The workers and beat are up once they have escalated a ticket already overdue.
    warm = overdue_ticket(urgent_category)
    wait_for(
        lambda: TicketEvent.objects.filter(ticket=warm, kind="sla_breach").exists(),
        timeout=60,
        what="the first escalation",
    )
    # Urgent: first response within 24 calendar hours. Filed 24 h less 2, 3.5 and 5 s ago,
    # their deadlines pass in the next seconds, at instants unrelated to the sweeps'.
    tickets = [
        ticket_filed(urgent_category, at=timezone.now() - timedelta(hours=24) + timedelta(seconds=s))
        for s in (2, 3.5, 5)
    ]
    wait_for(
        lambda: TicketEvent.objects.filter(ticket__in=tickets, kind="sla_breach").count() == 3,
        timeout=30,
        what="the three breaches",
    )
    for ticket in tickets:
        due = SLATarget.objects.get(ticket=ticket, kind="first_response", cycle=1).due_at
        breach = TicketEvent.objects.get(ticket=ticket, kind="sla_breach").created_at
        assert timedelta(0) <= breach - due <= timedelta(seconds=2), (ticket.reference, breach - due)
