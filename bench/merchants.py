"""Merchants at marketplace scale: the staff's scorecard list and the daily
scoring job over 100,000 shops and a year of complaints.

Creates a PostgreSQL database of its own (``cs_desk_bench_merchants_<pid>``,
dropped at the end) and a private Redis, migrates, and loads with COPY:
M merchants (default 100,000; 40 % never had a complaint, the others' share
skewed so that a few big shops get most), N complaints (default 1,000,000)
filed evenly over the year before now, each forwarded to its merchant an hour
after filing, with the merchant-reply target the engine would have left: 80 %
answered in time, 2 % answered late, 12 % missed (with its strike, as the sweep
records it), 6 % withdrawn; those forwarded in the last 24 hours still running.
Tickets of the last three days are open, the others closed.

The timed work runs on a copy of that database (``CREATE DATABASE … TEMPLATE``),
so that the loaded data stay as loaded and a ``--keep`` run's database can be
timed again by another checkout of the code (``--reuse``, migrated first):

1. the daily job (``merchants.penalties.merchants_daily``: the penalty ladder,
   then the scores) at the load's instant T: the first run, which climbs the
   ladder for every shop with strikes;
2. the scorecard list ``/reports/merchants/`` as a manager, in-process through
   Django's test client (routing, middleware, the selector, the template): the
   first page in each order it offers, a deep page, and filtered pages; and the
   admin's merchant list;
3. the daily job again at T + 1 day (the next day's run: the window has moved by
   a day), with the daily snapshots it writes.

Prints the figures, writes them into ``bench/RESULTS.md``, and prints one JSON
object as its last line.

    .venv/bin/python bench/merchants.py [--merchants M] [--complaints N] [--runs R] [--keep]
    .venv/bin/python bench/merchants.py --reuse cs_desk_bench_merchants_<pid>   # a --keep run's data
    .venv/bin/python bench/merchants.py --smoke     # 2,000 shops, 20,000 complaints, nothing written
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# bench/ holds a script named like the standard library's ``queue``: take this
# directory off the import path, and put the project's root on it.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench import _common as common  # noqa: E402

NULL = "\\N"
IDLE_SHARE = 0.4  # shops that never had a complaint
REPLY = timedelta(hours=24)  # the merchant's deadline


def parse_args() -> argparse.Namespace:
    parser = common.parser_new(__doc__)
    parser.add_argument("--merchants", type=int, help="shops to load (default 100,000; smoke 2,000)")
    parser.add_argument("--complaints", type=int, help="complaints over the year (default 1,000,000; smoke 20,000)")
    parser.add_argument("--runs", type=int, help="timed requests per page, after 2 warm-up ones (default 5; smoke 1)")
    parser.add_argument("--reuse", metavar="DATABASE", help="time the data a --keep run left (no loading)")
    args = parser.parse_args()
    common.sizes_apply(args, merchants=(100_000, 2_000), complaints=(1_000_000, 20_000), runs=(5, 1))
    return args


# --- The data -------------------------------------------------------------------------

MERCHANT_COLUMNS = ["id", "shop_id", "name", "contact_phone", "created_at", "verification"]
TICKET_COLUMNS = [
    "id", "reference", "tracking_token", "subject", "requester_name", "requester_phone", "category_id", "priority",
    "status", "team_id", "merchant_id", "created_at", "updated_at", "resolved_at", "closed_at",
]  # fmt: skip
TARGET_COLUMNS = [
    "id", "ticket_id", "kind", "cycle", "status", "clock", "duration", "calendar_id", "warning_percent",
    "breach_percent", "level2_percent", "started_at", "pauses", "warning_at", "due_at", "level2_at", "next_step_at",
    "steps_taken", "met_at", "closed_at", "business_seconds", "calendar_seconds",
]  # fmt: skip
STRIKE_COLUMNS = ["merchant_id", "ticket_id", "target_id", "created_at", "reason", "params"]


def _ts(value: datetime | None) -> str:
    return NULL if value is None else value.astimezone(UTC).isoformat()


def load(*, merchants: int, complaints: int, now: datetime) -> dict:
    """COPY the shops, the complaints, their merchant-reply targets and the strikes."""
    from django.db import connection

    from accounts.models import Merchant
    from merchants.models import MerchantStrike
    from tickets.models import BusinessCalendar, Category, SLATarget, Ticket

    calendar = BusinessCalendar.objects.get(is_default=True)
    category = Category.objects.get(code="bench-0-normal")
    busy = max(1, int(merchants * (1 - IDLE_SHARE)))
    year = timedelta(days=365)
    verifications = ["verified"] * 7 + ["pending"] * 2 + ["rejected"]

    def merchant_rows():
        for m in range(1, merchants + 1):
            registered = now - year * 3 * (merchants - m + 1) / merchants
            yield [str(m), f"SHOP{m:06d}", f"店铺{m:06d}", f"139{m:08d}", _ts(registered), verifications[m % 10]]

    strikes: list[list[str]] = []

    def complaint_rows(which: int):
        """The tickets (``which`` 0) or their targets (1, collecting the strikes):
        the same draws each time."""
        rng = random.Random(21)
        for i in range(1, complaints + 1):
            created = now - year * (complaints - i + 1) / complaints
            merchant = 1 + int(busy * rng.random() ** 2)  # skewed: the first shops get most complaints
            forwarded = created + timedelta(hours=1)
            due = forwarded + REPLY
            draw, frac = rng.randrange(100), rng.uniform(0.02, 0.98)
            recent = now - created < timedelta(days=3)
            met = missed = closed = None
            steps, status = 0, "running"
            if due > now:
                status = "running"
            elif draw < 80:
                status, met = "met", forwarded + REPLY * frac
                steps = 1 if frac >= 0.75 else 0
            elif draw < 82:
                status, met, steps = "met", due + timedelta(hours=2) * frac, 1
            elif draw < 94:
                status, missed, steps = "missed", due, 2
            else:
                status, closed = "cancelled", forwarded + REPLY * frac
            closed = closed or met or missed
            ticket_status = "awaiting_merchant" if status == "running" else ("open" if recent else "closed")
            done = None if recent else created + timedelta(days=2)
            reference = f"CS-{created:%Y%m%d}-{i:07d}"
            taken = NULL if met is None else str(round((met - forwarded).total_seconds()))
            warning = forwarded + REPLY * 0.75
            next_step = (warning if now < warning else due) if status == "running" else None
            ticket = [
                str(i), reference, f"{i:064x}", "商家一直不回复", f"顾客{i % 5000}", f"138{i % 10**8:08d}",
                str(category.pk), "normal", ticket_status, str(category.team_id), str(merchant), _ts(created),
                _ts(created), _ts(done), _ts(done),
            ]  # fmt: skip
            target = [
                str(i), str(i), "merchant_reply", "1", status, "calendar", f"{REPLY.total_seconds():.0f} seconds",
                str(calendar.pk), "75", "100", "150", _ts(forwarded), "[]", _ts(warning), _ts(due),
                _ts(forwarded + REPLY * 1.5), _ts(next_step), str(steps), _ts(met), _ts(closed), taken, taken,
            ]  # fmt: skip
            if which == 0:
                yield ticket
                continue
            if missed is not None:
                strikes.append(
                    [str(merchant), str(i), str(i), _ts(missed), "missed_reply", json.dumps({"reference": reference})]
                )
            yield target

    counts = {}
    connection.ensure_connection()
    raw = connection.connection
    with raw.transaction(), raw.cursor() as cursor:
        for name, model, columns, rows in (
            ("merchants", Merchant, MERCHANT_COLUMNS, merchant_rows()),
            ("tickets", Ticket, TICKET_COLUMNS, complaint_rows(0)),
            ("targets", SLATarget, TARGET_COLUMNS, complaint_rows(1)),
            ("strikes", MerchantStrike, STRIKE_COLUMNS, strikes),
        ):
            started = time.perf_counter()
            counts[name] = common.CopyRows(model, columns).copy(cursor, rows)
            common.log(f"  COPY {name}: {counts[name]:,} rows in {time.perf_counter() - started:.1f} s")
        for model in (Merchant, Ticket, SLATarget):
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    with connection.cursor() as cursor:
        for model in (Merchant, Ticket, SLATarget, MerchantStrike):
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
        cursor.execute("CHECKPOINT")
    return counts


def loaded_instant() -> datetime:
    """T: the instant the data were loaded for (a minute after the last complaint)."""
    from django.db.models import Max

    from tickets.models import Ticket

    return Ticket.objects.aggregate(t=Max("created_at"))["t"] + timedelta(minutes=1)


def work_on_copy(run, source: str) -> str:
    """Point Django at a copy of ``source`` (dropped with the run), migrated by this checkout."""
    from django.db import connections

    connections.close_all()
    name = run.database_extra("work")
    common.database_clone(source, name)
    connections["default"].settings_dict["NAME"] = name
    common.migrate()
    return name


# --- The measurements -------------------------------------------------------------------


def daily_job(at: datetime) -> dict:
    """One run of the daily job at ``at``: its time, result and the snapshots it wrote."""
    from django.db import connection

    from merchants.models import MerchantScore
    from merchants.penalties import merchants_daily

    queries = []

    def count(execute, sql, params, many, context):
        queries.append(1)
        return execute(sql, params, many, context)

    before = MerchantScore.objects.count()
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        result = merchants_daily(now=at)
    seconds = time.perf_counter() - started
    written = MerchantScore.objects.count() - before
    replaced = MerchantScore.objects.filter(computed_at=at).count() - written
    common.log(f"daily job at {at:%Y-%m-%d %H:%M} UTC: {seconds:.1f} s, {len(queries):,} queries, {result}, "
               f"{written:,} snapshots written")  # fmt: skip
    return {"s": round(seconds, 1), "queries": len(queries), "result": result, "snapshots": written + replaced}


def timed_page(client, url: str, runs: int, *, marker: str) -> dict:
    times, queries, body = common.page_timed(client, url, runs, warm_up=2)
    assert marker in body, f"{url} did not render its table"
    ordered = sorted(times)
    return {"url": url, "median_ms": round(statistics.median(ordered), 1), "max_ms": round(ordered[-1], 1),
            "queries": queries, "rows": body.count("<tr") - 1}  # fmt: skip


PAGES = {
    "lowest score first (default)": "/reports/merchants/",
    "highest score first": "/reports/merchants/?sort=-score",
    "lowest reply rate first": "/reports/merchants/?sort=reply_rate",
    "slowest median reply first": "/reports/merchants/?sort=median",
    "most strikes first": "/reports/merchants/?sort=strikes",
    "most open complaints first": "/reports/merchants/?sort=open",
    "page 1,000 (rows 49,951–50,000)": "/reports/merchants/?page=1000",
    "status warned": "/reports/merchants/?status=warned",
    "verified, lowest reply rate first": "/reports/merchants/?verification=verified&sort=reply_rate",
    "score below 80, most strikes first": "/reports/merchants/?below=80&sort=strikes",
    "search a shop by name": "/reports/merchants/?q=店铺012345",
}


def pages(manager, superuser, runs: int) -> dict:
    from django.test import Client

    client = Client()
    client.force_login(manager)
    results = {}
    for name, url in PAGES.items():
        results[name] = timed_page(client, url, runs, marker='id="scorecards"')
        r = results[name]
        common.log(f"{name:36} median {r['median_ms']} ms, max {r['max_ms']} ms, {r['queries']} queries")
    client.force_login(superuser)
    name = "admin: merchants, page 1"
    results[name] = timed_page(client, "/admin/accounts/merchant/", runs, marker='id="result_list"')
    common.log(f"{name:36} median {results[name]['median_ms']} ms")
    return results


def main() -> None:
    args = parse_args()
    with common.run_owned("merchants", keep=args.keep, reuse=args.reuse) as run:
        common.django_setup(db_name=run.db_name, redis_url=run.redis_url)
        from django.conf import settings

        settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        load_s, counts = 0.0, {}
        if not args.reuse:
            common.migrate()
            common.marketplace_create(teams=1, agents=1, merchants=0)
            now = datetime.now(UTC).replace(second=0, microsecond=0)
            common.log(f"loading {args.merchants:,} shops and {args.complaints:,} complaints over a year")
            started = time.perf_counter()
            counts = load(merchants=args.merchants, complaints=args.complaints, now=now)
            load_s = time.perf_counter() - started
        work_on_copy(run, run.db_name)
        from django.contrib.auth import get_user_model

        from accounts.models import Merchant
        from merchants.models import MerchantStrike
        from tickets.models import SLATarget

        User = get_user_model()
        manager = User.objects.get(username="bench-manager")
        superuser, _ = User.objects.get_or_create(username="bench-root", defaults={"is_staff": True,
                                                                                  "is_superuser": True})  # fmt: skip
        t = loaded_instant()
        data = {
            "merchants": Merchant.objects.count(),
            "complaints": SLATarget.objects.filter(kind="merchant_reply").count(),
            "in_window": SLATarget.objects.filter(kind="merchant_reply", started_at__gt=t - timedelta(days=30)).count(),
            "shops_in_window": SLATarget.objects.filter(kind="merchant_reply", started_at__gt=t - timedelta(days=30))
            .values("ticket__merchant_id").distinct().count(),
            "strikes": MerchantStrike.objects.count(),
        }  # fmt: skip
        common.log(f"data: {data}")
        first = daily_job(t)
        results = pages(manager, superuser, args.runs)
        next_day = daily_job(t + timedelta(days=1))
        figures = {
            **data, "load_s": round(load_s, 1), "load_counts": counts,
            "job_first": first, "job_next_day": next_day,
            "pages": {name: {k: r[k] for k in ("median_ms", "max_ms", "queries")} for name, r in results.items()},
        }  # fmt: skip
        results_write(figures, results, common.machine(), write=not args.no_results)
        print(json.dumps(figures, ensure_ascii=False))
        if args.smoke:
            common.log("smoke run: figures not judged, RESULTS.md not written")


def results_write(figures: dict, results: dict, info: dict, *, write: bool) -> None:
    rows = "\n".join(
        f"| {name} | `{r['url']}` | {r['median_ms']} ms | {r['max_ms']} ms | {r['queries']} |"
        for name, r in results.items()
    )
    first, nxt = figures["job_first"], figures["job_next_day"]
    loaded = f"Loaded with COPY in {figures['load_s']} s." if figures["load_s"] else "Reused a kept run's data."
    body = f"""Measured {common.now_utc_text()}.

Machine:
{common.machine_markdown(info)}

Command: `{common.command_line()}` (a database of its own, `cs_desk_bench_merchants_<pid>`, timed on a copy
of it; a private Redis; settings `cs_desk.settings.dev`).

Data: {figures["merchants"]:,} shops ({IDLE_SHARE:.0%} never had a complaint), {figures["complaints"]:,} complaints
forwarded to them over the year before T (80 % answered in time, 2 % late, 12 % missed, 6 % withdrawn, the last
24 hours' still running), {figures["strikes"]:,} strikes; {figures["in_window"]:,} complaints of
{figures["shops_in_window"]:,} shops in the 30-day window. {loaded}

The daily job (`merchants_daily`: the penalty ladder for every shop it concerns, then the scores):

| run | time | queries | ladder | snapshots written |
|---|---|---|---|---|
| first, at T | {first["s"]} s | {first["queries"]:,} | {first["result"]} | {first["snapshots"]:,} |
| next day, at T + 1 day | {nxt["s"]} s | {nxt["queries"]:,} | {nxt["result"]} | {nxt["snapshots"]:,} |

The scorecard list as a manager (and the admin's list as a superuser), server time through Django's test
client after 2 warm-up requests (between the two runs of the job):

| page | URL | median | max | queries |
|---|---|---|---|---|
{rows}

Targets: each list page ≤ 100 ms; the daily job ≤ 60 s; snapshots only for the shops whose figures changed.

```json
{json.dumps(figures, ensure_ascii=False)}
```
"""
    common.results_section_write("bench/merchants.py — scorecards and the daily job over 100,000 shops", body,
                                 write=write)  # fmt: skip


if __name__ == "__main__":
    main()
