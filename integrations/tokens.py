"""Staff API tokens: made by an administrator for a staff user (often a
service account such as “order system” in the agents group of one team); the
key is shown once. A token acts as its user, with exactly their rights, and
stops working when the user is deactivated or is no longer staff."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from cs_desk.keys import key_digest, key_new
from integrations.models import StaffApiToken
from tickets.access import is_staff_user

KEY_PREFIX = "css_"
# Writing last_used_at on every request would make each call a write; once a minute is enough.
TOUCH_EVERY = timedelta(minutes=1)


def staff_token_create(*, user, name: str) -> tuple[StaffApiToken, str]:
    """A new token for ``user``; returns it and its key (shown once, never stored)."""
    key = key_new(KEY_PREFIX)
    token = StaffApiToken.objects.create(
        user=user, name=name.strip(), prefix=key[: len(KEY_PREFIX) + 6], key_hash=key_digest(key)
    )
    return token, key


def staff_token_authenticate(key: str) -> StaffApiToken | None:
    """The live token with this key whose user is still active staff."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    token = StaffApiToken.objects.select_related("user").filter(key_hash=key_digest(key), revoked_at=None).first()
    if token is None or not is_staff_user(token.user):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        StaffApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
