"""API tokens a merchant user makes for their shop's own tools. The key is
shown once; only its SHA-256 is stored, so a leaked database leaks no key."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cs_desk.exceptions import ApplicationError
from cs_desk.keys import key_digest, key_new
from merchants.access import merchant_of
from merchants.models import MerchantApiToken

KEY_PREFIX = "csm_"
MAX_TOKENS = 10
# Writing last_used_at on every request would make each call a write; once a minute is enough.
TOUCH_EVERY = timedelta(minutes=1)


@transaction.atomic
def token_create(*, user, name: str) -> tuple[MerchantApiToken, str]:
    """A new token for the user's merchant; returns it and its key (shown once)."""
    merchant = merchant_of(user)
    if merchant is None:
        raise ApplicationError(_("Only a merchant's users can make API tokens."), code="not_merchant")
    name = name.strip()
    if not name:
        raise ApplicationError(
            _("Give the token a name, e.g. the tool that will use it."), code="required", field="name"
        )
    if len(name) > 100:
        raise ApplicationError(_("A name has at most 100 characters."), code="too_long", field="name")
    live = MerchantApiToken.objects.select_for_update().filter(merchant=merchant, revoked_at__isnull=True)
    if len(live) >= MAX_TOKENS:
        raise ApplicationError(
            _("Your shop already has %(n)d tokens; revoke one first.") % {"n": MAX_TOKENS}, code="too_many"
        )
    key = key_new(KEY_PREFIX)
    token = MerchantApiToken.objects.create(
        user=user, merchant=merchant, name=name, prefix=key[: len(KEY_PREFIX) + 6], key_hash=key_digest(key)
    )
    return token, key


def token_revoke(*, user, token_id: int) -> MerchantApiToken | None:
    """Revoke one of the user's shop's tokens; None if there is no such live token."""
    merchant = merchant_of(user)
    if merchant is None:
        return None
    token = MerchantApiToken.objects.filter(pk=token_id, merchant=merchant, revoked_at__isnull=True).first()
    if token is not None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_authenticate(key: str) -> MerchantApiToken | None:
    """The live token with this key whose user may still act for its merchant."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    token = (
        MerchantApiToken.objects.select_related("user__merchant_link", "merchant")
        .filter(key_hash=key_digest(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    link = getattr(token.user, "merchant_link", None)
    if link is None or link.merchant_id != token.merchant_id:
        return None  # the user left the shop: the shop's tokens they made stop working
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        MerchantApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
