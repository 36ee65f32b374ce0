"""The outbox's one delivery machine, shared by every channel (email, webhooks).

A channel is an outbox table (``status`` pending → done or failed, ``attempts``,
``next_attempt_at``, ``leased_until``, ``last_error``, ``created_at``) and a
way to send one row. Everything else is here, once:

* **Claim by lease.** An attempt starts with a conditional UPDATE that takes a
  pending, due row whose attempts are not used up, counts the attempt and leases
  the row (``leased_until`` and ``next_attempt_at`` move one lease ahead). No
  row lock is held while the message is on the network; a second claimer finds
  nothing to update. The lease (``OUTBOX_LEASE_S``) is longer than the hard time
  limit of the tasks that send, so a sender is always dead or done before its
  lease ends; a worker killed mid-send leaves the row to be claimed again when
  its lease has run out.
* **A fresh clock per message.** Each claim reads the time; a loop of
  deliveries never shares one ``now``.
* **Attempts numbered from the claim.** The claim increments ``attempts``; that
  number decides the back-off (30 s, 1 min, 2 min … up to the channel's cap)
  and the give-up (after ``max_attempts``). A claim that never reports (its
  worker died) counts as an attempt.
* **Recording is fenced.** A success is recorded whenever the row is still
  pending; a failure only by the claim that still holds the row (its attempt
  number), so a late report from an expired lease cannot undo a later one.
* **At least once, with one id.** A crash between the receiver taking a message
  and the row being marked done makes the message go again: every channel sends
  a stable id on every attempt (the email's ``Message-ID``, the webhook's
  ``webhook-id``) so the receiver can recognise the repeat.
* **One re-sweep** (``outbox_resweep``, beat) for every channel: it lets each
  channel write what a lost dispatch missed (``Channel.feed``), gives up rows
  whose last lease ran out, and delivers what is due — retries, expired leases,
  rows whose on-commit dispatch never reached the broker.
* **Bounded tasks.** A delivery task claims nothing new once it has run
  ``OUTBOX_TASK_BUDGET_S``; what it did not reach is still due and the re-sweep
  takes it. Celery's soft and hard time limits are the backstop.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import models, transaction
from django.db.models import Case, F, PositiveSmallIntegerField, Value, When
from django.utils import timezone

logger = logging.getLogger(__name__)

PENDING, FAILED = "pending", "failed"
# Ids per delivery task message: a big batch is shared by the worker processes.
DISPATCH_CHUNK = 100


class Outcome(NamedTuple):
    """What one attempt came to. ``final`` gives up at once (no retry can help)."""

    ok: bool
    error: str = ""
    final: bool = False
    status_code: int | None = None
    excerpt: str = ""


class Channel:
    """One kind of outbox row and how to send it. Subclasses set the class
    attributes and implement ``send`` and ``dispatch_chunk``."""

    name: str
    model: type[models.Model]
    done: str  # the status of a row delivered
    done_at: str  # the field that records when
    backoff_cap: timedelta
    # Sending again by hand (outbox_retry): the permission a person needs to ask for it, and
    # whether a delivered row may go again (never by default: a message that arrived is not
    # sent twice unless its receiver can tell the repeat and may have lost the first).
    retry_permission: str
    resend_done: bool = False

    def max_attempts(self) -> int:
        raise NotImplementedError

    def grace(self) -> timedelta:
        """How long a new row is left to its on-commit dispatch before the re-sweep takes it."""
        return timedelta(0)

    def load(self, pk: int) -> models.Model:
        return self.model.objects.get(pk=pk)

    def send(self, row: models.Model) -> Outcome:
        """Send ``row`` once (network I/O, no database lock held). Never raises for
        a failure of the receiver: returns it."""
        raise NotImplementedError

    def recorded_fields(self, outcome: Outcome) -> dict[str, Any]:
        """Extra columns to write with the outcome."""
        return {}

    def log_attempt(self, row: models.Model, *, attempt: int, outcome: Outcome, at: datetime, took_ms: int) -> None:
        """Keep a record of the attempt (inside the transaction that records it)."""

    def dispatch_chunk(self, ids: list[int]) -> None:
        """Queue one delivery task for ``ids``."""
        raise NotImplementedError

    def feed(self, *, now: datetime) -> int:
        """Write the rows a lost dispatch never wrote (the re-sweep calls it first)."""
        return 0

    def backoff(self, attempt: int) -> timedelta:
        """How long after the ``attempt``-th failure to try again: 30 s, 1 min, 2 min … ≤ the cap."""
        return min(timedelta(seconds=30 * 2 ** (attempt - 1)), self.backoff_cap)


_channels: dict[str, Channel] = {}


def outbox_channel_register(channel: Channel) -> None:
    """Make ``channel`` known to the re-sweep (an app's ``ready()``; idempotent)."""
    _channels[channel.name] = channel


def outbox_channels() -> list[Channel]:
    return list(_channels.values())


def outbox_channel(name: str) -> Channel:
    return _channels[name]


def outbox_lease() -> timedelta:
    return timedelta(seconds=settings.OUTBOX_LEASE_S)


# --- Dispatch ----------------------------------------------------------------------


def outbox_dispatch(channel: Channel, ids: Sequence[int]) -> None:
    """Hand rows to Celery (call it on commit). A broker outage must not fail the
    change that wrote them: the rows are safe in the outbox, and the re-sweep
    will deliver them."""
    ids = list(ids)
    for start in range(0, len(ids), DISPATCH_CHUNK):
        try:
            channel.dispatch_chunk(ids[start : start + DISPATCH_CHUNK])
        except Exception:
            logger.warning(
                "Could not dispatch %d %s message(s); the re-sweep will deliver them.",
                len(ids) - start,
                channel.name,
                exc_info=True,
            )
            return


def outbox_dispatch_on_commit(channel: Channel, ids: Sequence[int]) -> None:
    ids = list(ids)
    if ids:
        transaction.on_commit(lambda: outbox_dispatch(channel, ids))


# --- One attempt -------------------------------------------------------------------


def outbox_claim(channel: Channel, pk: int, *, now: datetime) -> int | None:
    """Lease row ``pk`` for one attempt if it is pending, due and has attempts
    left. Returns the attempt's number, or None if it was not ours to take."""
    until = now + outbox_lease()
    claimed = channel.model.objects.filter(
        pk=pk, status=PENDING, next_attempt_at__lte=now, attempts__lt=channel.max_attempts()
    ).update(attempts=F("attempts") + 1, leased_until=until, next_attempt_at=until)
    if not claimed:
        return None
    return channel.model.objects.values_list("attempts", flat=True).get(pk=pk)


def outbox_record(
    channel: Channel, row: models.Model, *, attempt: int, outcome: Outcome, started: datetime, took_ms: int
) -> str:
    """Write what attempt ``attempt`` came to. Returns the row's status afterwards."""
    finished = timezone.now()
    fields = channel.recorded_fields(outcome)
    with transaction.atomic():
        channel.log_attempt(row, attempt=attempt, outcome=outcome, at=started, took_ms=took_ms)
        mine = channel.model.objects.filter(pk=row.pk, status=PENDING)
        if outcome.ok:
            done = {channel.done_at: finished}
            if mine.update(status=channel.done, leased_until=None, last_error="", **done, **fields):
                return channel.done
        else:
            give_up = outcome.final or attempt >= channel.max_attempts()
            retry_at = finished if give_up else finished + channel.backoff(attempt)
            status = FAILED if give_up else PENDING
            error = outcome.error[:2000]
            if mine.filter(attempts=attempt).update(
                status=status, next_attempt_at=retry_at, leased_until=None, last_error=error, **fields
            ):
                if give_up:
                    logger.warning("Gave up on %s %s after %d attempts: %s", channel.name, row.pk, attempt, error)
                return status
    # Someone else recorded it first (an expired lease was taken over): theirs stands.
    return channel.model.objects.values_list("status", flat=True).get(pk=row.pk)


def outbox_deliver_one(channel: Channel, pk: int) -> str | None:
    """Claim, send and record one row. Returns its status afterwards, or None if
    it was not ours to try (not due, done, or another worker has it)."""
    started = timezone.now()  # this message's own clock
    attempt = outbox_claim(channel, pk, now=started)
    if attempt is None:
        return None
    try:
        row = channel.load(pk)
    except channel.model.DoesNotExist:  # deleted (with its ticket) since the claim
        return None
    clock = time.monotonic()
    try:
        outcome = channel.send(row)
    except SoftTimeLimitExceeded:
        took = int((time.monotonic() - clock) * 1000)
        stopped = Outcome(ok=False, error="Stopped by the task's time limit.")
        outbox_record(channel, row, attempt=attempt, outcome=stopped, started=started, took_ms=took)
        raise
    except Exception as exc:  # a channel bug must not leave the row leased until the lease runs out
        logger.exception("Sending %s %s failed", channel.name, pk)
        outcome = Outcome(ok=False, error=f"{type(exc).__name__}: {exc}")
    took = int((time.monotonic() - clock) * 1000)
    return outbox_record(channel, row, attempt=attempt, outcome=outcome, started=started, took_ms=took)


def outbox_deliver(*, channel: Channel, ids: Iterable[int], deadline: float | None = None) -> dict[str, int]:
    """Deliver ``ids`` one after the other, each with its own clock. Stops
    claiming once ``deadline`` (``time.monotonic()``; by default
    ``OUTBOX_TASK_BUDGET_S`` from now) has passed: the rest stay due for the
    re-sweep. Returns how many ended in each status ("skipped": not ours,
    "deferred": not reached)."""
    if deadline is None:
        deadline = time.monotonic() + settings.OUTBOX_TASK_BUDGET_S
    counts: Counter = Counter()
    ids = list(ids)
    for position, pk in enumerate(ids):
        if time.monotonic() >= deadline:
            counts["deferred"] += len(ids) - position
            logger.info("Left %d %s message(s) to the re-sweep (task budget spent)", len(ids) - position, channel.name)
            break
        counts[outbox_deliver_one(channel, pk) or "skipped"] += 1
    return dict(counts)


# --- The re-sweep ------------------------------------------------------------------


def outbox_due(*, channel: Channel, now: datetime, limit: int = 500) -> list[int]:
    """Rows to deliver now: pending, due (a retry, or a lease run out) and with
    attempts left; a new row only once its on-commit dispatch has had its chance."""
    rows = channel.model.objects.filter(status=PENDING, next_attempt_at__lte=now, attempts__lt=channel.max_attempts())
    grace = channel.grace()
    if grace:
        rows = rows.exclude(attempts=0, created_at__gt=now - grace)
    return list(rows.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])


def outbox_give_up_expired(*, channel: Channel, now: datetime) -> int:
    """Give up due rows that have no attempt left: their last attempt never
    reported (its worker died and the lease ran out), or the setting was lowered."""
    count = channel.model.objects.filter(
        status=PENDING, next_attempt_at__lte=now, attempts__gte=channel.max_attempts()
    ).update(
        status=FAILED,
        leased_until=None,
        last_error="The last attempt never reported (its worker stopped); given up.",
    )
    if count:
        logger.warning("Gave up on %d %s message(s) whose last attempt never reported", count, channel.name)
    return count


def outbox_resweep(*, limit: int | None = None) -> dict[str, dict[str, int]]:
    """For every channel, in turn: write what lost dispatches missed, give up
    exhausted rows, deliver what is due — within one task budget shared by all
    channels (the email channel goes first). Returns the counts per channel."""
    limit = limit or settings.OUTBOX_RESWEEP_BATCH
    deadline = time.monotonic() + settings.OUTBOX_TASK_BUDGET_S
    results = {}
    for channel in outbox_channels():
        now = timezone.now()
        try:
            channel.feed(now=now)
        except Exception:  # what is already due still goes out; the next re-sweep feeds again
            logger.exception("Could not feed the %s outbox; delivering what is due", channel.name)
        outbox_give_up_expired(channel=channel, now=now)
        ids = outbox_due(channel=channel, now=now, limit=limit)
        results[channel.name] = outbox_deliver(channel=channel, ids=ids, deadline=deadline)
    return results


# --- Sending again -----------------------------------------------------------------


def outbox_may_retry(channel: Channel, user) -> bool:
    """Whether ``user`` may send rows of ``channel`` again (``outbox_retry``)."""
    return user.has_perm(channel.retry_permission)


def outbox_retry(*, channel: Channel, ids: Iterable[int], now: datetime | None = None) -> list[int]:
    """Send rows again now (an administrator's "retry"; the caller has checked
    ``outbox_may_retry``). Pending and failed rows go back to pending, due now,
    and so do delivered ones on a channel that resends them
    (``Channel.resend_done``); they are dispatched once the transaction commits.
    A row that had finished (failed or delivered) gets its attempts afresh and
    keeps its last error until the next attempt; a pending one keeps its count.
    Left alone: a delivered row on a channel that does not resend, and a row
    being sent right now (its lease running). Returns the ids queued, in order."""
    now = now or timezone.now()
    statuses = [PENDING, FAILED, *([channel.done] if channel.resend_done else [])]
    model = channel.model
    with transaction.atomic():
        queued = list(
            model.objects.select_for_update(skip_locked=True)
            .filter(pk__in=list(ids), status__in=statuses)
            .exclude(leased_until__gt=now)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        model.objects.filter(pk__in=queued).update(
            status=PENDING,
            next_attempt_at=now,
            leased_until=None,
            attempts=Case(
                When(status=PENDING, then=F("attempts")), default=Value(0), output_field=PositiveSmallIntegerField()
            ),
        )
        outbox_dispatch_on_commit(channel, queued)
    return queued
