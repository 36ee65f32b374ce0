"""Anti-abuse rate limits, counted in the shared Redis cache.

A sliding-window counter: requests are counted per fixed window, and the count
that decides is this window's plus the previous window's weighted by how much
of it still lies within the last ``period`` seconds. It never lets through more
than the limit in any ``period`` by more than a rounding step, costs two cache
reads and one increment per request, and forgets a client after two periods.
Windows are numbered from the application's clock (``time.time``), so tests
move the clock with time-machine instead of sleeping.

A cache outage lets requests through (and logs it): a rate limit must not take
the complaint form down with it.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until one more request would be allowed (0 when allowed)


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or with ``TRUSTED_PROXY_COUNT`` proxies in
    front, the address the outermost trusted proxy saw (X-Forwarded-For entries
    further left are the client's to invent)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _key(scope: str, identity: str, window: int) -> str:
    digest = hashlib.sha256(identity.strip().casefold().encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}:{window}"


def rate_limit_hit(scope: str, identity: str) -> Verdict:
    """Count one request of ``identity`` (an IP, a contact, a token) against the
    limit named ``scope`` in ``settings.RATE_LIMITS``, and say whether it may go
    on. A refused request is not counted."""
    limit, period = settings.RATE_LIMITS[scope]
    now = time.time()
    window = int(now // period)
    elapsed = (now % period) / period
    current_key, previous_key = _key(scope, identity, window), _key(scope, identity, window - 1)
    try:
        counts = cache.get_many([current_key, previous_key])
        current, previous = counts.get(current_key, 0), counts.get(previous_key, 0)
        if current + previous * (1 - elapsed) + 1 > limit:
            # Until enough of the previous window has slid out (or the next window).
            if previous and current < limit:
                needed = (current + previous + 1 - limit) / previous
                wait = max(needed - elapsed, 0) * period
            else:
                wait = (1 - elapsed) * period
            return Verdict(False, max(int(wait) + 1, 1))
        if cache.add(current_key, 1, timeout=2 * period) is False:
            cache.incr(current_key)
    except Exception:
        logger.exception("rate limit %s: cache unavailable, request let through", scope)
    return Verdict(True, 0)


def rate_limits_check(checks: list[tuple[str, str]]) -> Verdict:
    """Check several limits for one request (e.g. per IP and per contact); the
    first that refuses decides. Empty identities are skipped."""
    for scope, identity in checks:
        if identity:
            verdict = rate_limit_hit(scope, identity)
            if not verdict.allowed:
                return verdict
    return Verdict(True, 0)
