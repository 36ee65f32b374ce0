"""bench/email.py's lag: replies appended to a Dovecot that ``manage.py mail_imap``
reads (with IDLE, then by polling), each timed until its message is on its ticket."""

from __future__ import annotations

import contextlib
import math
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from email.utils import formatdate

from bench import _common as common
from bench._mail_mix import Answered

POLL_DB_S = 0.01


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


class Reader:
    """``manage.py mail_imap --idle`` on the run's database and a Dovecot, in a process group of its own."""

    def __init__(self, *, run: common.Run, server, poll_s: float, name: str) -> None:
        self.log_path = run.directory / f"mail_imap_{name}.log"
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "mail_imap", "--idle"], cwd=common.ROOT,
            env={**os.environ, **server.environ(), "MAIL_IMAP_POLL_S": f"{poll_s:g}", "LOG_LEVEL": "INFO"},
            stdout=self.log_path.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=common.die_with_parent,
        )  # fmt: skip

    def wait_reading(self, expect: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.alive()
            if "Reading INBOX on" in (log := self.log_path.read_text(errors="replace")):
                if expect not in log:
                    raise AssertionError(f"the reader does not read {expect!r}:\n{self.tail()}")
                return
            time.sleep(0.05)
        raise TimeoutError(f"mail_imap did not start reading in {timeout:.0f} s:\n{self.tail()}")

    def tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])

    def alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"mail_imap exited ({self.process.returncode}):\n{self.tail()}")

    def stop(self) -> int | None:
        """SIGTERM (the reader finishes the message in hand), SIGKILL after 20 s."""
        for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                return self.process.wait(timeout=wait)
            common.log(f"mail_imap did not stop on {sig.name}")
        return self.process.returncode


def lag_measure(*, run, name: str, capability: str, probes: list[Answered], gaps: list[float], poll_s: float) -> dict:
    """One reply per probe ticket appended after each gap; each one's lag until its message is seen."""
    from tests.mail import corpus
    from tests.mail.dovecot import dovecot_running
    from tickets.models import Message

    texts = {a.ticket_id: f"{name} 探针 {n}：还是没有收到退款。" for n, a in enumerate(probes)}
    raws = [
        corpus.gmail_reply(body=texts[a.ticket_id], date=formatdate(localtime=True), **a.envelope()) for a in probes
    ]
    base = Message.objects.order_by("-pk").values_list("pk", flat=True).first()
    sent, seen, bodies, appends = {}, {}, {}, []
    with dovecot_running(capability) as server:
        reader = Reader(run=run, server=server, poll_s=poll_s, name=name)
        try:
            reader.wait_reading("by IDLE" if not capability else f"by polling every {poll_s:g} s")
            common.log(f"{name}: mail_imap reads Dovecot on port {server.port}; appending {len(probes)} replies")
            with server.mailbox() as box:
                due, deadline = time.monotonic(), math.inf
                while len(seen) < len(probes):
                    if len(sent) < len(probes) and time.monotonic() >= due + gaps[len(sent)]:
                        due, n, started = due + gaps[len(sent)], len(sent), time.monotonic()
                        box.append(raws[n], "INBOX")
                        sent[probes[n].ticket_id] = time.monotonic()  # the server's OK: the mail has landed
                        appends.append(sent[probes[n].ticket_id] - started)
                        deadline = time.monotonic() + 3 * poll_s + 30 if len(sent) == len(probes) else deadline
                        continue
                    polled = time.monotonic()  # what the query sees was committed before this instant
                    unseen = [t for t in sent if t not in seen]
                    for ticket_id, body in Message.objects.filter(
                        pk__gt=base, ticket_id__in=unseen, author_kind="consumer"
                    ).values_list("ticket_id", "body"):
                        seen[ticket_id], bodies[ticket_id] = polled - sent[ticket_id], body
                    reader.alive()
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{name}: {len(seen)}/{len(probes)} replies seen:\n{reader.tail()}")
                    time.sleep(POLL_DB_S)
        finally:
            returncode = reader.stop()
        done, inbox = server.message_ids("cs_desk/processed"), server.message_ids("INBOX")
    wrong = [t for t, body in bodies.items() if body != texts[t]]
    extra = Message.objects.filter(pk__gt=base, ticket_id__in=texts, author_kind="consumer").count() - len(probes)
    if wrong or extra or len(done) != len(probes) or inbox or returncode != 0:
        raise AssertionError(
            f"{name}: {len(wrong)} replies stored wrong, {extra} extra, {len(done)} of {len(probes)} moved to the "
            f"processed folder, {len(inbox)} left in INBOX, mail_imap exited {returncode}:\n{reader.tail()}"
        )
    lags = list(seen.values())
    result = {"probes": len(lags), "p50_s": round(statistics.median(lags), 3), "p95_s": round(percentile(lags, 95), 3),
              "max_s": round(max(lags), 3), "min_s": round(min(lags), 3),
              "append_ms": round(statistics.median(appends) * 1000, 1)}  # fmt: skip
    common.log(f"{name}: lag p50 {result['p50_s']} s, p95 {result['p95_s']} s, max {result['max_s']} s")
    return result


def lags(args, run, probes: list[Answered], rng: random.Random) -> dict[str, dict | None]:
    from tests.mail.dovecot import CAPABILITY_WITHOUT_IDLE, DOVECOT

    if not DOVECOT.exists():
        common.log(f"lag not measured: Dovecot is not installed at {DOVECOT} (apt-get install dovecot-imapd)")
        return {"idle": None, "poll": None}
    idle, poll = probes[: args.probes], probes[args.probes :]
    return {
        "idle": lag_measure(run=run, name="idle", capability="", probes=idle, poll_s=args.poll_s,
                            gaps=[rng.uniform(0, args.gap_s) for _ in idle]),
        "poll": lag_measure(run=run, name="poll", capability=CAPABILITY_WITHOUT_IDLE, probes=poll, poll_s=args.poll_s,
                            gaps=[rng.uniform(0, 1.5 * args.poll_s) for _ in poll]),
    }  # fmt: skip
