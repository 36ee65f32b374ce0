"""The API's throttles (settings REST_FRAMEWORK): per signed-in user or token,
and per client address for anonymous callers, counted by ``cs_desk.ratelimit``
(a sliding window in Redis that lets requests through if Redis is down). Kept
apart from cs_desk.api: DRF imports them while defining APIView itself."""

from __future__ import annotations

from rest_framework.throttling import BaseThrottle

from cs_desk.ratelimit import client_ip, rate_limit_hit


class _Throttle(BaseThrottle):
    scope = ""

    def identity(self, request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        identity = self.identity(request)
        if identity is None:
            return True
        verdict = rate_limit_hit(self.scope, identity)
        self._wait = verdict.retry_after
        return verdict.allowed

    def wait(self):
        return getattr(self, "_wait", None)


class UserThrottle(_Throttle):
    """Per signed-in user or token (``API_RATE_USER_PER_MINUTE``)."""

    scope = "api_user"

    def identity(self, request):
        return str(request.user.pk) if request.user and request.user.is_authenticated else None


class AnonThrottle(_Throttle):
    """Per client address for anonymous callers (``API_RATE_ANON_PER_MINUTE``)."""

    scope = "api_anon"

    def identity(self, request):
        return None if request.user and request.user.is_authenticated else client_ip(request._request)
