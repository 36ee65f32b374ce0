"""``Authorization: Bearer <key>``: a staff API token (``css_…``, made in the
admin) or a merchant API token (``csm_…``, made in the merchant portal), both
checked by accounts.keys. Either acts as the user it belongs to; what that
user may do is decided by the endpoints' permissions and querysets, exactly as
for a signed-in session. An address that presents too many wrong keys is
throttled (429, Retry-After)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.permissions import SAFE_METHODS

from accounts.keys import api_key_authenticate
from cs_desk.ratelimit import GuessesExceeded, client_ip, guess_guarded
from tickets.access import is_staff_user


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # not ours: the session may still authenticate the request
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Give one token after “Bearer”."), code="invalid_token")
        try:
            key = header[1].decode()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("The token is not valid."), code="invalid_token") from exc
        try:
            token = guess_guarded(
                "api_key_guess",
                client_ip(request._request),
                lambda: api_key_authenticate(key, staff_check=is_staff_user),
            )
        except GuessesExceeded as exc:
            # Before any key is checked: a right guess would otherwise still show.
            raise exceptions.Throttled(
                wait=exc.verdict.retry_after, detail=str(_("Too many wrong tokens from your address; please wait."))
            ) from exc
        if token is None:
            raise exceptions.AuthenticationFailed(_("The token is not valid or was revoked."), code="invalid_token")
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A staff token (css_…, made by an administrator) or a merchant token (csm_…, made in the "
            "merchant portal).",
        }


class SessionCookieScheme(OpenApiAuthenticationExtension):
    """The desk's session for the API, as DRF's SessionAuthentication checks it:
    the session cookie, and for a request that changes something (POST, PATCH …)
    Django's CSRF token in the X-CSRFToken header too. Two schemes, required
    together on those operations (an OpenAPI security requirement with both)."""

    target_class = "rest_framework.authentication.SessionAuthentication"
    name = ["cookieAuth", "csrfToken"]
    priority = 1  # over drf-spectacular's own, which knows only the cookie

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "apiKey",
                "in": "cookie",
                "name": settings.SESSION_COOKIE_NAME,
                "description": "The session of a browser signed in to the desk. A POST or PATCH with it also "
                "needs csrfToken.",
            },
            {
                "type": "apiKey",
                "in": "header",
                "name": "X-CSRFToken",
                "description": f"With the session cookie, on every POST and PATCH: the value of the "
                f"{settings.CSRF_COOKIE_NAME} cookie (else 403). Not needed with a Bearer token.",
            },
        ]

    def get_security_requirement(self, auto_schema):
        if auto_schema.method in SAFE_METHODS:
            return {"cookieAuth": []}
        return {"cookieAuth": [], "csrfToken": []}
