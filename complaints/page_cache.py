"""The tracking page, rendered once per version of its ticket and served from the
cache until the ticket changes.

A consumer reloads the tracking page to see whether anyone answered; most loads
find nothing new. The page is rendered once per (ticket version, language, path)
and kept in the shared cache. The version (``tickets.selectors.ticket_page_version``,
the one query a load costs) is the ticket's events, how many and the latest:
every change that reaches the page — a message, a status, a promise re-dated, an
escalation, a survey, a merge — records an event in the same transaction, so a
changed ticket is a new key and the next load renders it afresh: never stale,
nothing to delete. The names the page shows from elsewhere (category, shop) are
part of the version; the ticket's ``updated_at`` too, for a change that wrote no
event.

What differs between two visitors of one version is the CSRF token of the forms:
the page is cached with a placeholder and each visitor's token put in when it is
served. What changes with the clock alone — "we are late" once the promised reply
time passes — bounds how long an entry is used (``valid_until``).

Only the plain page is cached: a form sent back with errors, a refusal or a
page with a notice is rendered for its request and never kept."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.translation import get_language

from cs_desk.redis import redis_client

logger = logging.getLogger(__name__)

# What the forms' {% csrf_token %} renders in a cached page, replaced per visitor.
CSRF_PLACEHOLDER = "csrf-token-of-this-visitor-4f1c0b2e"


def _key(request: HttpRequest, version: tuple) -> str:
    digest = hashlib.sha256(repr((version, get_language(), request.get_full_path())).encode()).hexdigest()[:32]
    return cache.make_key(f"page:tracking:{version[0]}:{digest}")


def tracking_page_cached(
    request: HttpRequest, version: tuple, render: Callable[[dict], tuple[HttpResponse, datetime | None]]
) -> HttpResponse:
    """The tracking page of the ticket at ``version`` (``ticket_page_version``)
    for this visitor: from the cache, or by ``render(extra_context)``, which
    returns the response and the instant from which it would read differently by
    the clock alone (None: never). Kept as "<valid until>\n<page>" under the
    cache's prefix, read and written with one command each; a cache outage
    renders every load."""
    key = _key(request, version)
    client = redis_client()
    try:
        entry = client.get(key)
    except Exception:
        logger.warning("tracking page cache unavailable: rendering", exc_info=True)
        entry = None
    html = None
    if entry is not None:
        valid_until, _sep, page = entry.partition(b"\n")
        if time.time() < float(valid_until):
            html = page.decode()
    if html is None:
        response, changes_at = render({"csrf_token": CSRF_PLACEHOLDER})
        html = response.content.decode()
        valid_until = time.time() + settings.TRACKING_PAGE_CACHE_S
        if changes_at is not None:
            valid_until = min(valid_until, changes_at.timestamp())
        lifetime = max(1, int(valid_until - time.time()) + 1)
        try:
            client.set(key, f"{valid_until!r}\n".encode() + html.encode(), ex=lifetime)
        except Exception:
            logger.warning("tracking page cache unavailable: not kept", exc_info=True)
    response = HttpResponse(html.replace(CSRF_PLACEHOLDER, get_token(request)))
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
