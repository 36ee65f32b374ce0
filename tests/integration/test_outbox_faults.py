"""The outbox's crash windows, for real: a worker process delivers to a real
(local) SMTP server or webhook receiver, and the fault strikes after the
receiver has the message but before the worker has recorded it — the worker is
SIGKILLed, its database connection is cut, or the answer comes after the
client's timeout. The re-sweep then sends the message again: at least once is
the promise, so a repeat is allowed, but at most one, and with the same id
(Message-ID, webhook-id) so that the receiver can drop it."""

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from integrations.models import WebhookDelivery, WebhookEndpoint
from tests.api.receiver import SECRET
from tests.integration.smtp_server import SMTPServer
from tickets.models import Notification
from tickets.outbox import outbox_resweep

ROOT = Path(__file__).resolve().parents[2]
APPLICATION = "cs_desk_outbox_fault_worker"  # the worker's connections, as pg_stat_activity names them

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def send_to(settings):
    """The test process (where the re-sweep runs below) sends through ``server``."""

    def use(server: SMTPServer) -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", server.port, 5

    return use


def worker(task: str, ids: list[int], **environ: str) -> subprocess.Popen:
    """A worker process running the delivery task ``task`` (dotted path) on ``ids``,
    against the test database, as Celery would run it."""
    s = connection.settings_dict
    module, name = task.rsplit(".", 1)
    script = f"import json; from {module} import {name}; print(json.dumps({name}({ids!r})))"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cs_desk.settings.dev",
        "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
        "PGAPPNAME": APPLICATION,
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",
        **environ,
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def smtp_environ(server: SMTPServer, timeout: int = 5) -> dict[str, str]:
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(server.port),
        "EMAIL_TIMEOUT": str(timeout),
    }


def outbox_email() -> Notification:
    now = timezone.now()
    return Notification.objects.create(
        kind="sla_breach",
        recipient="supervisor@example.cn",
        subject="[CS-20261130-000001] 首次回复 已超时",
        body="首次回复 已超时，工单已转交主管。",
        next_attempt_at=now,
        created_at=now,
    )


def resweep_at(moment) -> dict:
    """The beat's outbox re-sweep, in this process, at ``moment``."""
    with time_machine.travel(moment, tick=False):
        return outbox_resweep()


def test_a_worker_killed_after_the_server_took_the_email_sends_it_again_once_with_its_message_id(smtp, send_to):
    row = outbox_email()
    smtp.plan = ["hold_at_quit"]  # 250 to the message, then the reply to QUIT waits
    process = worker("tickets.tasks.notifications_deliver_task", [row.pk], **smtp_environ(smtp))

    assert smtp.at_quit.wait(60), process.communicate()[0]  # the server has it; "sent" is not recorded yet
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    smtp.release()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.sent_at) == ("pending", 1, None)
    assert row.leased_until is not None  # the dead worker's lease: nobody else sends it meanwhile

    send_to(smtp)
    assert resweep_at(row.leased_until - timedelta(seconds=1))["email"] == {}
    assert resweep_at(row.leased_until)["email"] == {"sent": 1}

    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)
    assert smtp.message_ids() == [row.message_id, row.message_id]  # one repeat, recognisable
    print(f"\nworker killed: {len(smtp.messages)} copies, Message-ID {set(smtp.message_ids())}")


def test_the_database_gone_while_the_server_takes_the_email_sends_it_again_once_with_its_message_id(smtp, send_to):
    row = outbox_email()
    smtp.plan = ["hold_before_250"]
    process = worker("tickets.tasks.notifications_deliver_task", [row.pk], **smtp_environ(smtp))

    assert smtp.message_in.wait(60), process.communicate()[0]
    with connection.cursor() as cursor:  # PostgreSQL goes away for the worker, with the message at the server
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", [APPLICATION]
        )
        assert cursor.fetchall() == [(True,)]
    smtp.release()  # the server says 250; the worker cannot record it
    output = process.communicate(timeout=60)[0]
    assert process.returncode != 0 and "OperationalError" in output, output
    row.refresh_from_db()
    assert (row.status, row.attempts, row.sent_at) == ("pending", 1, None)

    send_to(smtp)
    assert resweep_at(row.leased_until)["email"] == {"sent": 1}

    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)
    assert smtp.message_ids() == [row.message_id, row.message_id]
    print(f"\ndatabase cut: {len(smtp.messages)} copies, Message-ID {set(smtp.message_ids())}")


def test_a_reply_slower_than_the_email_timeout_sends_it_again_once_with_its_message_id(smtp, send_to):
    row = outbox_email()
    smtp.plan = [("delay", 3)]  # the server has the message; its 250 comes 3 s later
    process = worker("tickets.tasks.notifications_deliver_task", [row.pk], **smtp_environ(smtp, timeout=1))

    output = process.communicate(timeout=60)[0]
    assert process.returncode == 0 and json.loads(output.strip().splitlines()[-1]) == {"pending": 1}, output
    row.refresh_from_db()
    assert (row.status, row.attempts, row.leased_until) == ("pending", 1, None)
    assert row.last_error.startswith("SMTPServerDisconnected") and "timed out" in row.last_error
    assert smtp.message_ids() == [row.message_id]  # it arrived, though the worker could not tell

    send_to(smtp)
    assert resweep_at(row.next_attempt_at - timedelta(seconds=1))["email"] == {}  # 30 s back-off
    assert resweep_at(row.next_attempt_at)["email"] == {"sent": 1}

    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)
    assert smtp.message_ids() == [row.message_id, row.message_id]
    print(f"\nslow SMTP reply: {len(smtp.messages)} copies, Message-ID {set(smtp.message_ids())}")


def test_a_receiver_slower_than_the_webhook_timeout_gets_the_retry_with_the_same_webhook_id(webhook_receiver):
    receiver = webhook_receiver
    receiver.stalls = [3]  # the first request is in; its answer comes after the worker gave up waiting
    hook = WebhookEndpoint.objects.create(name="ERP", url=receiver.url, events=["ticket.created"], secret=SECRET)
    delivery = WebhookDelivery.objects.create(
        endpoint=hook, event="ticket.created", payload={"ticket": {"id": 1, "reference": "CS-20261130-000001"}}
    )
    process = worker("integrations.tasks.webhooks_deliver_task", [delivery.pk], WEBHOOK_TIMEOUT_S="1")

    output = process.communicate(timeout=60)[0]
    assert process.returncode == 0 and json.loads(output.strip().splitlines()[-1]) == {"pending": 1}, output
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "TimeoutError: timed out")

    assert resweep_at(delivery.next_attempt_at)["webhook"] == {"delivered": 1}

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert [r["headers"]["webhook-id"] for r in receiver.received] == [str(delivery.uuid)] * 2
    assert [r["verdict"] for r in receiver.received] == ["ok", "ok"]
    first, second = (int(r["headers"]["webhook-timestamp"]) for r in receiver.received)
    assert second - first >= 30  # each attempt signed at its own time, the retry after its back-off
    print(f"\nslow receiver: {len(receiver.received)} requests, webhook-id {delivery.uuid}, {second - first} s apart")
