"""API-wide plumbing, shared by every endpoint under /api/v1/:

* errors: every error is JSON ``{"code", "message"}`` with a stable code;
  validation errors add ``errors``, a map from each field (dotted for nested
  ones, ``non_field_errors`` for the body as a whole) to its problems;
* ``StrictSerializer``: a field the endpoint does not know is an error, not
  silently dropped (a typo in ``"priorty"`` must not look like success);
* lists paged by a cursor, which each page also gives as ``next_cursor``.

The OpenAPI schema is shaped in ``cs_desk.api.schema``.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cs_desk.exceptions import ApplicationError

# --- Errors -------------------------------------------------------------------------


class ProblemSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable: e.g. required, invalid_choice, unknown_field.")
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The body of every error response."""

    code = serializers.CharField(
        help_text="Stable, machine-readable: invalid, not_found, not_authenticated, permission_denied, throttled, …"
    )
    message = serializers.CharField(help_text="For people; in the request's language where translated.")
    field = serializers.CharField(required=False, help_text="The field a domain rule refused, when there is one.")
    errors = serializers.DictField(
        child=ProblemSerializer(many=True),
        required=False,
        help_text="Validation errors: each field (dotted when nested; non_field_errors for the body) and its problems.",
    )


def _problems(detail, codes, prefix: str = "") -> dict[str, list[dict]]:
    """DRF's nested ``ValidationError.detail`` flattened to ``{"a.0.b": [{code, message}]}``."""
    if isinstance(detail, dict):
        flat: dict[str, list[dict]] = {}
        for key, value in detail.items():
            flat.update(_problems(value, codes.get(key, {}) if isinstance(codes, dict) else codes, f"{prefix}{key}."))
        return flat
    if isinstance(detail, list) and detail and all(isinstance(item, str) for item in detail):
        codes = codes if isinstance(codes, list) else [codes] * len(detail)
        field = prefix.rstrip(".") or "non_field_errors"
        return {field: [{"code": str(code), "message": str(item)} for item, code in zip(detail, codes, strict=False)]}
    if isinstance(detail, list):
        flat = {}
        for index, value in enumerate(detail):
            flat.update(_problems(value, codes[index] if isinstance(codes, list) else codes, f"{prefix}{index}."))
        return flat
    return {prefix.rstrip(".") or "non_field_errors": [{"code": str(codes), "message": str(detail)}]}


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        body = {"code": exc.code, "message": str(exc.message)}
        if exc.field:
            body["field"] = exc.field
            body["errors"] = {exc.field: [{"code": exc.code, "message": str(exc.message)}]}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "code": "invalid",
            "message": str(_("Invalid input.")),
            "errors": _problems(exc.detail, exc.get_codes()),
        }
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {"code": codes if isinstance(codes, str) else "error", "message": str(exc.detail)}
    return response


def _json_error(code: str, message: str, status_code: int) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status_code)


def api_not_found(request, exception=None):
    """404 for a path under /api/ that matches no endpoint: JSON like every API error."""
    return _json_error("not_found", str(_("Not found.")), 404)


def api_server_error(request):
    return _json_error("server_error", str(_("Something went wrong on our side; it has been logged.")), 500)


# --- Input --------------------------------------------------------------------------


def _json_type_ok(field: serializers.Field, value) -> bool:
    """Whether a JSON value has the type the field documents (DRF would quietly
    turn 0 into "0", "true" into True and "4" into 4)."""
    if value is None:
        return True  # allow_null decides
    if isinstance(field, serializers.BooleanField):
        return isinstance(value, bool)
    if isinstance(field, serializers.IntegerField):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(field, (serializers.CharField, serializers.ChoiceField, serializers.RelatedField)):
        return isinstance(value, str)
    if isinstance(field, serializers.DateField):
        return isinstance(value, str)
    if isinstance(field, serializers.ListField):
        return isinstance(value, list)
    return True


def storable(value) -> bool:
    """Whether text can be stored in PostgreSQL: no NUL character, no lone UTF-16
    surrogate (JSON's \\u0000 and \\ud800 decode to both)."""
    if isinstance(value, str):
        if "\x00" in value:
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, list):
        return all(storable(item) for item in value)
    if isinstance(value, dict):
        return all(storable(k) and storable(v) for k, v in value.items())
    return True


def by_rule(rule, value):
    """``value`` checked by a rule of the domain (which returns the clean value
    or raises ApplicationError), its refusal as the field's validation error:
    the API answers in the same words and code the service would."""
    try:
        return rule(value)
    except ApplicationError as error:
        raise serializers.ValidationError(str(error.message), code=error.code) from error


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not declare (read-only ones included: sending them
    is a mistake too), and, in a JSON body, values of the wrong JSON type; each
    named in the error. A form body (multipart) is all strings: pass
    ``context={"form": True}`` and DRF's own parsing of each field decides."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name: f for name, f in self.fields.items() if not f.read_only}
            errors = {
                str(key): [serializers.ErrorDetail(str(_("Unknown field.")), code="unknown_field")]
                for key in data
                if key not in writable
            }
            if not self.context.get("form"):
                for name, value in data.items():
                    if name in writable and not _json_type_ok(writable[name], value):
                        errors[name] = [serializers.ErrorDetail(str(_("Wrong type of value.")), code="invalid_type")]
            for name, value in data.items():
                if name in writable and name not in errors and not storable(value):
                    text = str(_("The text holds characters that cannot be stored (NUL, lone surrogates)."))
                    errors[name] = [serializers.ErrorDetail(text, code="invalid_characters")]
            if errors:
                raise serializers.ValidationError(dict(sorted(errors.items())))
        return super().to_internal_value(data)


class CursorPage(CursorPagination):
    """Lists page with a cursor, not a page number: stable while rows are added.
    The cursor's ordering is by id, which is unique: DRF's cursor falls back to
    a plain offset when a page's rows share their position (tickets filed in the
    same instant), and an offset shifts when rows are added.
    ``page_size`` (1–200, default 50) that is not a whole number in range is an
    error, not quietly the default. Each page gives its neighbours' cursors
    (``next_cursor``, ``previous_cursor``) beside their URLs, so that a client
    passes ``cursor`` as a parameter instead of taking a URL apart."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    # The schema's words (the schema is in English: cs_desk.api.schema).
    cursor_query_description = (
        "Where the page starts: the next_cursor (or previous_cursor) of the page before. "
        "Leave it out for the first page. An unknown cursor answers 404."
    )
    page_size_query_description = "Rows per page."

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise serializers.ValidationError(
                {
                    self.page_size_query_param: [
                        _("Give a whole number from 1 to %(max)d.") % {"max": self.max_page_size}
                    ]
                }
            )
        return int(raw)

    def _cursor(self, link: str | None) -> str | None:
        """The cursor a page link carries (DRF writes it into the link's query)."""
        if link is None:
            return None
        return parse_qs(urlsplit(link).query)[self.cursor_query_param][0]

    def get_paginated_response(self, data):
        next_link, previous_link = self.get_next_link(), self.get_previous_link()
        return Response(
            {
                "next": next_link,
                "previous": previous_link,
                "next_cursor": self._cursor(next_link),
                "previous_cursor": self._cursor(previous_link),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        page = super().get_paginated_response_schema(schema)
        cursor = {"type": "string", "nullable": True}
        page["properties"] = {
            "next": {**page["properties"]["next"], "description": "The next page's URL; null on the last page."},
            "previous": {**page["properties"]["previous"], "description": "The page before's URL; null on the first."},
            "next_cursor": {**cursor, "description": "Pass as cursor for the next page; null on the last page."},
            "previous_cursor": {**cursor, "description": "Pass as cursor for the page before; null on the first."},
            "results": page["properties"]["results"],
        }
        page["required"] = list(page["properties"])
        return page

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size, "default": self.page_size})
        return parameters


class NewestFirst(CursorPage):
    """Most recently made first (by id: the order rows were written in)."""

    ordering = ("-id",)


class OldestFirst(CursorPage):
    ordering = ("id",)
