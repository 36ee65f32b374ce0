"""API keys, staff's and merchants' alike: issued, checked and revoked here
and nowhere else. The admin (staff keys, and merchants' keys to revoke), the
merchant portal and the API's authentication all come here.

A key is ``css_`` (staff) or ``csm_`` (merchant) and 43 URL-safe characters.
It is shown once, when it is made; only its SHA-256 is stored
(``cs_desk.keys``), so a leaked database leaks no key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKey, Merchant
from cs_desk.exceptions import ApplicationError
from cs_desk.keys import key_digest, key_new

Kind = ApiKey.Kind
PREFIXES = {Kind.STAFF: "css_", Kind.MERCHANT: "csm_"}
# How many live keys one shop may hold.
MERCHANT_KEYS_MAX = 10
# Writing last_used_at on every request would make each call a write; once a minute is enough.
TOUCH_EVERY = timedelta(minutes=1)
# Longer than any key we make: a longer one is not looked up.
KEY_LENGTH_MAX = 200


@transaction.atomic
def api_key_issue(*, kind: str, user, name: str, merchant: Merchant | None = None) -> tuple[ApiKey, str]:
    """A new key of ``kind`` for ``user`` (and, for a merchant key, the shop it
    acts for); returns it and the key itself, to be shown once and never again.

    Who may hold a key of each kind is the caller's door to decide (the admin
    form: a staff user; the portal: the signed-in merchant user)."""
    name = name.strip()
    if not name:
        raise ApplicationError(
            _("Give the token a name, e.g. the tool that will use it."), code="required", field="name"
        )
    if len(name) > ApiKey._meta.get_field("name").max_length:
        raise ApplicationError(_("A name has at most 100 characters."), code="too_long", field="name")
    if kind == Kind.MERCHANT:
        if merchant is None:
            raise ApplicationError(_("Only a merchant's users can make API tokens."), code="not_merchant")
        # The shop's row serialises its key making: two at once cannot both pass the count.
        Merchant.objects.select_for_update().only("pk").get(pk=merchant.pk)
        if ApiKey.objects.live().filter(merchant=merchant).count() >= MERCHANT_KEYS_MAX:
            raise ApplicationError(
                _("Your shop already has %(n)d tokens; revoke one first.") % {"n": MERCHANT_KEYS_MAX},
                code="too_many",
            )
    elif merchant is not None:
        raise ValueError("A staff key acts for no merchant.")
    prefix = PREFIXES[Kind(kind)]
    key = key_new(prefix)
    api_key = ApiKey.objects.create(
        kind=kind,
        user=user,
        merchant=merchant,
        name=name,
        prefix=key[: len(prefix) + 6],
        key_hash=key_digest(key),
    )
    return api_key, key


def api_key_authenticate(key: str, *, staff_check: Callable[[object], bool]) -> ApiKey | None:
    """The live key ``key``, if its user may still act with it; else None.

    A merchant key works while its user is active and still answers for the
    key's shop (a user who left the shop takes none of its keys along). A
    staff key works while ``staff_check(user)`` holds: who counts as staff is
    the ticket domain's rule (tickets.access.is_staff_user), which this app,
    below the domain, is handed rather than imports."""
    kind = next((k for k, prefix in PREFIXES.items() if key.startswith(prefix)), None)
    if kind is None or len(key) > KEY_LENGTH_MAX:
        return None
    api_key = (
        ApiKey.objects.live()
        .select_related("user__merchant_link", "merchant")
        .filter(kind=kind, key_hash=key_digest(key))
        .first()
    )
    if api_key is None or not api_key.user.is_active:
        return None
    if kind == Kind.STAFF:
        if not staff_check(api_key.user):
            return None
    else:
        link = getattr(api_key.user, "merchant_link", None)
        if link is None or link.merchant_id != api_key.merchant_id:
            return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > TOUCH_EVERY:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def api_keys_revoke(*, keys: QuerySet[ApiKey], now: datetime) -> int:
    """Revoke the live keys among ``keys`` (from then on they are refused);
    returns how many. One conditional update: a key revoked twice at once
    keeps the first instant."""
    return keys.filter(revoked_at__isnull=True).update(revoked_at=now)
