"""Staff API keys: made by an administrator for a staff user (often a service
account such as “order system” in the agents group of one team); the key is
shown once. A key acts as its user, with exactly their rights, and stops
working when the user is deactivated or is no longer staff
(accounts.keys.api_key_authenticate, handed tickets.access.is_staff_user).
Keys of either kind are made, checked and revoked by accounts.keys; this is
the staff door to it."""

from __future__ import annotations

from accounts.keys import api_key_issue
from accounts.models import ApiKey


def staff_token_create(*, user, name: str) -> tuple[ApiKey, str]:
    """A new staff key for ``user``; returns it and the key (shown once, never stored)."""
    return api_key_issue(kind=ApiKey.Kind.STAFF, user=user, name=name)
