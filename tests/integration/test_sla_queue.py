"""Nothing the deliveries do can hold an escalation back: with the Celery
processes the launcher runs (the SLA sweep on a queue and worker of its own),
a webhook receiver that accepts connections and never answers, and thousands
of deliveries queued to it, an urgent ticket's breach is still taken within
the lag target (the sweep interval + 2 s)."""

import os
import signal
import socket
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from cs_desk.launcher import celery_commands
from integrations.models import WebhookDelivery, WebhookEndpoint
from tests.api.receiver import SECRET
from tests.integration.test_celery_worker import PrivateRedis, wait_for
from tickets import services
from tickets.models import SLATarget, TicketEvent

ROOT = Path(__file__).resolve().parents[2]
SWEEP_INTERVAL_S = 1
BACKLOG = 5000

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class DeadReceiver:
    """Accepts every connection and never says a word."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                sock, _address = self.listener.accept()
            except OSError:
                return
            self.held.append(sock)

    def close(self):
        self.listener.close()
        for sock in self.held:
            sock.close()


@pytest.fixture
def dead_receiver():
    receiver = DeadReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def celery_environ(tmp_path):
    redis = PrivateRedis(tmp_path)
    redis.start()
    s = connection.settings_dict
    yield {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cs_desk.settings.dev",
        "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
        "REDIS_URL": redis.url,
        "CELERY_BROKER_URL": redis.url,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "SLA_SWEEP_INTERVAL_S": str(SWEEP_INTERVAL_S),
        "OUTBOX_RESWEEP_INTERVAL_S": "1",
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",  # the dead receiver listens on 127.0.0.1
        "CS_DESK_DATA_DIR": str(tmp_path / "data"),
    }
    redis.stop()


@pytest.fixture
def celery_processes(celery_environ, tmp_path):
    """The launcher's Celery processes, each in a process group of its own (a
    worker stuck on the dead receiver is killed with its pool at the end)."""
    logs = tmp_path / "logs"
    logs.mkdir()
    processes = [
        subprocess.Popen(
            [*command, *(["--without-gossip", "--without-mingle"] if "worker" in command else [])],
            cwd=ROOT, env=celery_environ, stdout=(logs / f"{name}.log").open("w"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for name, command in celery_commands(sys.executable, schedule=str(tmp_path / "beat-schedule")).items()
    ]  # fmt: skip
    yield logs
    for process in processes:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def test_a_dead_receiver_and_a_backlog_of_deliveries_do_not_delay_a_breach(
    celery_environ, celery_processes, dead_receiver, urgent_category, supervisor
):
    hook = WebhookEndpoint.objects.create(
        name="ERP", url=dead_receiver.url, events=["ticket.created", "ticket.breached"], secret=SECRET
    )
    now = timezone.now()
    backlog = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=hook, event="ticket.created", payload={"n": n}, next_attempt_at=now, created_at=now)
        for n in range(BACKLOG)
    )
    # Queued to the workers as the on-commit dispatch queues them: 50 messages of 100 deliveries.
    script = (
        "from integrations.webhooks import WEBHOOK; from tickets.outbox import outbox_dispatch; "
        f"outbox_dispatch(WEBHOOK, list(range({backlog[0].pk}, {backlog[-1].pk + 1})))"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=celery_environ, check=True, timeout=60
    )
    # Both processes of the general worker sit on the dead receiver (10 s per attempt).
    wait_for(lambda: len(dead_receiver.held) >= 2, timeout=60, what="the deliveries to reach the dead receiver")

    ticket = services.ticket_create(
        category=urgent_category,
        subject="付款成功但没有订单",
        body="付了 299 元，订单列表里没有。",
        requester_name="韩梅梅",
        requester_email="han@example.cn",
        now=timezone.now() - timedelta(hours=24) + timedelta(seconds=5),  # urgent: breaches 5 s from now
    )
    due_at = SLATarget.objects.get(ticket=ticket, kind="first_response").due_at

    wait_for(
        lambda: TicketEvent.objects.filter(ticket=ticket, kind="sla_breach").exists(),
        timeout=30,
        what="the breach",
    )
    breach = TicketEvent.objects.get(ticket=ticket, kind="sla_breach")
    lag = (breach.created_at - due_at).total_seconds()
    still_queued = WebhookDelivery.objects.filter(pk__in=[d.pk for d in backlog], attempts=0).count()
    print(f"\nbreach {lag:.2f} s after its deadline; {still_queued} of {BACKLOG} deliveries not yet tried")
    assert 0 <= lag <= SWEEP_INTERVAL_S + 2
    assert still_queued > BACKLOG - 100  # the backlog was still there, in front of any sweep on a shared queue
