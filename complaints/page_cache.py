"""The tracking page, rendered once per version of its ticket and served from the
cache until the ticket changes.

A consumer reloads the tracking page to see whether anyone answered; most loads
find nothing new. The page is rendered once per (ticket version, language, path)
and kept in the shared cache. The version is the ticket's latest event
(``tickets.selectors.ticket_for_token`` reads it with the ticket, in the one
query a load costs): every change that reaches the page — a message, a status,
a promise re-dated, an escalation, a survey, a merge — records an event in the
same transaction, so a changed ticket is a new key and the next load renders it
afresh: never stale, nothing to delete. The names the page shows from elsewhere
(category, shop) are part of the key; the ticket's own ``updated_at`` too, for a
change that wrote no event.

What differs between two visitors of one version is the CSRF token of the forms:
the page is cached with a placeholder and each visitor's token put in when it is
served. What changes with the clock alone — "we are late" once the promised reply
time passes — bounds how long an entry is used (``valid_until``).

Only the plain page is cached: a form sent back with errors, a refusal or a
page with a notice is rendered for its request and never kept."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.translation import get_language

from tickets.models import Ticket

# What the forms' {% csrf_token %} renders in a cached page, replaced per visitor.
CSRF_PLACEHOLDER = "csrf-token-of-this-visitor-4f1c0b2e"


def _key(request: HttpRequest, ticket: Ticket) -> str:
    shown = (
        ticket.tracking_token,  # a ticket of another database with the same id and history never matches
        ticket.last_event_id,
        ticket.updated_at.isoformat(),
        ticket.category.name_zh,
        ticket.category.name_en,
        ticket.merchant.name if ticket.merchant_id else "",
        ticket.merchant.shop_id if ticket.merchant_id else "",
        get_language(),
        request.get_full_path(),
    )
    digest = hashlib.sha256(repr(shown).encode()).hexdigest()[:32]
    return f"page:tracking:{ticket.pk}:{digest}"


def tracking_page_cached(
    request: HttpRequest, ticket: Ticket, render: Callable[[dict], tuple[HttpResponse, datetime | None]]
) -> HttpResponse:
    """The tracking page of ``ticket`` for this visitor: from the cache, or by
    ``render(extra_context)``, which returns the response and the instant from
    which it would read differently by the clock alone (None: never)."""
    key = _key(request, ticket)
    entry = cache.get(key)
    if entry is not None and time.time() < entry[1]:
        html = entry[0]
    else:
        response, changes_at = render({"csrf_token": CSRF_PLACEHOLDER})
        html = response.content.decode()
        lifetime = settings.TRACKING_PAGE_CACHE_S
        valid_until = time.time() + lifetime
        if changes_at is not None:
            valid_until = min(valid_until, changes_at.timestamp())
            lifetime = max(1, min(lifetime, int(valid_until - time.time()) + 1))
        cache.set(key, (html, valid_until), timeout=lifetime)
    response = HttpResponse(html.replace(CSRF_PLACEHOLDER, get_token(request)))
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
