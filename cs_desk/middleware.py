"""Request guards that must run before anything reads the request body, and the
API's language."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _


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
            if request.path.startswith("/api/"):
                message = _("The request is too large: at most %(files)d files of %(mb)d MB each.") % context
                response = JsonResponse({"code": "too_large", "message": message}, status=413)
            else:
                response = render(request, "tickets/public/too_large.html", context, status=413)
            response["Connection"] = "close"  # the unread body is not drained
            return response
        return self.get_response(request)


class ApiInputGuardMiddleware:
    """Under /api/: a NUL character in the path or a query parameter (``%00``)
    answers 400, before a filter hands it to PostgreSQL (which refuses it with an
    error that would otherwise surface as a 500)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            bad = ["path"] if "\x00" in request.path else []
            bad += [name for name, values in request.GET.lists() if any("\x00" in v for v in (name, *values))]
            if bad:
                message = str(_("The request holds a NUL character (%00)."))
                problem = {"code": "invalid_characters", "message": message}
                body = {**problem, "field": bad[0], "errors": {name: [problem] for name in bad}}
                return JsonResponse(body, status=400)
        return self.get_response(request)


class ApiLanguageMiddleware:
    """The API speaks the caller's language: the language cookie, else
    Accept-Language, else the default. (LocaleMiddleware gives every path
    without a language prefix the default language, which suits the site's
    pages, whose links carry the prefix, but not an API client.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            language = translation.get_language_from_request(request, check_path=False)
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
