"""``Authorization: Bearer <key>`` with a merchant API token (merchants.tokens)."""

from __future__ import annotations

from rest_framework import authentication, exceptions

from merchants.tokens import token_authenticate


class MerchantTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # not ours: the session may still authenticate the request
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Give one token after “Bearer”.", code="invalid_token")
        try:
            key = header[1].decode()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("The token is not valid.", code="invalid_token") from exc
        token = token_authenticate(key)
        if token is None:
            raise exceptions.AuthenticationFailed("The token is not valid or was revoked.", code="invalid_token")
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword
