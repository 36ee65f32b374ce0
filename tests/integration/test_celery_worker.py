"""A real Celery worker and beat, on a real Redis, against the test database:
an overdue ticket is escalated by the beat-driven sweep and its emails leave the
outbox, and its webhooks reach a receiver; a Redis outage delays escalation but loses nothing."""

import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from integrations.models import WebhookDelivery, WebhookEndpoint
from tests.api.receiver import SECRET
from tickets import services
from tickets.models import Notification, TicketEvent

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of the test's own, so that stopping it harms nobody else."""

    def __init__(self, directory: Path):
        self.port = _free_port()
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
        "SLA_SWEEP_INTERVAL_S": "1",
        "NOTIFICATIONS_RESWEEP_INTERVAL_S": "1",
        "NOTIFICATION_RESWEEP_AFTER_S": "1",
        "WEBHOOKS_RESWEEP_INTERVAL_S": "1",
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",  # the webhook receiver listens on 127.0.0.1
        "CS_DESK_DATA_DIR": str(tmp_path / "data"),
    }
    celery = [sys.executable, "-m", "celery", "-A", "cs_desk"]
    logs = tmp_path / "logs"
    logs.mkdir()
    processes = [
        subprocess.Popen(
            [*celery, "worker", "--loglevel=INFO", "--concurrency=2", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=(logs / "worker.log").open("w"), stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [*celery, "beat", "--loglevel=INFO", "--schedule", str(tmp_path / "beat-schedule")],
            cwd=ROOT, env=env, stdout=(logs / "beat.log").open("w"), stderr=subprocess.STDOUT,
        ),
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
    return services.ticket_create(
        category=category,
        subject="付款成功但没有订单",
        body="付了 299 元，订单列表里没有。",
        requester_name="韩梅梅",
        requester_email="han@example.cn",
        now=timezone.now() - timedelta(hours=25),  # urgent: 24 h first response, already breached
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
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    delivered = sorted(str(uuid) for uuid in WebhookDelivery.objects.values_list("uuid", flat=True))
    assert sorted(r["headers"]["webhook-id"] for r in receiver.received) == delivered


def test_redis_outage_delays_escalation_but_loses_nothing(celery_processes, redis_server, urgent_category, supervisor):
    first = overdue_ticket(urgent_category)
    wait_for(
        lambda: TicketEvent.objects.filter(ticket=first, kind="sla_breach").exists(),
        timeout=60,
        what="the first escalation",
    )

    redis_server.stop()
    second = overdue_ticket(urgent_category)  # filed while the broker is down: the request still succeeds
    # Beat cannot hand the sweep to the worker: nothing escalates while Redis is down.
    time.sleep(3)
    assert not TicketEvent.objects.filter(ticket=second, kind="sla_breach").exists()

    redis_server.start()  # same port: worker and beat reconnect by themselves
    wait_for(
        lambda: TicketEvent.objects.filter(ticket=second, kind="sla_breach").exists(),
        timeout=90,
        what="the escalation after Redis came back",
    )
    wait_for(
        lambda: Notification.objects.filter(ticket=second, kind="sla_breach", status="sent").exists(),
        timeout=60,
        what="the breach email after Redis came back",
    )
    assert TicketEvent.objects.filter(ticket=second, kind="sla_breach").count() == 1


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
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{_free_port()}/0",
            "REDIS_URL": f"redis://127.0.0.1:{_free_port()}/0",
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
