"""The support mailbox over IMAP (mail.imap), against a real Dovecot: every message
handed over as sent and moved once done, failures counted on the message and set
aside after three, a worker killed mid-message, IDLE, a server without IDLE, and
the server restarted under the loop.

The handler here is a stand-in for the mail pipeline that records the Message-IDs
it is given. "Handed over again" is what IMAP can promise; the pipeline's key (one
InboundMail per Message-ID) turns it into "once", which its own end-to-end test checks."""

import email
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

import mail.imap
from mail.imap import imap_fetch_once, imap_idle
from mail.tasks import mail_imap_poll_task
from tests.mail.dovecot import (  # noqa: F401 (the fixtures dovecot and dovecot_server)
    CAPABILITY_WITHOUT_IDLE,
    Dovecot,
    dovecot_fixture,
    dovecot_running,
    dovecot_server_fixture,
    raw_message,
)

ROOT = Path(__file__).resolve().parents[2]
DONE, FAILED = "cs_desk/processed", "cs_desk/failed"


class Recorder:
    """A stand-in for the pipeline: records the Message-ID (and the bytes, and when)
    of each message handed over; raises for the Message-IDs in ``fail``."""

    def __init__(self, fail: tuple[str, ...] = (), error: type[BaseException] = ValueError) -> None:
        self.handled: list[str] = []
        self.raws: list[bytes] = []
        self.at: dict[str, float] = {}
        self.fail, self.error = set(fail), error
        self._changed = threading.Condition()

    def __call__(self, raw: bytes) -> None:
        message_id = email.message_from_bytes(raw)["Message-ID"]
        with self._changed:
            self.handled.append(message_id)
            self.raws.append(raw)
            self.at.setdefault(message_id, time.monotonic())
            self._changed.notify_all()
        if message_id in self.fail:
            raise self.error(f"cannot read {message_id}")

    def wait_for(self, message_id: str, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: message_id in self.at, timeout)


def deliver(server: Dovecot, *names: str) -> list[bytes]:
    raws = [raw_message(f"{name}@example.cn") for name in names]
    for raw in raws:
        server.append(raw)
    return raws


def test_each_message_is_handed_over_once_byte_for_byte_then_moved_to_the_done_folder(dovecot):
    # given three messages in the inbox
    raws = deliver(dovecot, "a", "b", "c")

    # when the mailbox is read twice
    first = imap_fetch_once(recorder := Recorder())
    second = imap_fetch_once(recorder)

    # then each was handed over once, oldest first, exactly as delivered (a DKIM
    # signature still holds), and now sits in the done folder, still unread
    assert recorder.handled == ["<a@example.cn>", "<b@example.cn>", "<c@example.cn>"]
    assert recorder.raws == raws
    assert (first, second) == ({"done": 3, "retry": 0, "failed": 0}, {"done": 0, "retry": 0, "failed": 0})
    assert dovecot.message_ids("INBOX") == []
    done = dovecot.flags(DONE)
    assert list(done) == recorder.handled
    assert all("\\Seen" not in flags for flags in done.values())


def test_a_read_takes_at_most_limit_messages_oldest_first_and_the_next_takes_the_rest(dovecot):
    deliver(dovecot, "a", "b", "c")

    assert imap_fetch_once(recorder := Recorder(), limit=2)["done"] == 2
    assert recorder.handled == ["<a@example.cn>", "<b@example.cn>"]
    assert dovecot.message_ids("INBOX") == ["<c@example.cn>"]

    assert imap_fetch_once(recorder, limit=2)["done"] == 1
    assert dovecot.message_ids(DONE) == ["<a@example.cn>", "<b@example.cn>", "<c@example.cn>"]


def test_a_failing_message_is_counted_on_itself_and_set_aside_at_the_third_failure_while_the_others_go_on(dovecot):
    # given a message the handler cannot take between two it can
    deliver(dovecot, "a", "poison", "c")
    recorder = Recorder(fail=("<poison@example.cn>",))

    # when the mailbox is read: the others are done, the failure is left, counted
    assert imap_fetch_once(recorder) == {"done": 2, "retry": 1, "failed": 0}
    assert dovecot.flags("INBOX") == {"<poison@example.cn>": ("$CsDeskAttempt1",)}

    # a message that comes in meanwhile goes through as usual
    deliver(dovecot, "d")
    assert imap_fetch_once(recorder) == {"done": 1, "retry": 1, "failed": 0}
    assert set(dovecot.flags("INBOX")["<poison@example.cn>"]) == {"$CsDeskAttempt1", "$CsDeskAttempt2"}

    # the third failure sets it aside for an administrator
    assert imap_fetch_once(recorder) == {"done": 0, "retry": 0, "failed": 1}
    assert dovecot.message_ids("INBOX") == []
    assert dovecot.message_ids(FAILED) == ["<poison@example.cn>"]
    assert dovecot.message_ids(DONE) == ["<a@example.cn>", "<c@example.cn>", "<d@example.cn>"]
    assert recorder.handled.count("<poison@example.cn>") == 3
    assert imap_fetch_once(recorder) == {"done": 0, "retry": 0, "failed": 0}


def test_on_a_server_that_keeps_no_keywords_the_failures_are_counted_in_memory(dovecot, monkeypatch):
    # given a server whose PERMANENTFLAGS lack \* (Outlook.com's, for one)
    monkeypatch.setattr(mail.imap, "_keywords_kept", lambda box: False)
    deliver(dovecot, "poison")
    recorder = Recorder(fail=("<poison@example.cn>",))

    outcomes = [imap_fetch_once(recorder) for _ in range(3)]

    assert [outcome["failed"] for outcome in outcomes] == [0, 0, 1]
    assert dovecot.flags(FAILED) == {"<poison@example.cn>": ()}  # no keyword was written
    assert mail.imap._attempts_here == {}  # forgotten once moved


class WorkerKilled(BaseException):
    """What a kill leaves on the server, in-process: the handler never returns, nothing after it runs."""


def test_a_message_that_kills_every_worker_is_set_aside_after_three_and_does_not_hold_up_the_others(dovecot):
    # given a message whose handling kills the worker every time, before another
    deliver(dovecot, "killer", "b")
    recorder = Recorder(fail=("<killer@example.cn>",), error=WorkerKilled)

    # when three workers in turn die on it
    for _ in range(3):
        with pytest.raises(WorkerKilled):
            imap_fetch_once(recorder)
    assert recorder.handled == ["<killer@example.cn>"] * 3

    # then the fourth sets it aside without handing it over again, and goes on
    assert imap_fetch_once(recorder) == {"done": 1, "retry": 0, "failed": 1}
    assert recorder.handled == ["<killer@example.cn>"] * 3 + ["<b@example.cn>"]
    assert dovecot.message_ids(FAILED) == ["<killer@example.cn>"]


def test_the_same_message_delivered_twice_is_handed_over_twice_for_the_pipeline_to_take_once(dovecot):
    # given the provider delivering one message twice (a retry after a lost acknowledgement)
    raw = raw_message("twice@example.cn")
    dovecot.append(raw)
    dovecot.append(raw)

    assert imap_fetch_once(recorder := Recorder()) == {"done": 2, "retry": 0, "failed": 0}

    # then both copies reach the handler; the pipeline's key (its Message-ID) makes them one
    assert recorder.raws == [raw, raw]
    assert dovecot.message_ids(DONE) == ["<twice@example.cn>", "<twice@example.cn>"]


WORKER = """
import email, os, sys
import django
django.setup()
from mail.imap import imap_fetch_once
record, die = sys.argv[1], sys.argv[2] == "die"
def handle(raw):
    with open(record, "a") as out:
        out.write(email.message_from_bytes(raw)["Message-ID"] + "\\n")
    if die:
        os._exit(9)  # killed mid-message: the work done, the message not moved yet
print(imap_fetch_once(handle))
"""


def worker(server: Dovecot, record: Path, *, die: bool) -> subprocess.CompletedProcess:
    """A process reading the mailbox once, as ``manage.py mail_imap --once`` does, with the
    recording handler; ``die``: it os._exit()s right after handing over its first message."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cs_desk.settings.test", **server.environ()}
    return subprocess.run(
        [sys.executable, "-c", WORKER, str(record), "die" if die else "live"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.slow
def test_a_worker_killed_mid_message_leaves_it_in_the_mailbox_and_the_next_run_hands_it_over_again(dovecot, tmp_path):
    deliver(dovecot, "a", "b")
    record = tmp_path / "handled.txt"

    # when the worker dies right after handing over the first message
    killed = worker(dovecot, record, die=True)

    # then nothing was moved: the first message is counted, both wait in the inbox
    assert killed.returncode == 9, killed.stderr
    assert record.read_text().split() == ["<a@example.cn>"]
    assert dovecot.flags("INBOX") == {"<a@example.cn>": ("$CsDeskAttempt1",), "<b@example.cn>": ()}

    # when the next worker runs, it hands the first over again (a no-op for the pipeline) and both are done
    again = worker(dovecot, record, die=False)
    assert again.returncode == 0, again.stderr
    assert record.read_text().split() == ["<a@example.cn>", "<a@example.cn>", "<b@example.cn>"]
    assert dovecot.message_ids("INBOX") == []
    assert dovecot.message_ids(DONE) == ["<a@example.cn>", "<b@example.cn>"]


def test_the_command_reads_the_mailbox_once_and_prints_the_counts(dovecot, monkeypatch, capsys):
    monkeypatch.setattr("mail.management.commands.mail_imap.imap_mail_receive", recorder := Recorder())
    deliver(dovecot, "a")

    call_command("mail_imap", "--once", "--workers", "1")  # the recorder lives in this process

    assert json.loads(capsys.readouterr().out) == {"done": 1, "failed": 0, "retry": 0}
    assert recorder.handled == ["<a@example.cn>"]


def test_the_command_refuses_to_run_without_a_mailbox(settings):
    settings.MAIL_IMAP_HOST = ""
    with pytest.raises(CommandError, match="MAIL_IMAP_HOST"):
        call_command("mail_imap", "--once")


def test_the_beat_task_reads_the_mailbox_and_does_nothing_without_one(dovecot, settings, monkeypatch):
    monkeypatch.setattr("mail.tasks.imap_mail_receive", recorder := Recorder())
    deliver(dovecot, "a")

    settings.MAIL_IMAP_HOST = ""
    assert mail_imap_poll_task() == {}
    assert dovecot.message_ids("INBOX") == ["<a@example.cn>"]

    settings.MAIL_IMAP_HOST = dovecot.host
    assert mail_imap_poll_task() == {"done": 1, "retry": 0, "failed": 0}
    assert recorder.handled == ["<a@example.cn>"]


class Loop:
    """``imap_idle`` running in a thread, stopped (and checked to stop) at the end."""

    def __init__(self, handle: Recorder) -> None:
        self.stop = threading.Event()
        self.thread = threading.Thread(target=imap_idle, args=(handle,), kwargs={"stop": self.stop}, daemon=True)

    def __enter__(self) -> "Loop":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive(), "the loop did not stop"


def lag(server: Dovecot, recorder: Recorder, name: str, timeout: float) -> float:
    """Deliver message ``name``; the seconds until the handler had it (inf: not within ``timeout``)."""
    message_id = f"<{name}@example.cn>"
    deliver(server, name)
    delivered = time.monotonic()
    if not recorder.wait_for(message_id, timeout):
        return float("inf")
    return recorder.at[message_id] - delivered


@pytest.mark.slow
def test_idle_hands_over_a_message_as_soon_as_the_server_announces_it(dovecot, settings):
    # given the loop waiting in IDLE; a poll every 5 minutes could not be this quick.
    # Dovecot announces a new message 0.5 s after it lands (it gathers changes for
    # NOTIFY_DELAY_MSECS = 500 before telling the client): the lag is that plus ours.
    settings.MAIL_IMAP_POLL_S = 300
    recorder = Recorder()
    with Loop(recorder):
        first = lag(dovecot, recorder, "first", timeout=10)  # read on connecting, or on waking from IDLE
        lags = [lag(dovecot, recorder, f"m{n}", timeout=10) for n in range(5)]

    print(f"\nIDLE lag: first {first * 1000:.0f} ms; then {', '.join(f'{x * 1000:.0f}' for x in lags)} ms")
    assert max([first, *lags]) < 2
    assert dovecot.message_ids(DONE) == recorder.handled


@pytest.fixture
def dovecot_without_idle(settings):
    with dovecot_running(capability=CAPABILITY_WITHOUT_IDLE) as server:
        for name, value in server.settings().items():
            setattr(settings, name, value)
        yield server


@pytest.mark.slow
def test_a_server_without_idle_is_polled_every_mail_imap_poll_s(dovecot_without_idle, settings, caplog):
    settings.MAIL_IMAP_POLL_S = 0.5
    recorder = Recorder()
    with caplog.at_level("INFO", logger="mail.imap"), Loop(recorder):
        lags = [lag(dovecot_without_idle, recorder, f"m{n}", timeout=10) for n in range(3)]

    print(f"\npoll lag (every 0.5 s): {', '.join(f'{x * 1000:.0f}' for x in lags)} ms")
    assert "by polling every 0.5 s" in caplog.text
    assert max(lags) < 0.5 + 1


@pytest.mark.slow
def test_the_loop_outlives_a_server_restart_and_hands_over_what_comes_after_it(dovecot, settings, caplog):
    settings.MAIL_IMAP_POLL_S = 300
    recorder = Recorder()
    with caplog.at_level("INFO", logger="mail.imap"), Loop(recorder) as loop:
        assert lag(dovecot, recorder, "before", timeout=10) < 2

        # when the server is restarted under the loop (BYE, connection closed, back a moment later)
        restarted = time.monotonic()
        dovecot.restart()
        back = time.monotonic() - restarted
        after = lag(dovecot, recorder, "after", timeout=30)

        # then the loop reconnected by itself and handed over the message delivered since
        assert loop.thread.is_alive()

    print(f"\nrestart: server back after {back:.1f} s; message after it handed over {after:.1f} s after delivery")
    assert after < 5
    assert "reconnecting in 1 s" in caplog.text
    assert recorder.handled == ["<before@example.cn>", "<after@example.cn>"]
    assert dovecot.message_ids(DONE) == recorder.handled
