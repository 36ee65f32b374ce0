"""The OpenAPI schema of /api/v1/ (drf-spectacular), shaped so that a client
generated from it works as written (tests/api/test_generated_client.py
generates one with openapi-python-client and runs a ticket's life with it):

* in English whatever the caller's language (the API's answers still follow
  Accept-Language; the schema is a contract, not a page);
* each operation's error responses, in ``ErrorSerializer``'s shape, with the
  headers that come with them (``WWW-Authenticate`` on 401, ``Retry-After`` on 429);
* a path parameter the URL takes as digits is an integer, as the ids it names are;
* a request body refuses properties it does not declare
  (``additionalProperties: false``), as ``StrictSerializer`` does;
* a change made with the desk's session needs Django's CSRF token: the
  ``X-CSRFToken`` header, both as a security scheme and as a header parameter;
* an operation's description is its own: a viewset's docstring, which speaks of
  all of its operations, is not copied onto each.
"""

from __future__ import annotations

from django.utils import translation
from drf_spectacular.generators import SchemaGenerator as SpectacularSchemaGenerator
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import build_basic_type, force_instance, get_doc
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.viewsets import ViewSetMixin

from cs_desk.api import ErrorSerializer, StrictSerializer

SCHEMA_LANGUAGE = "en"

_ERROR_TEXT = {
    400: "Invalid input: unknown fields, wrong types, values a rule refuses (see errors), a NUL character.",
    401: "No valid credentials: sign in, or send Authorization: Bearer <token>.",
    403: "Signed in, but this kind of user may not use this endpoint; or a request with the session cookie "
    "that changes something (POST, PATCH) without the X-CSRFToken header.",
    404: "No such object, or not one you may see (the two are not told apart).",
    429: "Too many requests; retry after the number of seconds in Retry-After.",
}

_ERROR_HEADERS = {
    401: {
        "WWW-Authenticate": {
            "description": "How to authenticate: Bearer (send Authorization: Bearer <token>).",
            "required": True,
            "schema": {"type": "string", "example": "Bearer"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds to wait before the next request is let through.",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}

# A path parameter whose URL pattern is this names an object by its (integer) id.
_DIGITS = "^[0-9]+$"

# Django's CSRF check of a request signed in by the session (CsrfViewMiddleware, through DRF's
# SessionAuthentication): the security scheme csrfToken says it (integrations.authentication); the
# parameter puts it where a generated client, which reads no apiKey scheme, can send it. (It also
# keeps openapi-python-client 0.29.1 from writing a reply function that does not import: a required
# body with two content types and no optional parameter leaves its ``Unset`` unimported, issue #1451.)
CSRF_HEADER = OpenApiParameter(
    "X-CSRFToken",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Only with the session cookie (cookieAuth), and then required: the value of the csrftoken "
    "cookie. Leave it out with a Bearer token.",
)


class SchemaGenerator(SpectacularSchemaGenerator):
    """The schema in English, whichever language the request (or the shell of
    ``manage.py spectacular``) has active: every translatable text in it (choice
    labels, help texts, DRF's own descriptions) is rendered while English is."""

    def get_schema(self, request=None, public=False):
        with translation.override(SCHEMA_LANGUAGE):
            return super().get_schema(request=request, public=public)


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, with each operation's error responses: 400 always
    (a malformed request), 401/403 where there are credentials to check, 404 where
    the path names an object or a cursor pages, 429 always."""

    def _error_statuses(self) -> list[int]:
        statuses = []
        # Any request can be refused as malformed (a NUL in the path or the query, a bad body).
        statuses.append(400)
        public = all(isinstance(p, AllowAny) for p in self.view.get_permissions())
        # A public endpoint still refuses a bad token (401) and a session POST without its CSRF token (403).
        if not public or self.view.get_authenticators():
            statuses += [401, 403]
        # The path names an object, or the list has a cursor (an invalid one is 404).
        if "{" in self.path or (self._is_list_view() and getattr(self.view, "pagination_class", None)):
            statuses.append(404)
        statuses.append(429)
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_statuses():
            if str(code) not in responses:
                response = self._get_response_for_code(ErrorSerializer, str(code), ["application/json"], direction)
                response["description"] = _ERROR_TEXT[code]
                if code in _ERROR_HEADERS:
                    response["headers"] = _ERROR_HEADERS[code]
                responses[str(code)] = response
        return responses

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        sessions = any(isinstance(a, SessionAuthentication) for a in self.view.get_authenticators())
        if sessions and self.method not in SAFE_METHODS:
            parameters = [*parameters, CSRF_HEADER]
        return parameters

    def get_description(self) -> str:
        """The action's own docstring (or ``extend_schema(description=…)``, which
        takes precedence). A viewset's docstring speaks of all its operations, so
        it is not repeated on each; a single-operation view's docstring is its."""
        if isinstance(self.view, ViewSetMixin):
            return get_doc(getattr(self.view, getattr(self.view, "action", None) or "", None))
        return super().get_description()

    def _resolve_path_parameters(self, variables):
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            if parameter["schema"].get("pattern") == _DIGITS:
                parameter["schema"] = build_basic_type(OpenApiTypes.INT)
        return parameters

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and isinstance(force_instance(serializer), StrictSerializer):
            schema["additionalProperties"] = False
        return schema
