"""``Authorization: Bearer <key>``: a staff API token (``css_…``, made in the
admin) or a merchant API token (``csm_…``, made in the merchant portal), both
checked by accounts.keys. Either acts as the user it belongs to; what that
user may do is decided by the endpoints' permissions and querysets, exactly as
for a signed-in session. An address that presents too many wrong keys is
throttled (429, Retry-After)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

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
