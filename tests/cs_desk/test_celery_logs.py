"""The sweep runs every second and each delivery is a task: their routine log lines are
dropped (make run's console showed three a second, and two per demo email), and
everything else Celery logs is kept."""

from __future__ import annotations

import logging

import pytest

from cs_desk.celery import SweepRoutineFilter


def record(name: str, level: int, message: str, *args) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, args, None)


SENDING = "Scheduler: Sending due task %s (%s)"
ROUTINE = [
    record("celery.beat", logging.INFO, SENDING, "sla-sweep", "tickets.tasks.sla_sweep_task"),
    record("celery.worker.strategy", logging.INFO, "Task %s[%s] received", "tickets.tasks.sla_sweep_task", "a1"),
    record(
        "celery.app.trace",
        logging.INFO,
        "Task %(name)s[%(id)s] succeeded in %(runtime)ss: %(return_value)s",
        {"name": "tickets.tasks.sla_sweep_task", "id": "a1", "runtime": 0.003, "return_value": {}},
    ),
]
DELIVERIES = [
    record("celery.worker.strategy", logging.INFO, "Task %s[%s] received", task, "c3")
    for task in ("tickets.tasks.notifications_deliver_task", "integrations.tasks.webhooks_deliver_task")
]
KEPT = [
    record("celery.beat", logging.INFO, SENDING, "outbox-resweep", "tickets.tasks.outbox_resweep_task"),
    record("celery.app.trace", logging.INFO, "Task %s[%s] received", "mail.tasks.mail_imap_poll_task", "b2"),
    record("celery.beat", logging.ERROR, "Message Error: Couldn't apply scheduled task sla-sweep: refused"),
]


@pytest.mark.parametrize(
    "line", ROUTINE + DELIVERIES, ids=["beat sends", "worker receives", "task succeeds", "an email", "a webhook"]
)
def test_the_sweeps_routine_lines_are_dropped(line, monkeypatch):
    monkeypatch.delenv("SLA_SWEEP_LOG", raising=False)
    assert SweepRoutineFilter().filter(line) is False


@pytest.mark.parametrize("line", KEPT, ids=["another task", "another task received", "a failed sweep send"])
def test_other_lines_and_the_sweeps_errors_are_kept(line, monkeypatch):
    monkeypatch.delenv("SLA_SWEEP_LOG", raising=False)
    assert SweepRoutineFilter().filter(line) is True


def test_sla_sweep_log_keeps_them_all(monkeypatch):
    monkeypatch.setenv("SLA_SWEEP_LOG", "1")
    assert all(SweepRoutineFilter().filter(line) for line in ROUTINE)


def test_the_filter_sits_on_the_loggers_that_write_them():
    for name in ("celery.beat", "celery.worker.strategy", "celery.app.trace"):
        assert any(isinstance(f, SweepRoutineFilter) for f in logging.getLogger(name).filters), name
