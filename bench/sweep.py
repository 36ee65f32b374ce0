"""SLA sweep benchmark: the cost of ``tickets.escalation.sla_sweep`` over a large
open backlog, when nothing is due and when 1 % of the backlog is due.

    .venv/bin/python bench/sweep.py [--tickets 1000000] [--due-fraction 0.01] [--keep]
    .venv/bin/python bench/sweep.py --template cs_desk_bench_sweep_1m   # load once, reuse after
    .venv/bin/python bench/sweep.py --smoke     # 5,000 tickets, 50 due: does it still run?

``--template NAME``: the first run saves its loaded database (after VACUUM, before
any sweep) as NAME and keeps it; a later run with the same NAME and sizes copies it
(``CREATE DATABASE … TEMPLATE``, seconds instead of the minutes of the load),
migrates the copy (so an older checkout's load serves a newer schema: before and
after on the same data) and measures that. Drop it by hand when done.

Creates a database of its own (``cs_desk_bench_sweep_<pid>``, dropped at the
end) and a private Redis, migrates, and loads N open tickets with COPY, each
with what ``tickets.services.ticket_create`` writes: the ticket (status new,
due_at), its first consumer message, its created / target_opened events, and
its first-response and resolution targets (clock, duration and ladder from the
policy of its priority, calendar of the policy, due_at and next_step_at from the
real calculator, steps_taken 0, no pauses); see ``bench/_sweep_data.py``. The
figures (``bench/_sweep_measure.py`` measures):

* ``sweep_idle_ms``: median of several ``sla_sweep(now=T_idle)`` with T_idle
  before every step instant in the database (nothing due);
* ``sweep_due_ms`` / ``queries_due``: one ``sla_sweep(now=T_due)`` at which
  exactly ``due`` tickets (half low priority, half urgent) have their
  first-response warning *and* breach due: a warning, a breach, a hand-over to
  the supervisor, two notifications each, and for the low ones a priority raise
  that re-dates the resolution target;
* ``sweep_idle_after_ms``: the next beat's sweep (T_due + 30 s), nothing left due;
* ``sweep_due_peak_rss_mib`` / ``sweep_due_rss_growth_mib``: the sweeping process's
  peak resident memory during the due sweep (Linux ``VmHWM``, reset just before it
  through ``/proc/self/clear_refs``), and how far above its size before the sweep.

Every run checks what the due sweep wrote (``verify``), smoke runs included.
Progress goes to stderr; the last stdout line is one JSON object. The figures
replace this script's section of ``bench/RESULTS.md`` (not with ``--profile``,
``--sweepers``, ``--no-results`` or ``--smoke``).
"""

from __future__ import annotations

import json
import math
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

# Run as a script, this file's directory comes first on sys.path, where a module of
# the same name as a standard one (bench/calculator.py) would shadow it: use the root.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from bench import _common as common  # noqa: E402 (after the sys.path fix)
from bench._sweep_data import SHANGHAI, T_DUE, Plan, load, min_step_at, vacuum_analyze  # noqa: E402
from bench._sweep_measure import explain_lock, parallel_sweep, timed_sweep  # noqa: E402


def parse_args():
    parser = common.parser_new(__doc__)
    parser.add_argument("--tickets", type=int, help="open tickets to load (default 1,000,000; smoke 5,000)")
    parser.add_argument("--due-fraction", type=float, default=0.01, help="share of them due at T_due (default 0.01)")
    parser.add_argument("--batch-size", type=int, help="sweep batch size (default: settings; smoke 20)")
    parser.add_argument("--idle-runs", type=int, help="idle sweeps to take the median of (default 15; smoke 3)")
    parser.add_argument(
        "--no-explain",
        action="store_true",
        help="skip EXPLAIN ANALYZE of the lock query (run before the due sweep, rolled back)",
    )
    parser.add_argument(
        "--sweepers", type=int, default=1, help="concurrent sweeps for the due sweep (processes, as workers would)"
    )
    parser.add_argument(
        "--helpers",
        type=int,
        default=1,
        help="also run the due sweep as deployed, on a copy of the database: one sweep that calls in up to "
        "this many more when its first batch is full (SLA_SWEEP_HELPERS; default 1, 0 to skip)",
    )
    parser.add_argument("--profile", metavar="PATH", help="run the due sweep under cProfile, dump stats to PATH")
    parser.add_argument(
        "--disable-trigger",
        action="append",
        default=[],
        metavar="TABLE.TRIGGER",
        help="disable this trigger on the measured database (e.g. to tell apart what another app's trigger costs)",
    )
    parser.add_argument(
        "--template",
        metavar="DATABASE",
        help="copy this database (a former run's load) instead of loading; without it, save the load as it",
    )
    args = parser.parse_args()
    # Smoke: small batches, so that several batches and the called-in helper run too.
    common.sizes_apply(args, tickets=(1_000_000, 5_000), batch_size=(None, 20), idle_runs=(15, 3))
    return args


# --- Checking -------------------------------------------------------------------------


def verify(*, counts: dict, due_ids: dict[str, list[int]], supervisor, batches: int | None) -> dict:
    """What a user relies on after the due sweep; raises on any difference."""
    from django.db import connection
    from django.db.models import Count

    from tickets.models import Notification, SLATarget, Ticket, TicketEvent

    due = len(due_ids["low"]) + len(due_ids["urgent"])
    all_due = due_ids["low"] + due_ids["urgent"]
    expected_counts = {
        "warning": due,
        "breach": due,
        "level2": 0,
        "merchant_warning": 0,
        "merchant_missed": 0,
        "tickets": due,
    }
    if batches is not None:
        expected_counts["batches"] = batches
    problems = [f"sla_sweep {k}: {counts.get(k)} != {v}" for k, v in expected_counts.items() if counts.get(k) != v]

    events = dict(
        TicketEvent.objects.exclude(kind__in=("created", "target_opened")).values_list("kind").annotate(n=Count("pk"))
    )
    expected_events = {
        "sla_warning": due,
        "sla_breach": due,
        "assigned": due,
        # A breach raises a low ticket to normal and re-dates nothing (docs/sla.md §6).
        "priority_changed": len(due_ids["low"]),
    }
    if events != expected_events:
        problems.append(f"events {events} != {expected_events}")
    breach_tickets = set(TicketEvent.objects.filter(kind="sla_breach").values_list("ticket_id", flat=True))
    if breach_tickets != set(all_due):
        problems.append(f"breached tickets differ from the due ones: {len(breach_tickets ^ set(all_due))} differ")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {TicketEvent._meta.db_table} WHERE step IS NOT NULL "
            "GROUP BY ticket_id, target_kind, cycle, step HAVING count(*) > 1) d"
        )
        (duplicates,) = cursor.fetchone()
    if duplicates:
        problems.append(f"{duplicates} duplicated escalation steps")

    changed = Ticket.objects.filter(pk__in=all_due)
    checks = {
        "overdue tickets": (Ticket.objects.filter(is_overdue=True).count(), due),
        "escalation level 1 (due)": (changed.filter(escalation_level=1).count(), due),
        "assigned to the supervisor (due)": (changed.filter(assignee=supervisor).count(), due),
        "low raised to normal": (
            Ticket.objects.filter(pk__in=due_ids["low"], priority="normal").count(),
            len(due_ids["low"]),
        ),
        "untouched tickets still level 0": (
            Ticket.objects.exclude(pk__in=all_due).exclude(escalation_level=0).count(),
            0,
        ),
        "first-response targets at steps_taken 2": (
            SLATarget.objects.filter(ticket_id__in=all_due, kind="first_response", steps_taken=2).count(),
            due,
        ),
        "notifications (warning + breach)": (Notification.objects.count(), 2 * due),
        "breach notifications to the supervisor": (
            Notification.objects.filter(kind="sla_breach", recipient=supervisor.email).count(),
            due,
        ),
    }
    problems += [f"{name}: {got} != {want}" for name, (got, want) in checks.items() if got != want]
    if problems:
        raise AssertionError("; ".join(problems))
    return {"events": events, "checks": {k: v[0] for k, v in checks.items()}}


# --- Memory and the reusable load ------------------------------------------------------


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def peak_reset() -> int | None:
    """Reset the process's peak resident size (Linux: ``5`` to ``clear_refs``) and
    return its resident size now, in KiB (None where that cannot be done)."""
    import gc

    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return None
    return _status_kib("VmRSS")


def peak_read(before: int | None) -> dict:
    """The peak resident size since ``peak_reset`` (``VmHWM``), else the process's
    lifetime peak (``ru_maxrss``), in MiB, and its growth over ``before``."""
    import resource

    peak = _status_kib("VmHWM") if before is not None else None
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "peak_rss_mib": round(peak / 1024, 1),
        "rss_growth_mib": round((peak - before) / 1024, 1) if before is not None else None,
    }


def template_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(
        host=common.PG_HOST, port=common.PG_PORT, user=common.PG_USER, dbname="postgres", autocommit=True
    ) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def template_loaded(plan: Plan) -> dict:
    """What ``load`` returns, for a database copied from a template: the ids of the
    due tickets follow from the plan (ids are given in its order), the counts from
    the tables; the template must hold the plan's tickets."""
    from tickets.models import Message, SLATarget, Ticket, TicketEvent

    tickets = Ticket.objects.count()
    if tickets != len(plan.rows):
        raise SystemExit(f"the template holds {tickets:,} tickets, not {len(plan.rows):,}: use another name")
    due_ids: dict[str, list[int]] = {"low": [], "urgent": []}
    for ticket_id, (_created, priority, due) in enumerate(plan.rows, 1):
        if due:
            due_ids[priority].append(ticket_id)
    counts = {
        "tickets": tickets,
        "targets": SLATarget.objects.count(),
        "messages": Message.objects.count(),
        "events": TicketEvent.objects.count(),
        "calculator_runs": 0,
    }
    return {"due_ids": due_ids, "counts": counts}


def staff_of_template():
    """The staff ``common.staff_create`` made in the template."""
    from django.contrib.auth import get_user_model

    from tickets.models import Category, Team

    users = get_user_model().objects
    team = Team.objects.get(name="售后一组 (bench)")
    agents = list(users.filter(username__startswith="bench-agent").order_by("username"))
    categories = {c.default_priority: c for c in Category.objects.filter(code__startswith="bench-")}
    return team, users.get(username="bench-supervisor"), users.get(username="bench-manager"), agents, categories


# --- Report ---------------------------------------------------------------------------


def results_write(result: dict, info: dict, extra: dict, *, write: bool) -> None:
    shanghai = lambda d: d.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S %Z")  # noqa: E731
    python_ms = result["sweep_due_ms"] - result["sweep_due_db_ms"] - result["sweep_due_commit_ms"]
    top = "\n".join(f"| {ms:,.0f} | `{sql}` |" for ms, sql in extra["top_statements"])
    load_label = (
        "copy of the loaded database saved by an earlier run (`--template`), then `migrate`"
        if result["from_template"]
        else "load (COPY into the indexed tables, deferred foreign-key checks at COMMIT)"
    )
    called_in = ""
    if "sweep_due_called_in_ms" in result:
        shares = ", ".join(f"{p['tickets']:,} tickets in {p['ms']:,} ms" for p in result["called_in_per_sweeper"])
        called_in = (
            f"| the same, as deployed (on a copy of the database): beat's sweep calls in "
            f"{result['called_in_sweepers'] - 1} more when its first batch is full (`SLA_SWEEP_HELPERS`) | "
            f"{result['sweep_due_called_in_ms']:,.0f} ms (per sweeper: "
            f"{shares}) "
            "| |\n"
        )
    body = f"""
Measured {common.now_utc_text()}.

Machine:
{common.machine_markdown(info)}

Command: `{common.command_line()}` (a database of its own, `cs_desk_bench_sweep_<pid>`,
and a private Redis; settings `cs_desk.settings.dev`).

Data: {result["tickets"]:,} open tickets (status new, 30 % assigned to one of 10 agents), each loaded with
COPY exactly as `ticket_create` writes it: first-response and resolution targets (clock, duration,
ladder and calendar from the policy of its priority; due_at and next_step_at from the real calculator;
steps_taken 0; no pauses), the first consumer message, and the created / target_opened events
({extra["rows"]}). Priorities of the not-due tickets: 60 % normal, 20 % urgent, 20 % low.
`VACUUM (ANALYZE)` and a CHECKPOINT after the load. Timeline (Asia/Shanghai): idle sweeps at {shanghai(extra["t_idle"])}
(1 s before the earliest step instant in the database); the due sweep at {shanghai(extra["t_due"])}, when
exactly {result["due"]:,} tickets ({extra["due_low"]:,} low, {extra["due_urgent"]:,} urgent) have their
first-response warning and breach due; the "after" idle sweep at T_due + 30 s (the next beat).
Each due ticket gets: warning + breach events, hand-over to the team supervisor (assigned event),
2 outbox notifications; the low ones also a raise to normal and a re-dated resolution target.

| figure | value | target |
|---|---|---|
| {load_label} | {result["load_s"]:.1f} s | |
| VACUUM (ANALYZE) + CHECKPOINT | {extra["vacuum_s"]:.1f} s | |
| sweep, nothing due (median of {extra["idle_runs"]}) | {result["sweep_idle_ms"]:.2f} ms, \
{result["queries_idle"]} query | ≤ 1 ms |
| sweep, {result["due"]:,} due, one sweeping process | {result["sweep_due_ms"]:,.0f} ms, {result["queries_due"]} \
statements, {result["batches"]} batches of ≤ {result["batch_size"]} | ≤ 1,200 ms |
{called_in}| of which in SQL statements and COPYs (psycopg's client-side work included) | \
{result["sweep_due_db_ms"]:,.0f} ms | |
| of which in COMMITs (deferred foreign-key checks run there) | {result["sweep_due_commit_ms"]:,.0f} ms | |
| of which the rest (Python: ORM, ladder, calculator, rendering) | {python_ms:,.0f} ms | |
| CPU time of the sweeping process (all of the above on the client side) | \
{result["sweep_due_cpu_ms"]:,.0f} ms | |
| peak resident memory of the sweeping process during the due sweep (growth over its size before) | \
{result["sweep_due_peak_rss_mib"]:,.1f} MiB (+{result["sweep_due_rss_growth_mib"]} MiB) | |
| next sweep, nothing left due (median) | {result["sweep_idle_after_ms"]:.2f} ms | ≤ 1 ms |

Steps taken by the due sweep: `{json.dumps(result["steps"], ensure_ascii=False)}`.
Verified afterwards: {extra["verified"]}.

Statements of the due sweep by total time (ms):

| ms | statement |
|---|---|
{top}

Lock query (the sweep's first `FOR UPDATE` statement, as `sla_sweep` sent it), nothing due:

```
{extra["explain_idle"]}
```

Lock query, first batch of the due sweep (EXPLAIN ANALYZE just before the measured sweep, rolled back):

```
{extra["explain_due"]}
```

Last line of output:

```
{json.dumps(result)}
```
"""
    common.results_section_write("bench/sweep.py — SLA sweep over a large backlog", body, write=write)


def called_in_sweep(args, batch_size: int, loaded: dict, supervisor, *, database: str) -> dict:
    """The due sweep as deployed, on the copy of the database taken before the
    measured one: beat's sweep starts alone and, its first batch full, calls in
    up to ``--helpers`` more (``tickets.tasks.sla_sweep_task``)."""
    from django.db import connection, connections

    connections.close_all()
    own = connection.settings_dict["NAME"]
    connection.settings_dict["NAME"] = database
    try:
        sweepers = 1 + args.helpers
        counts, ms, meter = parallel_sweep(T_DUE, batch_size, sweepers, called_in=True)
        common.log(f"called-in due sweep ({sweepers} sweepers): {ms:,.0f} ms, per sweeper {meter.per_sweeper}")
        verify(counts=counts, due_ids=loaded["due_ids"], supervisor=supervisor, batches=None)
        return {"ms": ms, "sweepers": sweepers, "per_sweeper": meter.per_sweeper}
    finally:
        connections.close_all()
        connection.settings_dict["NAME"] = own


def main() -> None:
    args = parse_args()
    with common.run_owned("sweep", keep=args.keep) as run:
        copy_name = run.database_extra("copy")  # the same load, for the called-in run
        common.django_setup(db_name=run.db_name, redis_url=run.redis_url)
        from django.conf import settings

        batch_size = args.batch_size or settings.SLA_SWEEP_BATCH_SIZE
        plan = Plan(args.tickets, args.due_fraction)
        from_template = bool(args.template) and template_exists(args.template)
        if from_template:
            from django.db import connections

            connections.close_all()
            started = time.perf_counter()
            common.database_clone(args.template, run.db_name)
            load_s = time.perf_counter() - started
            common.log(f"copied the template {args.template} in {load_s:.1f} s; migrating")
            common.migrate()
            staff = staff_of_template()
            loaded = template_loaded(plan)
        else:
            common.log("migrating")
            common.migrate()
            staff = common.staff_create()
            common.log(f"loading {args.tickets:,} tickets ({plan.due:,} due at T_due) with COPY")
            started = time.perf_counter()
            loaded = load(plan, staff)
            load_s = time.perf_counter() - started
            common.log(f"loaded in {load_s:.1f} s ({loaded['counts']['calculator_runs']:,} calculator runs)")
        supervisor = staff[1]
        started = time.perf_counter()
        vacuum_analyze()
        vacuum_s = time.perf_counter() - started
        common.log(f"VACUUM ANALYZE in {vacuum_s:.1f} s")
        if args.template and not from_template:
            from django.db import connections

            connections.close_all()
            common.database_clone(run.db_name, args.template)
            common.log(f"saved the load as {args.template} (kept: drop it by hand when done)")
        if args.disable_trigger:
            from django.db import connection

            with connection.cursor() as cursor:
                for name in args.disable_trigger:
                    table, trigger = name.split(".")
                    cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER "{trigger}"')
            common.log(f"disabled the triggers {args.disable_trigger}")

        earliest = min_step_at()
        t_idle = earliest - timedelta(seconds=1)
        idle_ms = []
        queries_idle = 0
        for _ in range(args.idle_runs):
            counts, ms, meter = timed_sweep(t_idle, batch_size)
            if counts["tickets"]:
                raise AssertionError(f"idle sweep took steps: {counts}")
            idle_ms.append(ms)
            queries_idle = meter.count
        sweep_idle_ms = statistics.median(idle_ms)
        common.log(f"idle sweep at {t_idle.isoformat()}: median {sweep_idle_ms:.2f} ms, {queries_idle} query")
        explain_idle = explain_lock(t_idle, batch_size)
        explain_due = "(skipped: --no-explain)"
        if not args.no_explain:
            explain_due = explain_lock(T_DUE, batch_size)

        if args.helpers:
            from django.db import connections

            connections.close_all()
            started = time.perf_counter()
            common.database_clone(run.db_name, copy_name)
            common.log(f"copied the database for the called-in run in {time.perf_counter() - started:.1f} s")

        common.log(f"due sweep at {T_DUE.isoformat()} ({plan.due:,} tickets due)")
        memory = {"peak_rss_mib": None, "rss_growth_mib": None}
        if args.sweepers > 1:
            counts, sweep_due_ms, meter = parallel_sweep(T_DUE, batch_size, args.sweepers)
            common.log(f"  per sweeper: {meter.per_sweeper}")
        else:
            rss_before = peak_reset()
            counts, sweep_due_ms, meter = timed_sweep(T_DUE, batch_size, profile=args.profile)
            memory = peak_read(rss_before)
            common.log(f"  memory: {memory}")
        common.log(
            f"due sweep: {sweep_due_ms:,.0f} ms, {meter.count} queries ({meter.seconds * 1000:,.0f} ms in SQL, "
            f"{meter.commit_seconds * 1000:,.0f} ms in COMMIT; "
            f"{meter.cpu_seconds * 1000:,.0f} ms CPU in this process), "
            f"counts {counts}"
        )
        verified = verify(
            counts=counts,
            due_ids=loaded["due_ids"],
            supervisor=supervisor,
            batches=math.ceil(plan.due / batch_size) if args.sweepers == 1 else None,
        )
        common.log(f"verified: {verified}")

        after_ms = []
        for _ in range(args.idle_runs):
            after_counts, ms, _meter = timed_sweep(T_DUE + timedelta(seconds=30), batch_size)
            if after_counts["tickets"]:
                raise AssertionError(f"the sweep after the due one took steps again: {after_counts}")
            after_ms.append(ms)
        sweep_idle_after_ms = statistics.median(after_ms)
        common.log(f"next sweep (T_due + 30 s): median {sweep_idle_after_ms:.2f} ms")

        called_in = None
        if args.helpers:
            called_in = called_in_sweep(args, batch_size, loaded, supervisor, database=copy_name)

        result = {
            "tickets": args.tickets,
            "load_s": round(load_s, 1),
            "sweep_idle_ms": round(sweep_idle_ms, 2),
            "queries_idle": queries_idle,
            "due": plan.due,
            "sweep_due_ms": round(sweep_due_ms, 1),
            "sweep_due_db_ms": round(meter.seconds * 1000, 1),
            "sweep_due_commit_ms": round(meter.commit_seconds * 1000, 1),
            "sweep_due_cpu_ms": round(meter.cpu_seconds * 1000, 1),
            "queries_due": meter.count,
            "batches": counts["batches"],
            "batch_size": batch_size,
            "steps": {k: counts[k] for k in ("warning", "breach", "level2", "merchant_warning", "merchant_missed")},
            "sweep_idle_after_ms": round(sweep_idle_after_ms, 2),
            "sweep_due_peak_rss_mib": memory["peak_rss_mib"],
            "sweep_due_rss_growth_mib": memory["rss_growth_mib"],
            "from_template": from_template,
            "sweepers": args.sweepers,
            "profiled": bool(args.profile),
            "smoke": args.smoke,
        }
        if called_in is not None:
            result["sweep_due_called_in_ms"] = round(called_in["ms"], 1)
            result["called_in_sweepers"] = called_in["sweepers"]
            result["called_in_per_sweeper"] = called_in["per_sweeper"]
        print(f"lock query, nothing due:\n{explain_idle}", file=sys.stderr)
        print(f"lock query, due:\n{explain_due}", file=sys.stderr)
        print("statements of the due sweep by total time:", file=sys.stderr)
        for seconds, sql in meter.top():
            print(f"  {seconds * 1000:8.1f} ms  {sql}", file=sys.stderr)
        if args.profile:
            import pstats

            stats = pstats.Stats(args.profile, stream=sys.stderr)
            stats.sort_stats("cumulative").print_stats(35)
            stats.sort_stats("tottime").print_stats(25)
        if not args.profile and args.sweepers == 1:  # smoke and --no-results: built, not written
            extra = {
                "rows": ", ".join(f"{k} {v:,}" for k, v in loaded["counts"].items() if k != "calculator_runs"),
                "vacuum_s": vacuum_s,
                "idle_runs": args.idle_runs,
                "t_idle": t_idle,
                "t_due": T_DUE,
                "due_low": len(loaded["due_ids"]["low"]),
                "due_urgent": len(loaded["due_ids"]["urgent"]),
                "verified": "; ".join(f"{k} = {v:,}" for k, v in verified["checks"].items())
                + "; no duplicated escalation step; events "
                + json.dumps(verified["events"]),
                "top_statements": [(s * 1000, sql) for s, sql in meter.top()],
                "explain_idle": explain_idle,
                "explain_due": explain_due,
            }
            results_write(result, common.machine(), extra, write=not args.no_results)
            if not args.no_results:
                common.log(f"wrote {common.RESULTS.relative_to(common.ROOT)}")
        print(json.dumps(result), flush=True)
        if args.smoke:
            common.log("smoke run: figures not judged, RESULTS.md not written")


if __name__ == "__main__":
    main()
