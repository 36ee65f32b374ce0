"""The managers' reports over a large history.

Creates a PostgreSQL database of its own (``cs_desk_bench_reports_<pid>``,
dropped at the end) and a private Redis, migrates, and loads N tickets (default 1,000,000) spread over Y years
(default 1: 3,000,000 over 3 years is the same traffic with three times the history) with
``INSERT … SELECT`` from ``generate_series`` on the server, over 20 teams of 3
categories, 200 merchants and 10 agents. Each ticket has the SLA targets the
engine would have written: a first response and a resolution (met, met late,
missed, or still running for the 10 % still open), a next response for one in
three, a merchant reply for one in ten; each met target carries the business
and calendar seconds it took. The events: one "created" per ticket, one
"target met" per met target, and the escalation steps (warning, breach,
level 2) of the targets that went that far. The load skips the triggers that
keep the SLA report's rollups and then builds them as ``manage.py
reports_rollup_rebuild`` does (``rollups_s``).

Then it times, in-process through Django's test client (routing, middleware,
the selectors, the template), as a manager who sees every ticket:

* the SLA report over the last 90 days grouped by team (``report_ms``), and its
  selector alone, from the rollups (``sla_report_ms``) and from the targets as
  before the rollups (``sla_exact_ms``: ``sla_report_exact``, the old query);
* the hour-of-week heatmap over the same 90 days (the selector alone,
  ``heatmap_ms``), and the whole volume page (heatmap and forecast);
* the backlog page;
* the rollups' upkeep: an ``UPDATE … FROM`` of 1,000 targets as the sweep writes
  a batch (each a step further up the ladder), with the triggers and without
  them, and the fold of the ledger rows it left (rolled back).

Prints the figures, writes them into ``bench/RESULTS.md``, and prints one JSON
object as its last line. The loader's SQL names only the columns the benchmark
is about; the other columns of each table get the model's defaults
(``_common.insert_select``).

    .venv/bin/python bench/reports.py [--tickets N] [--years Y] [--runs R] [--keep]
    .venv/bin/python bench/reports.py --reuse cs_desk_bench_reports_<pid>   # a --keep run's data, no loading
    .venv/bin/python bench/reports.py --smoke     # 5,000 tickets, 2 runs a page, nothing written
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

# bench/ holds a script named like the standard library's ``queue``: take this
# directory off the import path, and put the project's root on it.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench import _common as common  # noqa: E402

TEAMS = 20
AGENTS = 10
MERCHANTS = 200
DAYS = 90


def parse_args() -> argparse.Namespace:
    parser = common.parser_new(__doc__)
    parser.add_argument("--tickets", type=int, help="tickets to load (default 1,000,000; smoke 5,000)")
    parser.add_argument("--years", type=int, default=1, help="years of history the tickets are spread over (default 1)")
    parser.add_argument("--runs", type=int, help="timed requests per page, after 2 warm-up ones (default 10; smoke 2)")
    parser.add_argument("--reuse", metavar="DATABASE", help="time the database a --keep run left (no loading)")
    args = parser.parse_args()
    common.sizes_apply(args, tickets=(1_000_000, 5_000), runs=(10, 2))
    return args


# Tickets: created evenly over the years before now; one in ten still open.
# The columns the SELECTs below give, in order; the others get the model's defaults.
TICKET_COLUMNS = [
    "reference", "tracking_token", "subject", "requester_name", "requester_email", "requester_phone", "language",
    "channel", "category_id", "priority", "status", "team_id", "assignee_id", "merchant_id", "order_number",
    "due_at", "is_overdue", "escalation_level", "first_responded_at", "resolved_at", "closed_at", "created_at",
    "updated_at",
]  # fmt: skip
TARGET_COLUMNS = [
    "ticket_id", "kind", "cycle", "status", "clock", "duration", "calendar_id", "warning_percent", "breach_percent",
    "level2_percent", "started_at", "pauses", "due_at", "next_step_at", "steps_taken", "met_at", "closed_at",
    "business_seconds", "calendar_seconds",
]  # fmt: skip
EVENT_COLUMNS = ["ticket_id", "kind", "created_at", "target_id", "target_kind", "cycle", "step", "data"]

# ``$name``: the tables, from the models (``_common.tables``).
TICKETS_WITH = """
WITH cats AS (
    SELECT array_agg(id ORDER BY id) AS ids, array_agg(team_id ORDER BY id) AS teams,
           array_agg(default_priority ORDER BY id) AS prios
    FROM $category WHERE code LIKE 'bench-%%'
), merchants AS (
    SELECT array_agg(id ORDER BY id) AS ids FROM $merchant
), agents AS (
    SELECT array_agg(id ORDER BY id) AS ids FROM $user WHERE username LIKE 'bench-agent%%'
), rows AS (
    SELECT g,
           1 + abs(hashtext('c' || g)) %% array_length(cats.ids, 1) AS c,
           g %% 10 = 0 AS is_open,
           %(now)s::timestamptz - (%(n)s - g) * (interval '1 day' * %(days)s / %(n)s) - interval '1 minute' AS created,
           cats.ids AS cat_ids, cats.teams AS team_ids, cats.prios AS prios,
           merchants.ids AS merchant_ids, agents.ids AS agent_ids
    FROM generate_series(1, %(n)s) AS g, cats, merchants, agents
)"""
TICKETS_SELECT = """
SELECT
    'CS-' || to_char(created AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || '-' || lpad(g::text, 7, '0'),
    md5(g::text) || md5((g * 31)::text),
    '退款七天没到账 ' || g, '用户' || (g %% 5000), '', '138' || lpad((g %% 100000000)::text, 8, '0'), 'zh-hans',
    (ARRAY['web', 'web', 'web', 'phone', 'chat', 'app'])[1 + g %% 6],
    cat_ids[c], prios[c],
    CASE WHEN is_open THEN 'open' ELSE 'closed' END,
    team_ids[c],
    agent_ids[1 + abs(hashtext('a' || g)) %% array_length(agent_ids, 1)],
    CASE WHEN g %% 10 = 3 THEN merchant_ids[1 + g %% array_length(merchant_ids, 1)] END,
    '',
    NULL::timestamptz, false, 0,
    CASE WHEN NOT is_open THEN created + interval '3 hours' END,
    CASE WHEN NOT is_open THEN created + interval '2 days' END,
    CASE WHEN NOT is_open THEN created + interval '9 days' END,
    created, created
FROM rows
"""

# Targets: (kind, share of tickets, duration). Outcomes drawn per target: 85 % met
# on time, 8 % met late, 7 % missed (the sweep took the breach step); a target of
# an open ticket young enough is still running.
TARGETS_SELECT = """
SELECT t.id, k.kind, 1,
       CASE WHEN t.status = 'open' AND k.kind = 'resolution' THEN 'running'
            WHEN o.draw < 93 THEN 'met' ELSE 'missed' END,
       CASE WHEN t.priority = 'urgent' OR k.kind = 'merchant_reply' THEN 'calendar' ELSE 'business' END,
       k.duration, %(calendar)s, 75, 100, 150,
       t.created_at + k.offset_, '[]'::jsonb,
       t.created_at + k.offset_ + k.duration,
       NULL::timestamptz,
       CASE WHEN t.status = 'open' AND k.kind = 'resolution' THEN 0 WHEN o.draw < 85 THEN 1
            WHEN o.draw < 96 THEN 2 ELSE 3 END,
       CASE WHEN t.status = 'open' AND k.kind = 'resolution' THEN NULL
            WHEN o.draw < 85 THEN t.created_at + k.offset_ + k.duration * (o.frac / 100.0)
            WHEN o.draw < 93 THEN t.created_at + k.offset_ + k.duration * (1 + o.frac / 200.0) END,
       CASE WHEN t.status = 'open' AND k.kind = 'resolution' THEN NULL
            ELSE t.created_at + k.offset_ + k.duration * (1 + o.frac / 200.0) END,
       CASE WHEN o.draw < 93 AND NOT (t.status = 'open' AND k.kind = 'resolution')
            THEN (extract(epoch FROM k.duration) * o.frac / 300.0)::int END,
       CASE WHEN o.draw < 93 AND NOT (t.status = 'open' AND k.kind = 'resolution')
            THEN (extract(epoch FROM k.duration) * o.frac / 100.0)::int END
FROM $ticket t
CROSS JOIN (VALUES
    ('first_response', 1, interval '24 hours', interval '0'),
    ('resolution', 1, interval '72 hours', interval '0'),
    ('next_response', 3, interval '24 hours', interval '5 hours'),
    ('merchant_reply', 10, interval '24 hours', interval '1 hour')
) AS k(kind, every, duration, offset_)
CROSS JOIN LATERAL (
    SELECT abs(hashtext(k.kind || t.id)) %% 100 AS draw, 1 + abs(hashtext('f' || k.kind || t.id)) %% 99 AS frac
) AS o
WHERE t.id %% k.every = 0 AND (k.kind <> 'merchant_reply' OR t.merchant_id IS NOT NULL OR k.every = 10)
"""

EVENTS_SELECT = """
SELECT id, 'created', created_at, NULL::bigint, '', NULL::integer, NULL::smallint, '{}'::jsonb FROM $ticket
UNION ALL
SELECT ticket_id, 'target_met', met_at, id, kind, cycle, NULL, '{}'::jsonb
FROM $slatarget WHERE met_at IS NOT NULL
UNION ALL
SELECT ticket_id, 'sla_warning', started_at + duration * 0.75, id, kind, cycle, 1, '{}'::jsonb
FROM $slatarget WHERE steps_taken >= 1
UNION ALL
SELECT ticket_id, CASE WHEN kind = 'merchant_reply' THEN 'merchant_missed' ELSE 'sla_breach' END, due_at, id, kind,
       cycle, 2, '{}'::jsonb
FROM $slatarget WHERE steps_taken >= 2
UNION ALL
SELECT ticket_id, 'sla_level2', started_at + duration * 1.5, id, kind, cycle, 3, '{}'::jsonb
FROM $slatarget WHERE steps_taken >= 3 AND kind <> 'merchant_reply'
"""


def load(n: int, years: int) -> dict:
    from string import Template

    from django.db import connection, transaction
    from django.utils import timezone

    from tickets.models import BusinessCalendar, SLATarget, Ticket, TicketEvent

    calendar = BusinessCalendar.objects.get(is_default=True)
    now = timezone.now()
    tables = common.tables()
    sql = lambda text: Template(text).substitute(tables)  # noqa: E731
    statements = []
    for name, model, columns, select, with_, params in (
        ("tickets", Ticket, TICKET_COLUMNS, TICKETS_SELECT, TICKETS_WITH, {"n": n, "now": now, "days": 365 * years}),
        ("targets", SLATarget, TARGET_COLUMNS, TARGETS_SELECT, "", {"calendar": calendar.pk}),
        ("events", TicketEvent, EVENT_COLUMNS, EVENTS_SELECT, "", {}),
    ):
        statement, rest = common.insert_select(model, columns, sql(select), with_=sql(with_))
        statements.append((name, statement, {**params, **rest}))
    counts = {}
    with transaction.atomic(), connection.cursor() as cursor:
        # No triggers during the bulk load (the rollups' would append every target to
        # their ledger): the rollups are built afterwards, as the rebuild command does.
        cursor.execute("SET LOCAL session_replication_role = replica")
        for name, statement, params in statements:
            started = time.perf_counter()
            cursor.execute(statement, params)
            counts[name] = cursor.rowcount
            common.log(f"  {name}: {cursor.rowcount:,} rows in {time.perf_counter() - started:.1f} s")
        # The open tickets' denormalised SLA state, as the engine keeps it.
        cursor.execute(
            f"""UPDATE {tables["ticket"]} t SET due_at = s.due_at, is_overdue = s.due_at < %s
               FROM {tables["slatarget"]} s
               WHERE s.ticket_id = t.id AND s.kind = 'resolution' AND s.status = 'running'""",
            [now],
        )
    with connection.cursor() as cursor:
        for table in ("ticket", "slatarget", "ticketevent"):
            cursor.execute(f"VACUUM (ANALYZE) {tables[table]}")
    return {**counts, **rollups_populate()}


def rollups_populate() -> dict:
    """Build the SLA report's rollups from the loaded targets, as ``manage.py
    reports_rollup_rebuild`` does."""
    from django.db import connection

    from reports.rollups import rollups_rebuild
    from reports.rollups_sql import ROLLUP

    started = time.perf_counter()
    rolled = rollups_rebuild()
    figures = {"rollups_s": round(time.perf_counter() - started, 1), "rollup_rows": rolled["rollup_rows"]}
    common.log(f"  rollups: {figures['rollup_rows']:,} rows in {figures['rollups_s']} s")
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {ROLLUP}")
    return figures


UPKEEP_TARGETS = 1_000


def upkeep() -> dict:
    """What the rollups cost a writer: one UPDATE … FROM of UPKEEP_TARGETS running
    targets (each a step further up the ladder, as a sweep batch writes them), timed
    without the triggers and with them, then the fold of the ledger rows that left.
    Rolled back: the data stays as loaded."""
    from django.db import connection, transaction

    from reports.rollups import rollups_compact

    tables = common.tables()
    update = f"""UPDATE {tables["slatarget"]} s SET steps_taken = s.steps_taken + 1
        FROM (SELECT id FROM {tables["slatarget"]} WHERE status = 'running' AND steps_taken < 3
              ORDER BY id LIMIT {UPKEEP_TARGETS}) picked WHERE s.id = picked.id"""
    figures = {}

    class Rollback(Exception):
        pass

    for name, role in (("write_plain_ms", "replica"), ("write_with_rollups_ms", "origin")):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL session_replication_role = {role}")
                started = time.perf_counter()
                cursor.execute(update)
                figures[name] = round((time.perf_counter() - started) * 1000, 1)
                if role == "origin":
                    started = time.perf_counter()
                    figures["fold_changes"] = rollups_compact()["changes"]
                    figures["fold_ms"] = round((time.perf_counter() - started) * 1000, 1)
                raise Rollback
        except Rollback:
            pass
    return figures


def summary(times: list[float]) -> dict:
    ordered = sorted(times)
    return {"median_ms": round(statistics.median(ordered), 1), "max_ms": round(ordered[-1], 1)}


def main() -> None:
    args = parse_args()
    with common.run_owned("reports", keep=args.keep, reuse=args.reuse) as run:
        common.django_setup(db_name=run.db_name, redis_url=run.redis_url)
        if not args.reuse:
            common.migrate()
        from django.conf import settings
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        from reports import selectors as reports
        from tickets.models import SLATarget

        if args.reuse:
            from django.contrib.auth import get_user_model

            from reports.models import SLARollup
            from tickets.models import Ticket, TicketEvent

            manager = get_user_model().objects.get(username="bench-manager")
            args.tickets = Ticket.objects.count()
            counts = {"targets": SLATarget.objects.count(), "events": TicketEvent.objects.count()}
            counts.update(rollups_s=0.0, rollup_rows=SLARollup.objects.count())
            if not counts["rollup_rows"]:  # a --keep run stopped before its rollups were built
                counts.update(rollups_populate())
            load_s = 0.0
        else:
            _agents, manager, _categories = common.marketplace_create(teams=TEAMS, agents=AGENTS, merchants=MERCHANTS)
            common.log(f"loading {args.tickets:,} tickets over a year")
            started = time.perf_counter()
            counts = load(args.tickets, args.years)
            load_s = time.perf_counter() - started

        client = Client()
        client.force_login(manager)
        zone = reports.reader_zone(manager)
        period = reports.Period.last_days(DAYS, now=timezone.now(), zone=zone)
        query = f"start={period.first.isoformat()}&end={period.last.isoformat()}"
        report_url = f"/reports/sla/?{query}&group=team"
        asked = {"period": period, "reader": None, "grouping": reports.GROUPINGS["team"]}
        from reports.selectors.sla import sla_report_exact

        def page(url: str):
            def get():
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                return response

            return get

        results = {
            "report": summary(common.timed_calls(page(report_url), args.runs)),
            "sla_report": summary(common.timed_calls(lambda: reports.sla_report(**asked), args.runs)),
            "sla_exact": summary(common.timed_calls(lambda: sla_report_exact(**asked), args.runs)),
            "heatmap": summary(common.timed_calls(lambda: reports.heatmap(period=period, reader=None), args.runs)),
            "volume_page": summary(common.timed_calls(page(f"/reports/volume/?{query}"), args.runs)),
            "backlog_page": summary(common.timed_calls(page("/reports/backlog/"), args.runs)),
        }
        with CaptureQueriesContext(connection) as queries:
            body = client.get(report_url).content.decode()
        targets_in_period = SLATarget.objects.filter(started_at__gte=period.start, started_at__lt=period.end).count()
        rolled, exact = reports.sla_report(**asked), sla_report_exact(**asked)
        assert [(t.met, t.breached, t.open) for t in rolled.summary] == [
            (t.met, t.breached, t.open) for t in exact.summary
        ], "the rollups' counts differ from the targets'"
        error = max(
            abs(mine - theirs) / theirs
            for r, e in zip(rolled.summary, exact.summary, strict=True)
            for mine, theirs in zip(r.business + r.calendar, e.business + e.calendar, strict=True)
            if theirs
        )
        costs = upkeep()
        for name, r in results.items():
            common.log(f"{name:13} median {r['median_ms']} ms, max {r['max_ms']} ms")
        figures = {
            "tickets": args.tickets,
            "targets": counts["targets"],
            "events": counts["events"],
            "targets_in_90_days": targets_in_period,
            "years": args.years,
            "load_s": round(load_s, 1),
            "rollups_s": counts["rollups_s"],
            "rollup_rows": counts["rollup_rows"],
            "report_ms": results["report"]["median_ms"],
            "report_max_ms": results["report"]["max_ms"],
            "report_queries": len(queries),
            "sla_report_ms": results["sla_report"]["median_ms"],
            "sla_exact_ms": results["sla_exact"]["median_ms"],
            "percentile_error": round(error, 5),
            **costs,
            "heatmap_ms": results["heatmap"]["median_ms"],
            "heatmap_max_ms": results["heatmap"]["max_ms"],
            "volume_page_ms": results["volume_page"]["median_ms"],
            "backlog_page_ms": results["backlog_page"]["median_ms"],
        }
        assert 'id="groups"' in body and f"售后{TEAMS:02d}组" in body, "the report did not render the teams"
        results_write(figures, report_url, common.machine(), write=not args.no_results)
        print(json.dumps(figures))
        if args.smoke:
            common.log("smoke run: figures not judged, RESULTS.md not written")


def results_write(figures: dict, report_url: str, info: dict, *, write: bool) -> None:
    report_row = (
        f"| SLA report, 90 days, grouped by team (`{report_url.split('?')[0]}`, whole page, "
        f"{figures['report_queries']} queries) | {figures['report_ms']} ms | {figures['report_max_ms']} ms |"
    )
    body = f"""Measured {common.now_utc_text()}.

Machine:
{common.machine_markdown(info)}

Command: `{common.command_line()}` (a database of its own, `cs_desk_bench_reports_<pid>`, and a
private Redis; settings `cs_desk.settings.dev`).

Data: {figures["tickets"]:,} tickets created evenly over the last {365 * figures["years"]} days (20 teams, 3 categories
each, 200 merchants, 10 agents), {figures["targets"]:,} SLA targets, {figures["events"]:,} events;
{figures["targets_in_90_days"]:,} targets started in the last 90 days. Loaded in {figures["load_s"]} s, of which
the SLA report's rollups (as `manage.py reports_rollup_rebuild` builds them: {figures["rollup_rows"]:,} rows)
{figures["rollups_s"]} s.

Timed in-process through Django's test client as a manager (every ticket), median of the runs after 2 warm-ups:

| what | median | max |
|---|---|---|
{report_row}
| SLA report selector, from the rollups (`sla_report`) | {figures["sla_report_ms"]} ms | |
| SLA report selector, from the targets (`sla_report_exact`, the query before) | {figures["sla_exact_ms"]} ms | |
| hour-of-week heatmap, 90 days (selector) | {figures["heatmap_ms"]} ms | {figures["heatmap_max_ms"]} ms |
| volume page (heatmap + 8-week forecast) | {figures["volume_page_ms"]} ms | |
| backlog page | {figures["backlog_page_ms"]} ms | |

The percentiles from the histograms were at most {figures["percentile_error"]:.3%} off the exact ones (bound 0.99 %).

The rollups' upkeep, on {UPKEEP_TARGETS:,} targets written as a sweep batch writes them (one `UPDATE … FROM`, each
target a ladder step further), rolled back: {figures["write_plain_ms"]} ms without the triggers,
{figures["write_with_rollups_ms"]} ms with them; the fold of the {figures["fold_changes"]:,} ledger rows that left,
{figures["fold_ms"]} ms (beat, every minute).

Target: the SLA report at most 300 ms, the heatmap at most 1 s.

```json
{json.dumps(figures)}
```
"""
    common.results_section_write("bench/reports.py — the managers' reports over a year of history", body, write=write)


if __name__ == "__main__":
    main()
