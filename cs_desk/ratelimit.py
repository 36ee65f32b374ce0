"""Anti-abuse rate limits, counted in the shared Redis cache.

A sliding-window counter: requests are counted per fixed window, and the count
that decides is this window's plus the previous window's weighted by how much
of it still lies within the last ``period`` seconds. It never lets through more
than the limit in any ``period`` by more than a rounding step, and forgets a
client after two periods. Checking any number of limits is one round trip to
Redis (one MGET), counting them another (one pipeline); the counts live under
the cache's key prefix, as plain integers.
Windows are numbered from the application's clock (``time.time``), so tests
move the clock with time-machine instead of sleeping.

Two ways of counting, for two purposes:

* **Limits on what is accepted** (complaints, replies, feedback): the view
  checks first (``rate_limits_check``, which counts nothing) and counts only
  what it accepted (``rate_limits_count``): a form sent back with a typo costs
  the consumer nothing. Two requests racing past the check may both be
  accepted; the overshoot is bounded by the concurrency.
* **Throttles on every request** (the API) and **guards against guessing**
  (tracking tokens, API keys: ``guess_guarded`` refuses an address that has
  missed too often, and counts each miss).

A cache outage lets requests through (and logs it): a rate limit must not take
the complaint form down with it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.translation import ngettext

from cs_desk.redis import redis_client

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until one more request would be allowed (0 when allowed)


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or with ``TRUSTED_PROXY_COUNT`` proxies in
    front, the address the outermost trusted proxy saw (X-Forwarded-For entries
    further left are the client's to invent)."""
    return _address(request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR", ""))


def socket_client_ip(scope: dict) -> str:
    """``client_ip`` for a WebSocket's ASGI scope: the same rule."""
    headers = dict(scope.get("headers") or [])
    remote = (scope.get("client") or ("",))[0] or ""
    return _address(remote, headers.get(b"x-forwarded-for", b"").decode("latin-1"))


def _address(remote: str, forwarded_for: str) -> str:
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return remote or "unknown"


def _key(scope: str, identity: str, window: int) -> str:
    digest = hashlib.sha256(identity.strip().casefold().encode()).hexdigest()[:32]
    return cache.make_key(f"ratelimit:{scope}:{digest}:{window}")


T = TypeVar("T")


@dataclass(frozen=True)
class _Window:
    limit: int
    period: int
    elapsed: float  # the share of the current window gone by
    current: str  # the keys of the current and the previous window's counts
    previous: str


def _window(scope: str, identity: str) -> _Window:
    limit, period = settings.RATE_LIMITS[scope]
    now = time.time()
    window = int(now // period)
    return _Window(
        limit, period, (now % period) / period, _key(scope, identity, window), _key(scope, identity, window - 1)
    )


def _verdict(w: _Window, current: int, previous: int) -> Verdict:
    if current + previous * (1 - w.elapsed) + 1 <= w.limit:
        return Verdict(True, 0)
    # Until enough of the previous window has slid out (or the next window).
    if previous and current < w.limit:
        needed = (current + previous + 1 - w.limit) / previous
        wait = max(needed - w.elapsed, 0) * w.period
    else:
        wait = (1 - w.elapsed) * w.period
    return Verdict(False, max(int(wait) + 1, 1))


def rate_limit_peek(scope: str, identity: str) -> Verdict:
    """Would one more request of ``identity`` (an IP, a contact, a token) be
    within the limit named ``scope`` in ``settings.RATE_LIMITS``? Counts nothing."""
    return rate_limits_check([(scope, identity)])


def rate_limit_count(scope: str, identity: str) -> None:
    """Count one request of ``identity`` against ``scope``."""
    rate_limits_count([(scope, identity)])


def rate_limit_hit(scope: str, identity: str) -> Verdict:
    """Check and count one request (a throttle): a refused request is not counted."""
    verdict = rate_limit_peek(scope, identity)
    if verdict.allowed:
        rate_limit_count(scope, identity)
    return verdict


def rate_limits_check(checks: list[tuple[str, str]]) -> Verdict:
    """Would one more request be within every limit (e.g. per IP and per
    contact)? The first that refuses decides; empty identities are skipped.
    Counts nothing: count what was accepted with ``rate_limits_count``. One
    round trip to Redis, whatever the number of limits."""
    windows = [(scope, _window(scope, identity)) for scope, identity in checks if identity]
    if not windows:
        return Verdict(True, 0)
    try:
        counts = redis_client().mget([key for _s, w in windows for key in (w.current, w.previous)])
    except Exception:
        logger.exception("rate limit %s: cache unavailable, request let through", windows[0][0])
        return Verdict(True, 0)
    for i, (_scope, w) in enumerate(windows):
        verdict = _verdict(w, int(counts[2 * i] or 0), int(counts[2 * i + 1] or 0))
        if not verdict.allowed:
            return verdict
    return Verdict(True, 0)


def rate_limits_count(checks: list[tuple[str, str]]) -> None:
    """Count one accepted request against each limit (empty identities skipped),
    in one round trip: each window's count expires two periods after it starts."""
    windows = [(scope, _window(scope, identity)) for scope, identity in checks if identity]
    if not windows:
        return
    try:
        pipeline = redis_client().pipeline(transaction=False)
        for _scope, w in windows:
            pipeline.incr(w.current)
            pipeline.expire(w.current, 2 * w.period, nx=True)
        pipeline.execute()
    except Exception:
        logger.exception("rate limit %s: cache unavailable, request not counted", windows[0][0])


def rate_limited_text(verdict: Verdict) -> str:
    minutes = max(1, -(-verdict.retry_after // 60))
    return ngettext(
        "You have sent too many messages in a short time. Please try again in %(minutes)d minute.",
        "You have sent too many messages in a short time. Please try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


class GuessesExceeded(Exception):
    """This address missed too often; ``verdict.retry_after`` says for how long."""

    def __init__(self, verdict: Verdict):
        super().__init__(f"too many misses; retry after {verdict.retry_after} s")
        self.verdict = verdict


def guess_guarded(scope: str, address: str, lookup: Callable[[], T | None]) -> T | None:
    """Look up a secret someone presents (a tracking token, an API key) for a
    client ``address``: refused (``GuessesExceeded``) while the address has
    missed the limit ``scope`` within its window, whatever it presents now (a
    right guess would otherwise still show); each miss is counted."""
    verdict = rate_limit_peek(scope, address)
    if not verdict.allowed:
        raise GuessesExceeded(verdict)
    found = lookup()
    if found is None:
        rate_limit_count(scope, address)
    return found
