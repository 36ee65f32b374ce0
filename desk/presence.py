"""Who is writing a reply to which ticket, to warn two agents before they both
answer the same consumer.

The reply box reports every few seconds while an agent writes (``presence_beat``);
the answer names the other agents writing on the same ticket, and the pages
watching the ticket over the live desk hear of every beat and leaving at once. Each ticket is a
Redis hash of user id → "last seen" time, on the cache's Redis (cs_desk.redis). The times
come from Python's clock (time-machine moves them in tests) and an entry older
than ``PRESENCE_SECONDS`` no longer counts. A cache outage only loses the
warning: it never stops a reply.

Each beat is also the agent's working time on the ticket (``WorkTime``, read by
the volume report's staffing): the seconds since their previous beat on it, read
from the same hash in the same transaction as the new time is written, at most
``WORK_SECONDS_PER_BEAT``. A first beat (or the first after sending a reply or
leaving) adds nothing; a beat after a long pause adds one beat's worth, not the
pause. A cache outage loses that time too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from datetime import UTC, datetime

from cs_desk.redis import redis_client
from desk.groups import groups_send, ticket_group
from tickets.services.worktime import work_time_add

logger = logging.getLogger(__name__)

PRESENCE_SECONDS = 30  # the reply box beats every 10 s
# The most working time one beat adds: the reply box's interval. A gap longer than
# that (the agent left the page open and went away) is not counted as work.
WORK_SECONDS_PER_BEAT = 10


def _key(ticket_id: int) -> str:
    return f"cs_desk:presence:ticket:{ticket_id}"


def _client():
    return redis_client()


def _display_name(user) -> str:
    profile = getattr(user, "staff_profile", None)
    alias = profile.alias if profile is not None else ""
    return f"{user.get_username()} ({alias})" if alias else user.get_username()


def _fresh(entries: dict, now: float) -> tuple[list[dict], list[str]]:
    """The writers of a presence hash still within PRESENCE_SECONDS (``{"id", "name"}``,
    by name), and the fields of those who are not."""
    writers, stale = [], []
    for field, raw in entries.items():
        field = field.decode() if isinstance(field, bytes) else field
        entry = json.loads(raw)
        if now - entry["at"] > PRESENCE_SECONDS:
            stale.append(field)
        else:
            writers.append({"id": int(field), "name": entry["name"]})
    return sorted(writers, key=lambda w: w["name"]), stale


def _changed(ticket_id: int, writers: list[dict]) -> None:
    """Tell the pages watching the ticket who writes on it now (the live desk): the
    collision warning appears, or goes, at once instead of at their next beat."""
    try:
        groups_send([(ticket_group(ticket_id), {"type": "writers.changed", "ticket": ticket_id, "writers": writers})])
    except Exception:  # the live desk down: the beats still carry the warning
        logger.warning("presence push failed for ticket %s", ticket_id, exc_info=True)


def _worked_seconds(previous, now: float) -> int:
    """The working time a beat at ``now`` adds after the beat stored as ``previous``
    (the hash's raw entry, None for a first beat): whole seconds, 0 to
    WORK_SECONDS_PER_BEAT."""
    if previous is None:
        return 0
    elapsed = now - json.loads(previous)["at"]
    return round(min(max(elapsed, 0), WORK_SECONDS_PER_BEAT))


def presence_beat(*, ticket_id: int, user) -> list[str]:
    """Record that ``user`` is writing on the ticket (and the working time since
    their previous beat on it), tell the pages watching it; return who else is
    writing."""
    now = time.time()
    try:
        client = _client()
        key = _key(ticket_id)
        pipe = client.pipeline()  # MULTI … EXEC: the previous beat is read as this one replaces it
        pipe.hget(key, str(user.pk))
        pipe.hset(key, str(user.pk), json.dumps({"name": _display_name(user), "at": now}))
        pipe.expire(key, PRESENCE_SECONDS * 4)
        pipe.hgetall(key)
        results = pipe.execute()
    except Exception:  # an outage only loses the warning
        logger.warning("presence unavailable for ticket %s", ticket_id, exc_info=True)
        return []
    previous, entries = results[0], results[-1]
    work_time_add(
        ticket_id=ticket_id,
        user_id=user.pk,
        seconds=_worked_seconds(previous, now),
        now=datetime.fromtimestamp(now, UTC),
    )
    writers, stale = _fresh(entries, now)
    if stale:
        with contextlib.suppress(Exception):
            client.hdel(key, *stale)
    _changed(ticket_id, writers)
    return [w["name"] for w in writers if w["id"] != user.pk]


def presence_writers(*, ticket_id: int) -> list[dict]:
    """Everyone writing on the ticket now: ``{"id": user id, "name": shown name}``."""
    try:
        entries = _client().hgetall(_key(ticket_id))
    except Exception:
        logger.warning("presence unavailable for ticket %s", ticket_id, exc_info=True)
        return []
    return _fresh(entries, time.time())[0]


def presence_leave(*, ticket_id: int, user) -> None:
    """The agent sent the reply or left the page: tell the pages watching it."""
    try:
        client = _client()
        key = _key(ticket_id)
        pipe = client.pipeline()
        pipe.hdel(key, str(user.pk))
        pipe.hgetall(key)
        entries = pipe.execute()[-1]
    except Exception:
        logger.warning("presence unavailable for ticket %s", ticket_id, exc_info=True)
        return
    _changed(ticket_id, _fresh(entries, time.time())[0])
