"""Request guards that must run before anything reads the request body."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


class RequestBodyLimitMiddleware:
    """Refuse a request whose declared body is larger than every file at its limit
    plus the form's fields, from its Content-Length alone, before the CSRF check
    or a view parses (and spools to disk) any of it. 413, with a page saying the
    limits, so the consumer can go back and send smaller files."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.EVIDENCE_MAX_REQUEST_BYTES:
            context = {
                "files": settings.EVIDENCE_MAX_FILES,
                "mb": settings.EVIDENCE_MAX_FILE_BYTES // (1024 * 1024),
                "back": request.path,
            }
            response = render(request, "tickets/public/too_large.html", context, status=413)
            response["Connection"] = "close"  # the unread body is not drained
            return response
        return self.get_response(request)
