"""Request guards that must run before anything reads the request body, and the
API's language."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _

from cs_desk.api import storable


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
                response = render(request, "complaints/too_large.html", context, status=413)
            response["Connection"] = "close"  # the unread body is not drained
            return response
        return self.get_response(request)


class InputGuardMiddleware:
    """On every path: a NUL character or a lone surrogate in the path, or in a
    query parameter's name or value, answers 400 before any view runs (PostgreSQL
    cannot store a NUL, psycopg cannot send a lone surrogate: either would surface
    as a 500 from the first filter that uses the text). Under /api/ the API's error
    body, naming each part (``path`` or the parameter); elsewhere a page in the
    visitor's language that names them.

    Form bodies are left to the forms, which say so next to the field and keep
    the rest of what the person typed. (Over HTTP a lone surrogate never arrives:
    Django decodes invalid UTF-8 in the query and a form body as U+FFFD and
    leaves it percent-encoded in the path. The check is for a server that would
    hand one over.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        in_path = not storable(request.path)
        names = [name for name, values in request.GET.lists() if not storable([name, *values])]
        if not in_path and not names:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            message = str(_("The text holds characters that cannot be stored (NUL, lone surrogates)."))
            problem = {"code": "invalid_characters", "message": message}
            bad = ["path"] * in_path + names
            body = {**problem, "field": bad[0], "errors": {name: [problem] for name in bad}}
            return JsonResponse(body, status=400)
        context = {"in_path": in_path, "names": [_shown(name) for name in names]}
        # The page's language switch links back to the path, which a lone surrogate
        # makes impossible to encode: such a page is rendered without the request.
        linkable = storable(request.path.replace("\x00", ""))
        return render(request if linkable else None, "complaints/bad_request.html", context, status=400)


def _shown(name: str) -> str:
    """A parameter's name as the page can show it: a NUL as ``%00`` (as it was
    typed in the address), a lone surrogate escaped, at most 100 characters."""
    shown = name.replace("\x00", "%00").encode("utf-8", "backslashreplace").decode("utf-8")
    return shown if len(shown) <= 100 else shown[:99] + "…"


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
