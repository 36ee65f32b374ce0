"""Configuration read on every complaint and every incoming mail (the SLA
policies with their calendars, the alert words, the webhook endpoints), kept in
each process and read again only after it changed.

A change is noticed through one row, ``tickets_configstamp``: a trigger on each
of those tables gives it a new random stamp in the same transaction as the
write, whoever writes (the admin, a service, ``QuerySet.update``, a migration,
``psql``). A read asks for the stamp (one small query, instead of the ORM query
and the objects it builds) and uses what it kept under that stamp.

Why this never serves a stale value:
- The stamp and the rows commit together, and under READ COMMITTED a later
  statement sees at least what an earlier one saw. Reading the stamp, then the
  rows, can pair an old stamp with newer rows (the next read loads again),
  never a new stamp with older rows.
- Random, not a counter. A stamp set by a transaction that rolls back (whose
  uncommitted rows this process may have read and kept inside it) is never set
  again by a later change.
- No row (a test database just flushed): nothing is kept, every read loads.

What is kept is shared: callers read it and never change it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import connection

T = TypeVar("T")

_kept: dict[str, tuple[object, object]] = {}


def config_stamp() -> object | None:
    """The configuration's current stamp, or None when there is none."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT stamp FROM tickets_configstamp WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else None


def config_cached(name: str, load: Callable[[], T]) -> T:
    """What ``load()`` returns, kept under ``name`` until the configuration changes."""
    stamp = config_stamp()
    if stamp is None:
        return load()
    kept = _kept.get(name)
    if kept is not None and kept[0] == stamp:
        return kept[1]  # type: ignore[return-value]
    value = load()
    _kept[name] = (stamp, value)
    return value
