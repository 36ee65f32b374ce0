"""Incoming mail (issue 19): messages parsed, threaded and stored per second, and
the lag from a mail landing in the mailbox to the message on its ticket.

    .venv/bin/python bench/email.py [--tickets 400] [--messages 2000] [--probes 50] [--poll-s 2]
    .venv/bin/python bench/email.py --smoke     # 100 messages, 5 replies a mode: does it still run?

Throughput: ``--messages`` raw messages (the tests' corpus, in the mix of ``MIX``) each
through ``mail.inbound.mail_receive`` in this process, timed and checked against what was
built; then as many again, twice, appended to a Dovecot and read by ``imap_fetch_once``
with the pipeline in the reading process and in ``MailLanes`` (as ``manage.py mail_imap``
runs it). Lag: replies appended to a Dovecot (the tests' harness) that ``manage.py mail_imap``
reads, with IDLE and then without; what is measured, and how, is written beside the
figures (``results_write``). A database and a Redis of the run's own; progress on stderr,
one JSON object as the last line of stdout; the figures replace this script's section of
bench/RESULTS.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's ``email`` (the issue names it): take
# its own directory off the import path before anything imports ``email``.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from bench import _common as common  # noqa: E402
from bench._mail_lag import POLL_DB_S, lags, percentile  # noqa: E402
from bench._mail_mix import MIX, Mail, mails_build, tickets_answered  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = common.parser_new(__doc__)
    parser.add_argument("--tickets", type=int, help="answered tickets the replies go to (default 400; smoke 20)")
    parser.add_argument("--messages", type=int, help="messages through the pipeline (default 2,000; smoke 100)")
    parser.add_argument("--probes", type=int, help="replies appended to the mailbox per mode (default 50; smoke 5)")
    parser.add_argument("--poll-s", type=float, help="MAIL_IMAP_POLL_S without IDLE (default 2; smoke 1)")
    parser.add_argument("--gap-s", type=float, help="with IDLE, appends [0, gap] s apart (default 1; smoke 0.3)")
    parser.add_argument("--seed", type=int, default=19, help="of the mix's order and the intervals (default 19)")
    args = parser.parse_args()
    common.sizes_apply(
        args, tickets=(400, 20), messages=(2000, 100), probes=(50, 5), poll_s=(2.0, 1.0), gap_s=(1.0, 0.3)
    )
    return args


class Statements:
    """The SQL statements run and the time spent waiting for them (``execute_wrapper``)."""

    count, seconds = 0, 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.count += 1
            self.seconds += time.perf_counter() - started


def throughput(mails: list[Mail]) -> tuple[dict, dict[str, dict]]:
    """``mail_parse`` alone over every message, then ``mail_receive`` over every one; the figures."""
    from django.db import connection

    from mail.inbound import mail_receive
    from mail.parsing import mail_parse

    parse_ms = []
    for mail in mails:
        started = time.perf_counter()
        mail_parse(mail.raw)
        parse_ms.append((time.perf_counter() - started) * 1000)
    common.log(f"mail_parse alone: {sum(parse_ms) / 1000:.2f} s for {len(mails)} messages")

    rows, wall, cpu, sql, statements = [], [], [], [], []
    before = totals()
    counter = Statements()
    with connection.execute_wrapper(counter):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for mail in mails:
            count, waited = counter.count, counter.seconds
            started, cpu_started = time.perf_counter(), time.process_time()
            rows.append(mail_receive(mail.raw, via="imap").pk)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
            sql.append((counter.seconds - waited) * 1000)
            statements.append(counter.count - count)
        wall_s, cpu_s = time.perf_counter() - wall0, time.process_time() - cpu0
    common.log(f"mail_receive: {len(mails)} messages in {wall_s:.2f} s ({len(mails) / wall_s:.0f}/s)")
    verify(mails, rows, before)

    def figures(at: list[int]) -> dict:
        mean = statistics.fmean
        return {
            "messages": len(at),
            "per_s": round(1000 / mean(wall[i] for i in at), 1),
            "mean_ms": round(mean(wall[i] for i in at), 2),
            "p95_ms": round(percentile([wall[i] for i in at], 95), 2),
            "cpu_ms": round(mean(cpu[i] for i in at), 2),
            "parse_ms": round(mean(parse_ms[i] for i in at), 2),
            "sql_ms": round(mean(sql[i] for i in at), 2),
            "statements": round(mean(statements[i] for i in at), 1),
        }

    kinds = {kind: figures([i for i, m in enumerate(mails) if m.kind == kind]) for kind in MIX}
    result = figures(list(range(len(mails))))
    result |= {"per_s": round(len(mails) / wall_s, 1), "per_s_cpu": round(len(mails) / cpu_s, 1),
               "wall_s": round(wall_s, 2), "max_ms": round(max(wall), 1)}  # fmt: skip
    return result, {kind: k for kind, k in kinds.items() if k["messages"]}


def totals() -> dict[str, int]:
    """What the pipeline writes, counted: incoming mail, messages from mail, email tickets, files."""
    from mail.models import InboundMail
    from tickets.models import Attachment, Message, Ticket

    return {
        "stored": InboundMail.objects.count(),
        "messages": Message.objects.filter(inbound_mail__isnull=False).count(),
        "email tickets": Ticket.objects.filter(channel="email").count(),
        "files": Attachment.objects.count(),
    }


def mailbox_throughput(mails: list[Mail], *, workers: int) -> dict:
    """``mails`` appended to a Dovecot of their own, then read by one ``imap_fetch_once``:
    the pipeline in the reading process (``workers`` 1, as the beat task runs it) or in
    ``MailLanes`` (as ``manage.py mail_imap`` runs it). Timed from the read's start to its
    end, each message moved to the processed folder; the lanes' processes are started
    (as ``manage.py mail_imap`` starts them) when the clock starts."""
    from django.test import override_settings

    from mail.imap import MailLanes, imap_fetch_once, imap_mail_receive
    from mail.inbound import mail_key
    from mail.models import InboundMail
    from tests.mail import corpus
    from tests.mail.dovecot import dovecot_running

    warm = [corpus.bounce(to="bounces@example.cn") for _ in range(2)]  # a first read, untimed
    with dovecot_running("") as server, override_settings(**server.settings()):
        with server.mailbox() as box:
            for raw in [*warm, *(mail.raw for mail in mails)]:
                box.append(raw, "INBOX")
        handle = MailLanes(imap_mail_receive, workers) if workers > 1 else imap_mail_receive
        try:
            if isinstance(handle, MailLanes):
                handle.start()
            imap_fetch_once(handle, limit=len(warm))
            before = totals()
            started = time.perf_counter()
            counts = imap_fetch_once(handle, limit=len(mails))
            wall_s = time.perf_counter() - started
        finally:
            if isinstance(handle, MailLanes):
                handle.close()
        left = server.message_ids("INBOX")
    if counts != {"done": len(mails), "retry": 0, "failed": 0} or left:
        raise AssertionError(f"read {counts}, {len(left)} left in INBOX")
    keys = [mail_key(mail.raw)[0] for mail in mails]
    by_key = dict(InboundMail.objects.filter(key__in=keys).values_list("key", "pk"))
    verify(mails, [by_key[key] for key in keys], before)
    per_s = len(mails) / wall_s
    common.log(f"through the mailbox, {workers} process(es): {len(mails)} in {wall_s:.2f} s ({per_s:.0f}/s)")
    return {"workers": workers, "messages": len(mails), "wall_s": round(wall_s, 2), "per_s": round(per_s, 1)}


def mailbox_throughputs(answered, count: int, rng: random.Random) -> list[dict]:
    """The mailbox read with the pipeline in the reader, then in MAIL_IMAP_WORKERS lanes
    (at least 2): each on ``count`` messages of their own."""
    from django.conf import settings

    from tests.mail.dovecot import DOVECOT

    if not DOVECOT.exists():
        common.log(f"mailbox throughput not measured: no Dovecot at {DOVECOT} (apt-get install dovecot-imapd)")
        return []
    return [
        mailbox_throughput(mails_build(answered, count, rng, first=(n + 1) * count), workers=workers)
        for n, workers in enumerate((1, max(2, settings.MAIL_IMAP_WORKERS)))
    ]


def verify(mails: list[Mail], rows: list[int], before: dict[str, int]) -> None:
    """Each message became what was built, and nothing more was written since ``before``."""
    from mail.models import InboundMail

    found = InboundMail.objects.select_related("message", "ticket__category").in_bulk(rows)
    wrong = []
    for mail, pk in zip(mails, rows, strict=True):
        row = found[pk]
        body = row.message.body.strip() if row.message else ""
        # HTML: the text, none of the page's script; the others: the reply exactly, the quoted history stripped.
        text_wrong = mail.text not in body or "alert(" in body if mail.kind.endswith("_html") else body != mail.text
        if (row.status, row.outcome) != MIX[mail.kind][1]:
            wrong.append(f"{mail.kind}: {row.status}, {row.outcome} ({row.detail[:80]})")
        elif mail.ticket_id is not None and row.ticket_id != mail.ticket_id:
            wrong.append(f"{mail.kind}: threaded onto ticket {row.ticket_id}, not {mail.ticket_id}")
        elif mail.category and row.ticket.category.code != mail.category:
            wrong.append(f"{mail.kind}: filed under {row.ticket.category.code}, not {mail.category}")
        elif mail.text and text_wrong:
            wrong.append(f"{mail.kind}: stored {body[:120]!r}, expected {mail.text!r}")
        elif row.message and row.message.attachments.count() != mail.files:
            wrong.append(f"{mail.kind}: {row.message.attachments.count()} files, expected {mail.files}")
    if wrong:
        raise AssertionError(f"{len(wrong)} of {len(mails)} messages wrong, e.g.:\n" + "\n".join(wrong[:10]))
    expected = {
        "stored": len(mails),
        "messages": sum(MIX[m.kind][1][0] == "posted" for m in mails),
        "email tickets": sum(bool(m.category) for m in mails),
        "files": sum(m.files for m in mails),
    }
    written = {name: count - before[name] for name, count in totals().items()}
    if written != expected:
        raise AssertionError(f"written {written}, expected {expected}")
    common.log(f"verified: every message's outcome, ticket, category, text and files; written {written}")


# --- The report -----------------------------------------------------------------------


def verdicts(result: dict, lag: dict, poll_s: float) -> list[str]:
    deployed = result["mailbox"][-1] if result["mailbox"] else None
    per_s = deployed["per_s"] if deployed else result["per_s"]
    how = f"read from the mailbox, {deployed['workers']} lanes" if deployed else "one process, no mailbox"
    lines = [f"Throughput ≥ 100 messages/s ({how}): {'met' if per_s >= 100 else 'missed'} ({per_s:.0f}/s)."]
    rest = result["mean_ms"] - result["parse_ms"] - result["sql_ms"]
    lines.append(f"One process alone takes {result['mean_ms']:.1f} ms a message ({result['per_s']:.0f}/s): waiting on "
                 f"SQL {result['sql_ms']:.1f} ms ({result['statements']:.0f} statements), parsing "
                 f"{result['parse_ms']:.1f} ms, the rest (Python: the ORM, the services) {rest:.1f} ms.")  # fmt: skip
    if lag["idle"] is None:
        return [*lines, "Lag: not measured (no Dovecot on this machine)."]
    idle, poll = lag["idle"]["max_s"], lag["poll"]["max_s"]
    lines.append(f"Lag with IDLE ≤ 10 s: {'met' if idle <= 10 else 'missed'} (max {idle:.2f} s).")
    state = "met" if poll <= poll_s else f"missed by {poll - poll_s:.2f} s"
    return [*lines, f"Lag by polling ≤ the poll interval ({poll_s:g} s): {state} (max {poll:.2f} s)."]


def mailbox_row(m: dict) -> str:
    where = "in the reading process" if m["workers"] == 1 else f"in {m['workers']} lanes"
    target = "≥ 100" if m["workers"] > 1 else ""
    return f"| {where} | {m['messages']} | {m['wall_s']:.2f} | {m['per_s']:.0f} | {target} |"


def results_write(args, result: dict, kinds: dict[str, dict], lag: dict, *, write: bool) -> None:
    rows = "\n".join(
        f"| {kind} | {MIX[kind][0]} % | {k['messages']} | {k['per_s']:.0f} | {k['mean_ms']:.1f} | {k['p95_ms']:.1f} "
        f"| {k['cpu_ms']:.1f} | {k['parse_ms']:.2f} | {k['statements']:.0f} | {k['sql_ms']:.1f} |"
        for kind, k in kinds.items()
    )
    lag_rows = "| not measured: no /usr/sbin/dovecot | | | | | | | |"
    if lag["idle"] is not None:
        lag_rows = "\n".join(
            f"| {mode} | {x['probes']} | {x['p50_s']:.3f} | {x['p95_s']:.3f} | {x['max_s']:.3f} | {x['min_s']:.3f} "
            f"| {x['append_ms']:.1f} | ≤ {target:g} s |"
            for mode, x, target in (
                ("IDLE", lag["idle"], 10),
                (f"polling every {args.poll_s:g} s", lag["poll"], args.poll_s),
            )
        )
    rest = result["mean_ms"] - result["parse_ms"] - result["sql_ms"]
    mailbox_rows = "\n".join(mailbox_row(m) for m in result["mailbox"]) or "| not measured: no Dovecot | | | | |"
    body = f"""
Measured {common.now_utc_text()}.

Machine:
{common.machine_markdown(common.machine())}

Command: `{common.command_line()}`; settings `cs_desk.settings.dev`, a database of its own
(`cs_desk_bench_email_<pid>`), a private Redis as broker (the outbox's deliveries are queued, not run).

**Throughput.** {args.tickets} complaints filed and answered by an agent through the services (each
with its `agent_replied` notification and signed Reply-To); {result["messages"]} raw messages built
with `tests/mail/corpus.py` in the mix below, shuffled, each handed to
`mail.inbound.mail_receive(raw, via="imap")` in one process: stored once, parsed, threaded and
written (message, files, SLA target, events, outbox rows). Every message's outcome, ticket,
category, stored text (its quoted history stripped) and files were checked against what was built.

| figure | value | target |
|---|---|---|
| messages per second (wall) | {result["per_s"]:.0f} ({result["messages"]} in {result["wall_s"]:.2f} s) | ≥ 100 |
| messages per second of this process's CPU (PostgreSQL's apart) | {result["per_s_cpu"]:.0f} | |
| per message: mean / p95 / max | {result["mean_ms"]:.1f} / {result["p95_ms"]:.1f} / {result["max_ms"]:.0f} ms | |
| of the mean: `mail_parse` (timed alone on the same bytes) | {result["parse_ms"]:.2f} ms | |
| of the mean: waiting on SQL ({result["statements"]:.1f} statements, commits included) | {result["sql_ms"]:.1f} ms | |
| of the mean: the rest (ORM, services, evidence checks, Celery dispatch) | {rest:.1f} ms | |

| kind (msg/s = 1000 / mean ms) | share | messages | msg/s | mean ms | p95 ms | CPU ms | parse ms | SQL | SQL ms |
|---|---|---|---|---|---|---|---|---|---|
{rows}

**Through the mailbox.** {args.messages} more messages of the same mix for each row, appended to
a Dovecot of their own (`tests/mail/dovecot.py`), then read by one `imap_fetch_once`: SEARCH,
FETCH in tens, each attempt counted on the message, the pipeline, the MOVE to the processed
folder. Timed from the read's start to its end; every message checked as above. In lanes, the
pipeline runs in processes of their own (`mail.imap.MailLanes`, one sender's messages always in
the same lane), as `manage.py mail_imap` runs it with MAIL_IMAP_WORKERS; in the reading process,
as the beat task (`mail_imap_poll_task`) runs it.

| the pipeline runs | messages | seconds | messages per second | target |
|---|---|---|---|---|
{mailbox_rows}

**Lag.** Dovecot started by the tests' harness (`tests/mail/dovecot.py`), `manage.py mail_imap
--idle` a process of its own on the run's database; consumers' replies (to the signed Reply-To of
{2 * args.probes} more answered tickets) appended over IMAP at random intervals (uniform in
[0, {args.gap_s:g} s] with IDLE, [0, {1.5 * args.poll_s:g} s] without), the database polled every
{POLL_DB_S * 1000:.0f} ms. Lag = the first poll that sees the consumer's message − the server's OK to
the APPEND (the mail has landed; the APPEND's round trip, median, in its column). Each reply was
checked: its text, once on its ticket, moved to the processed folder.

| mode | replies | p50 s | p95 s | max s | min s | APPEND ms | target |
|---|---|---|---|---|---|---|---|
{lag_rows}

{" ".join(verdicts(result, lag, args.poll_s))}

Dovecot tells a reader waiting in IDLE about new mail 0.5 s after it lands (`NOTIFY_DELAY_MSECS`
in its mailbox-watch.c); a reply that lands while the reader reads is taken by its next read at
once. Without IDLE the reader reads, then waits `MAIL_IMAP_POLL_S`: a reply landing just after a
read waits the interval plus the next read (SEARCH, FETCH, the pipeline, MOVE) — the bound.

Last line of output:

```
{json.dumps(summary(result, lag, args.poll_s))}
```
"""
    common.results_section_write("bench/email.py — incoming mail: throughput and mailbox lag", body, write=write)


def summary(result: dict, lag: dict, poll_s: float) -> dict:
    out = {key: result[key] for key in ("messages", "per_s", "per_s_cpu", "mean_ms", "parse_ms", "sql_ms")}
    out |= {f"mailbox_{m['workers']}_per_s": m["per_s"] for m in result["mailbox"]}
    for mode, figures in lag.items():
        out |= {f"{mode}_lag_{key}": figures[key] if figures else None for key in ("p50_s", "p95_s", "max_s")}
    return {**out, "poll_s": poll_s}


def main() -> None:
    args = parse_args()
    with common.run_owned("email", keep=args.keep) as run:
        # The replies' files go to the run's scratch directory, removed at the end.
        os.environ["CS_DESK_DATA_DIR"] = str(run.directory / "data")
        common.django_setup(db_name=run.db_name, redis_url=run.redis_url)
        common.migrate()
        measure(args, run, random.Random(args.seed))


def measure(args, run: common.Run, rng: random.Random) -> None:
    from django.conf import settings
    from django.db import connections

    from tickets.models import Category

    team, _supervisor, _manager, agents, categories = common.staff_create(agents=2)
    for code, name_zh, name_en, priority in (
        (settings.MAIL_CATEGORY_ADDRESSES["orders"], "订单错误", "Order error", "urgent"),
        (settings.MAIL_DEFAULT_CATEGORY, "其他", "Other", "low"),
    ):
        Category.objects.create(code=code, name_zh=name_zh, name_en=name_en, default_priority=priority, team=team)
    started = time.perf_counter()
    answered = tickets_answered(count=args.tickets, category=categories["normal"], agent=agents[0], prefix="buyer")
    probes = tickets_answered(count=2 * args.probes, category=categories["normal"], agent=agents[1], prefix="probe")
    common.log(f"{len(answered) + len(probes)} tickets filed and answered in {time.perf_counter() - started:.1f} s")
    mails = mails_build(answered, args.messages, rng)
    common.log(f"built {len(mails)} messages ({sum(len(m.raw) for m in mails) / len(mails) / 1024:.1f} KiB on average)")

    result, kinds = throughput(mails)
    for kind, k in kinds.items():
        common.log(f"  {kind:14} {k['messages']:5}  {k['per_s']:5.0f}/s  mean {k['mean_ms']:6.1f} ms  "
                   f"parse {k['parse_ms']:5.2f} ms  {k['statements']:3.0f} SQL {k['sql_ms']:5.1f} ms")  # fmt: skip
    mailbox = mailbox_throughputs(answered, args.messages, rng)
    lag = lags(args, run, probes, rng)
    result["mailbox"] = mailbox
    for line in verdicts(result, lag, args.poll_s):
        common.log(line)
    results_write(args, result, kinds, lag, write=not args.no_results)
    if not args.no_results:
        common.log(f"wrote {common.RESULTS.relative_to(common.ROOT)}")
    connections.close_all()
    print(json.dumps(summary(result, lag, args.poll_s)), flush=True)
    if args.smoke:
        common.log("smoke run: figures not judged, RESULTS.md not written")


if __name__ == "__main__":
    main()
