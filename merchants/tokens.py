"""API keys a merchant user makes for their shop's own tools, in the portal.
Keys of either kind are made, checked and revoked by accounts.keys; this is
the merchant's door to it: the shop is always the signed-in user's own."""

from __future__ import annotations

from django.utils import timezone

from accounts.keys import api_key_issue, api_keys_revoke
from accounts.models import ApiKey
from merchants.access import merchant_of


def token_create(*, user, name: str) -> tuple[ApiKey, str]:
    """A new key for the user's shop; returns it and the key (shown once).
    A user of no shop is refused by ``api_key_issue`` (``not_merchant``)."""
    return api_key_issue(kind=ApiKey.Kind.MERCHANT, user=user, name=name, merchant=merchant_of(user))


def token_revoke(*, user, token_id: int) -> bool:
    """Revoke one of the user's shop's live keys; False if there is no such key."""
    merchant = merchant_of(user)
    if merchant is None:
        return False
    keys = ApiKey.objects.filter(pk=token_id, kind=ApiKey.Kind.MERCHANT, merchant=merchant)
    return api_keys_revoke(keys=keys, now=timezone.now()) > 0
