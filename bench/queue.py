"""The agent queue's speed over a large ticket history.

Creates a PostgreSQL database of its own (``cs_desk_bench_queue_<pid>``,
dropped at the end) and a private Redis, migrates, and loads N tickets (default 1,000,000) with ``INSERT … SELECT`` from
``generate_series`` on the server: a year of history of which 10 % is still
open, over 20 teams of 3 categories, 200 merchants and 10 agents each in two
teams; every open ticket not waiting on the consumer has its running
first-response target (due time and warning instant as the engine keeps them),
2 % of all open tickets are overdue. Then it times, in-process through Django's
test client (URL routing, middleware, the queue selector, the template), the
first queue page of an agent of two teams, the same for a manager who sees
every team, and filtered pages (priority + status; a search by the last four
digits of a phone number). Prints the figures, writes them into
``bench/RESULTS.md``, and prints one JSON object as its last line.

The loader's SQL names only the columns the benchmark is about; the other
columns of each table get the model's defaults (``_common.insert_select``).

    .venv/bin/python bench/queue.py [--tickets N] [--runs R] [--keep]
    .venv/bin/python bench/queue.py --smoke     # 5,000 tickets, 3 runs a page, nothing written
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's ``queue`` (the issue names it):
# take its own directory off the import path before anything imports ``queue``.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from bench import _common as common  # noqa: E402

TEAMS = 20
AGENTS = 10
MERCHANTS = 200
OPEN_SHARE = 10  # one ticket in ten is open


def parse_args() -> argparse.Namespace:
    parser = common.parser_new(__doc__)
    parser.add_argument("--tickets", type=int, help="tickets to load (default 1,000,000; smoke 5,000)")
    parser.add_argument("--runs", type=int, help="timed requests per page, after 5 warm-up ones (default 50; smoke 3)")
    args = parser.parse_args()
    common.sizes_apply(args, tickets=(1_000_000, 5_000), runs=(50, 3))
    return args


# The columns LOAD_TICKETS / LOAD_TARGETS give, in order; the others get the model's defaults.
TICKET_COLUMNS = [
    "reference", "tracking_token", "subject", "requester_name", "requester_email", "requester_phone", "language",
    "channel", "category_id", "priority", "status", "team_id", "assignee_id", "merchant_id", "order_number",
    "due_at", "is_overdue", "escalation_level", "first_responded_at", "resolved_at", "closed_at", "created_at",
    "updated_at",
]  # fmt: skip
TARGET_COLUMNS = [
    "ticket_id", "kind", "cycle", "status", "clock", "duration", "calendar_id", "warning_percent", "breach_percent",
    "level2_percent", "started_at", "pauses", "due_at", "next_step_at", "steps_taken",
]  # fmt: skip

# ``$name``: the tables, from the models (``_common.tables``).
TICKETS_WITH = """
WITH cats AS (
    SELECT array_agg(id ORDER BY id) AS ids, array_agg(team_id ORDER BY id) AS teams,
           array_agg(default_priority ORDER BY id) AS prios
    FROM $category WHERE code LIKE 'bench-%%'
), merchants AS (
    SELECT array_agg(id ORDER BY id) AS ids FROM $merchant
), members AS (
    SELECT array_agg(m.user_id ORDER BY m.team_id) AS by_team FROM $team_members m
), rows AS (
    SELECT g,
           -- independent pseudo-random draws per ticket (hashtext), so that team,
           -- status, priority and lateness do not line up
           1 + abs(hashtext('c' || g)) %% array_length(cats.ids, 1) AS c,
           g %% %(open_share)s = 0 AS is_open,
           (ARRAY['new', 'open', 'awaiting_merchant', 'pending'])[1 + abs(hashtext('s' || g)) %% 4] AS open_status,
           abs(hashtext('o' || g)) %% 50 = 7 AS late,
           abs(hashtext('d' || g)) AS draw,
           %(now)s::timestamptz - (%(n)s - g) * interval '31536 seconds' * (1000000.0 / %(n)s) AS created,
           cats.ids AS cat_ids, cats.teams AS team_ids, cats.prios AS prios,
           merchants.ids AS merchant_ids, members.by_team AS by_team
    FROM generate_series(1, %(n)s) AS g, cats, merchants, members
)"""
TICKETS_SELECT = """
SELECT
    'CS-' || to_char(created AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || '-' || lpad(g::text, 7, '0'),
    md5(g::text) || md5((g * 31)::text),
    '退款七天没到账 ' || g,
    '用户' || (g %% 5000),
    CASE WHEN g %% 4 = 0 THEN 'buyer' || g || '@example.cn' ELSE '' END,
    '138' || lpad((g %% 100000000)::text, 8, '0'),
    'zh-hans',
    (ARRAY['web', 'web', 'web', 'phone', 'chat', 'app'])[1 + g %% 6],
    cat_ids[c], prios[c],
    CASE WHEN is_open THEN open_status ELSE 'closed' END,
    team_ids[c],
    CASE WHEN is_open AND g %% 20 = 0 THEN by_team[1 + (team_ids[c] - team_ids[1]) %% array_length(by_team, 1)] END,
    CASE WHEN g %% 2 = 0 THEN merchant_ids[1 + g %% array_length(merchant_ids, 1)] END,
    CASE WHEN g %% 3 = 0 THEN 'ORD' || lpad(g::text, 10, '0') ELSE '' END,
    CASE WHEN is_open AND open_status <> 'pending' THEN
        -- 2 %% of open tickets overdue (by up to 2 days), the rest due within 10 days
        CASE WHEN late THEN %(now)s::timestamptz - (draw %% 2880 + 1) * interval '1 minute'
             ELSE %(now)s::timestamptz + (draw %% 14400 + 1) * interval '1 minute' END
    END,
    is_open AND open_status <> 'pending' AND late,
    CASE WHEN is_open AND open_status <> 'pending' AND late THEN 1 ELSE 0 END,
    CASE WHEN NOT is_open THEN created + interval '3 hours' END,
    CASE WHEN NOT is_open THEN created + interval '2 days' END,
    CASE WHEN NOT is_open THEN created + interval '9 days' END,
    created, created
FROM rows
"""

TARGETS_SELECT = """
SELECT t.id, 'first_response', 1, 'running', 'calendar', interval '24 hours', %(calendar)s, 75, 100, 150,
       t.due_at - interval '24 hours', '[]'::jsonb, t.due_at,
       CASE WHEN t.is_overdue THEN t.due_at + interval '12 hours' ELSE t.due_at - interval '6 hours' END,
       CASE WHEN t.is_overdue THEN 2 ELSE 0 END
FROM $ticket t
WHERE t.status IN ('new', 'open', 'awaiting_merchant') AND t.due_at IS NOT NULL
"""


def load(n: int) -> dict:
    from string import Template

    from django.db import connection, transaction
    from django.utils import timezone

    from tickets.models import BusinessCalendar, SLATarget, Ticket

    calendar = BusinessCalendar.objects.get(is_default=True)
    now = timezone.now()
    tables = common.tables()
    sql = lambda text: Template(text).substitute(tables)  # noqa: E731
    tickets_sql, tickets_rest = common.insert_select(
        Ticket, TICKET_COLUMNS, sql(TICKETS_SELECT), with_=sql(TICKETS_WITH)
    )
    targets_sql, targets_rest = common.insert_select(SLATarget, TARGET_COLUMNS, sql(TARGETS_SELECT))
    timings = {}
    with transaction.atomic(), connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(tickets_sql, {"n": n, "now": now, "open_share": OPEN_SHARE, **tickets_rest})
        timings["tickets"] = (cursor.rowcount, time.perf_counter() - started)
        common.log(f"  tickets: {cursor.rowcount:,} rows in {timings['tickets'][1]:.1f} s")
        started = time.perf_counter()
        cursor.execute(targets_sql, {"calendar": calendar.pk, **targets_rest})
        timings["targets"] = (cursor.rowcount, time.perf_counter() - started)
        common.log(f"  running targets: {cursor.rowcount:,} rows in {timings['targets'][1]:.1f} s")
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(f"VACUUM (ANALYZE) {tables['ticket']}")
        cursor.execute(f"VACUUM (ANALYZE) {tables['slatarget']}")
        timings["vacuum"] = time.perf_counter() - started
    return timings


def timed_page(client, url: str, runs: int) -> tuple[list[float], int, int]:
    """Server time of ``runs`` requests of ``url`` (after 5 warm-up ones), the
    queries of one request, and the rows shown."""
    times, queries, body = common.page_timed(client, url, runs, warm_up=5)
    return times, queries, body.count("<tr data-href=")


def explain(client, user, url: str) -> str:
    """EXPLAIN ANALYZE of the ticket rows query of ``url`` as ``user`` sees it
    (captured from the request, so that no import of the queue's module is needed)."""
    from django.db import connection

    client.force_login(user)
    with CaptureSQL() as captured:
        assert client.get(url).status_code == 200
    if captured.rows_sql is None:
        return "(no ticket rows query seen)"
    sql, sql_params = captured.rows_sql
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, sql_params)
        return "\n".join(row[0] for row in cursor.fetchall())


class CaptureSQL:
    """The SQL and parameters of the ticket rows query (the one that selects from
    tickets_ticket with the queue order)."""

    def __enter__(self):
        from django.db import connection

        self.rows_sql = None
        self._wrapper = connection.execute_wrapper(self._capture)
        self._wrapper.__enter__()
        return self

    def _capture(self, execute, sql, params, many, context):
        from tickets.models import Ticket

        if f'FROM "{Ticket._meta.db_table}"' in sql and "ORDER BY" in sql and self.rows_sql is None:
            self.rows_sql = (sql, params)
        return execute(sql, params, many, context)

    def __exit__(self, *exc):
        self._wrapper.__exit__(*exc)


def page_queries(client, user, url: str) -> list[str]:
    """The statements of one request of ``url``, shortened (what a page costs)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(user)
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [" ".join(q["sql"].split())[:100] for q in captured.captured_queries]


def summary(times: list[float]) -> dict:
    ordered = sorted(times)
    return {
        "median_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 1),
    }


def main() -> None:
    args = parse_args()
    with common.run_owned("queue", keep=args.keep) as run:
        common.django_setup(db_name=run.db_name, redis_url=run.redis_url)
        common.migrate()
        from django.conf import settings
        from django.test import Client

        settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
        # Static URLs without the collectstatic manifest (what is timed is the queue, not static files).
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        from tickets.models import SLATarget, Ticket

        agents, manager, _categories = common.marketplace_create(teams=TEAMS, agents=AGENTS, merchants=MERCHANTS)
        common.log(f"loading {args.tickets:,} tickets")
        started = time.perf_counter()
        timings = load(args.tickets)
        load_s = time.perf_counter() - started
        open_count = Ticket.objects.filter(status__in=["new", "open", "awaiting_merchant", "pending"]).count()
        agent = agents[0]
        from tickets.access import tickets_visible_to

        agent_open = (
            tickets_visible_to(agent).filter(status__in=["new", "open", "awaiting_merchant", "pending"]).count()
        )
        common.log(f"open tickets {open_count:,}; visible to the agent {agent_open:,}")

        # Searches for one ticket the agent sees: its reference, the beginning of its order
        # number (the last two digits left off), its email address.
        sample = (
            tickets_visible_to(agent)
            .filter(status__in=["new", "open", "awaiting_merchant", "pending"])
            .exclude(order_number="")
            .exclude(requester_email="")
            .order_by("pk")
            .first()
        )
        reference, order_prefix, email = sample.reference, sample.order_number[:-2], sample.requester_email.upper()
        client = Client()
        pages = {
            "queue": (agent, "/desk/"),
            "filtered": (agent, "/desk/?priority=urgent&status=open"),
            "search": (agent, "/desk/?q=5678"),
            "search_reference": (agent, f"/desk/?q={reference.lower()}"),
            "search_order": (agent, f"/desk/?q={order_prefix}"),
            "search_email": (agent, f"/desk/?q={email}"),
            "manager_queue": (manager, "/desk/"),
            "manager_filtered": (manager, "/desk/?priority=urgent&status=open"),
            # The manager sees every open ticket: the search the issue found walking 100,000 of them.
            "manager_search": (manager, "/desk/?q=5678"),
            "manager_search_reference": (manager, f"/desk/?q={reference.lower()}"),
        }
        results = {}
        for name, (user, url) in pages.items():
            client.force_login(user)
            times, queries, rows = timed_page(client, url, args.runs)
            results[name] = {**summary(times), "queries": queries, "rows": rows, "url": url}
            common.log(f"{name:17} {url:40} median {results[name]['median_ms']} ms, p95 {results[name]['p95_ms']} ms, "
                       f"{queries} queries, {rows} rows")  # fmt: skip
        plan = explain(client, agent, "/desk/")
        print(f"plan of the agent's first page (rows query):\n{plan}", file=sys.stderr)
        search_plan = explain(client, agent, "/desk/?q=5678")
        print(f"plan of the search by the last four digits (rows query):\n{search_plan}", file=sys.stderr)
        manager_search_plan = explain(client, manager, "/desk/?q=5678")
        print(f"plan of the manager's search by the last four digits:\n{manager_search_plan}", file=sys.stderr)
        first_page_queries = page_queries(client, agent, "/desk/")
        print("queries of the agent's first page:", file=sys.stderr)
        for sql in first_page_queries:
            print(f"  {sql}", file=sys.stderr)
        info = common.machine()
        figures = {
            "tickets": args.tickets,
            "open_tickets": open_count,
            "visible_to_agent": agent_open,
            "running_targets": SLATarget.objects.filter(status="running").count(),
            "load_s": round(load_s, 1),
            "queue_median_ms": results["queue"]["median_ms"],
            "queue_p95_ms": results["queue"]["p95_ms"],
            "filtered_median_ms": results["filtered"]["median_ms"],
            "filtered_p95_ms": results["filtered"]["p95_ms"],
            "search_median_ms": results["search"]["median_ms"],
            "search_reference_median_ms": results["search_reference"]["median_ms"],
            "search_order_median_ms": results["search_order"]["median_ms"],
            "search_email_median_ms": results["search_email"]["median_ms"],
            "queue_queries": results["queue"]["queries"],
            "manager_queue_median_ms": results["manager_queue"]["median_ms"],
            "manager_queue_p95_ms": results["manager_queue"]["p95_ms"],
            "manager_filtered_median_ms": results["manager_filtered"]["median_ms"],
            "manager_search_median_ms": results["manager_search"]["median_ms"],
            "manager_search_reference_median_ms": results["manager_search_reference"]["median_ms"],
            "queries": max(r["queries"] for r in results.values()),
        }
        plans = {
            "plan": plan,
            "search_plan": search_plan,
            "manager_search_plan": manager_search_plan,
            "queries": first_page_queries,
        }
        results_write(figures, results, plans, info, timings, write=not args.no_results)
        print(json.dumps(figures))
        if args.smoke:
            common.log("smoke run: figures not judged, RESULTS.md not written")


def results_write(figures: dict, results: dict, plans: dict, info: dict, timings: dict, *, write: bool) -> None:
    queries = "\n".join(f"{n}. `{sql}`" for n, sql in enumerate(plans["queries"], 1))
    rows = "\n".join(
        f"| {name.replace('_', ' ')} | `{r['url']}` | {r['median_ms']} ms | {r['p95_ms']} ms "
        f"| {r['queries']} | {r['rows']} |"
        for name, r in results.items()
    )
    body = f"""Measured {common.now_utc_text()}.

Machine:
{common.machine_markdown(info)}

Command: `{common.command_line()}` (a database of its own, `cs_desk_bench_queue_<pid>`, and a
private Redis; settings `cs_desk.settings.dev`).

Data: {figures["tickets"]:,} tickets over a year loaded with `INSERT … SELECT` from `generate_series`
({timings["tickets"][1]:.1f} s) and {figures["running_targets"]:,} running first-response targets
({timings["targets"][1]:.1f} s), then `VACUUM (ANALYZE)` ({timings["vacuum"]:.1f} s).
{figures["open_tickets"]:,} tickets are open (new, open, awaiting merchant, pending), 2 % of them overdue,
over {TEAMS} teams of 3 categories and {MERCHANTS} merchants; each of the {AGENTS} agents belongs to two teams
and sees {figures["visible_to_agent"]:,} open tickets; the manager sees all of them.

Server time of one request through Django's test client (routing, middleware, session, the queue
selector and the template rendering the 50 rows; no network), after 5 warm-up requests:

| page | URL | median | p95 | queries | rows |
|---|---|---|---|---|---|
{rows}

Targets (issue 21): the agent's first page ≤ 20 ms and ≤ 6 queries; a search ≤ 50 ms (the agent's
and the manager's).

The searches: the last four digits of a phone number (`5678`: about one number in ten
thousand ends so), a reference in lower case, an order number without its last two digits,
an email address in upper case; each answered by an index of its own (`tickets/search.py`).

Queries of the agent's first page:

{queries}

Before (2026-11-23, same data and machine, commit bc571cf): agent's first page median 97.3 ms
(p95 112.0), filtered 164.1 ms, manager's first page 363.3 ms. The rows query then sorted every
visible open ticket (a bitmap scan of the team index, then a top-N sort: 10,145 rows for the agent,
100,000 for the manager); the partial index `ticket_open_order_idx` (`-is_overdue, due_at,
created_at, id` over open tickets) lets it read the first rows in order and stop. The rest was
Python: the filter bar's `<select>`s rendered one template per option and the rows reversed three
URLs each; both now render in Python (`tickets/widgets.py`, `tickets/templatetags/desk_queue.py`).

Plan of the agent's first page (rows query):

```
{plans["plan"]}
```

Plan of the search by the last four digits of a phone number (rows query):

```
{plans["search_plan"]}
```

The same search by the manager, who sees every open ticket (rows query):

```
{plans["manager_search_plan"]}
```
"""
    common.results_section_write("bench/queue.py — the agent queue over a large history", body, write=write)


if __name__ == "__main__":
    main()
