"""The measuring of ``bench/sweep.py``: SQL statements, COPYs and COMMITs of a
sweep counted and timed, one sweep or several at once (forked processes, as
workers would run them), and the plan of the sweep's row-locking query.

Only public entry points of the code under test are used (``sla_sweep``); the
statements are observed from the outside (Django's execute wrappers, psycopg's
``Cursor.copy``), so that a change inside the sweep does not break the meter.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from datetime import datetime


class QueryMeter:
    """Counts the SQL statements of a block and the time spent in them (the
    round trip included), and the time spent in COMMITs."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.commit_seconds = 0.0  # COMMITs (deferred foreign-key checks run there)
        self.cpu_seconds = 0.0  # CPU time of this process (Python, psycopg), not PostgreSQL's
        self.per_sweeper: list[dict] = []
        self.slowest: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - started
            self.count += 1
            self.seconds += took
            self.slowest.append((took, " ".join(sql.split())[:110]))

    def top(self, n: int = 8) -> list[tuple[float, str]]:
        by_statement: dict[str, float] = {}
        for took, sql in self.slowest:
            key = sql[:60]
            by_statement[key] = by_statement.get(key, 0.0) + took
        return sorted(((v, k) for k, v in by_statement.items()), reverse=True)[:n]


def timed_sweep(
    now: datetime, batch_size: int | None, profile: str | None = None, on_backlog=None
) -> tuple[dict, float, QueryMeter]:
    from django.db import connection

    from tickets.escalation import sla_sweep

    meter = QueryMeter()
    commit = connection._commit

    def timed_commit() -> None:
        started = time.perf_counter()
        try:
            commit()
        finally:
            meter.commit_seconds += time.perf_counter() - started

    connection._commit = timed_commit
    try:
        with connection.execute_wrapper(meter), _copies_metered(meter):
            if profile:
                import cProfile

                profiler = cProfile.Profile()
                started = time.perf_counter()
                profiler.enable()
                counts = sla_sweep(now=now, batch_size=batch_size, on_backlog=on_backlog)
                profiler.disable()
                took = time.perf_counter() - started
                profiler.dump_stats(profile)
            else:
                started = time.perf_counter()
                cpu = time.process_time()
                counts = sla_sweep(now=now, batch_size=batch_size, on_backlog=on_backlog)
                took = time.perf_counter() - started
                meter.cpu_seconds = time.process_time() - cpu
    finally:
        del connection._commit  # back to the class's method
    return counts, took * 1000, meter


def _sweeper(now: datetime, batch_size: int | None, barrier, results, called, calls) -> None:
    """One of several concurrent sweeps, in a forked process with a connection of its own.
    With ``called`` it starts only once the previous sweeper has called for help
    (``on_backlog``, as ``tickets.tasks.sla_sweep_task`` does through the broker)
    and ``calls`` is what it sets when it needs help in turn."""
    from django.db import connections

    connections.close_all()
    barrier.wait()
    if called is not None:
        called.wait(timeout=600)
    counts, ms, meter = timed_sweep(now, batch_size, on_backlog=calls.set if calls is not None else None)
    if calls is not None:
        calls.set()  # never leave the next one waiting
    results.put((counts, ms, meter.count, meter.seconds, meter.commit_seconds, meter.cpu_seconds))
    connections.close_all()


def parallel_sweep(
    now: datetime, batch_size: int | None, sweepers: int, *, called_in: bool = False
) -> tuple[dict, float, QueryMeter]:
    """``sweepers`` sweeps at once, as that many Celery workers would run them:
    wall time from the common start to the last one's end; counts and statements summed.
    With ``called_in`` only the first starts at once; each further one starts when
    the one before calls for help (its first batch came back full), as in production."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # the children must not share this process's connection
    mp = multiprocessing.get_context("fork")
    barrier = mp.Barrier(sweepers + 1)
    results = mp.Queue()
    events = [mp.Event() for _ in range(sweepers)] if called_in else [None] * sweepers
    children = [
        mp.Process(
            target=_sweeper,
            args=(
                now,
                batch_size,
                barrier,
                results,
                events[i - 1] if i else None,
                events[i] if i + 1 < sweepers else None,
            ),
        )
        for i in range(sweepers)
    ]
    for child in children:
        child.start()
    barrier.wait()
    started = time.perf_counter()
    collected = [results.get(timeout=600) for _ in children]
    took = time.perf_counter() - started
    for child in children:
        child.join(timeout=60)
    total: Counter = Counter()
    meter = QueryMeter()
    for counts, _ms, count, seconds, commit, cpu in collected:
        total.update(counts)
        meter.count += count
        meter.seconds += seconds
        meter.commit_seconds += commit
        meter.cpu_seconds += cpu
    meter.per_sweeper = [
        {"ms": round(ms), "tickets": counts["tickets"], "batches": counts["batches"]} for counts, ms, *_ in collected
    ]
    return dict(total), took * 1000, meter


class _Explained(Exception):
    """Ends the sweep started by :func:`explain_lock` once its plan is taken."""


def explain_lock(now: datetime, batch_size: int) -> str:
    """EXPLAIN ANALYZE of the sweep's first row-locking statement (``… FOR
    UPDATE``) as ``sla_sweep(now=now)`` sends it: the sweep runs in a
    transaction that is rolled back (its row locks too) as soon as that
    statement has been explained."""
    from django.db import connection, transaction

    from tickets.escalation import sla_sweep

    plan: list[str] = []

    def explain(execute, sql, params, many, context):
        if plan or many or "FOR UPDATE" not in sql.upper():
            return execute(sql, params, many, context)
        plan.append("")  # the EXPLAIN below passes through here too
        context["cursor"].execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan[:] = [row[0] for row in context["cursor"].fetchall()]
        raise _Explained

    with contextlib.suppress(_Explained), transaction.atomic():
        with connection.execute_wrapper(explain):
            sla_sweep(now=now, batch_size=batch_size)
        transaction.set_rollback(True)  # the sweep found no locking statement to explain: undo it
    return "\n".join(plan) if plan else "(the sweep sent no FOR UPDATE statement)"


@contextlib.contextmanager
def _copies_metered(meter: QueryMeter):
    """Count and time every COPY (they bypass Django's execute wrappers): on
    psycopg's ``Cursor.copy``, whoever calls it."""
    import psycopg

    original = psycopg.Cursor.copy

    @contextlib.contextmanager
    def copy(cursor, statement, *args, **kwargs):
        started = time.perf_counter()
        try:
            with original(cursor, statement, *args, **kwargs) as copying:
                yield copying
        finally:
            took = time.perf_counter() - started
            meter.count += 1
            meter.seconds += took
            meter.slowest.append((took, " ".join(str(statement).split())[:110]))

    psycopg.Cursor.copy = copy
    try:
        yield
    finally:
        psycopg.Cursor.copy = original
