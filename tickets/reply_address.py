"""Signed reply addresses: the one rule for who an email reply may speak for.

Every email we send to a party who may answer by mail carries a ``Reply-To`` of
the form ``reply+<party><id>-t<ticket>-<signature>@MAIL_DOMAIN``:

* ``c`` the consumer of ticket ``<id>`` (their reply joins the conversation),
* ``m`` merchant ``<id>`` on ticket ``<ticket>`` (their reply is the merchant's reply),
* ``p`` penalty ``<id>`` (the merchant's reply is an appeal of it; no ticket).

The signature is an HMAC of the rest under the project's secret key, so an
address cannot be made up or changed to reach another ticket, merchant or
penalty. The outbox writes these addresses (``tickets.notifications``); the mail
app reads them (``mail.inbound``). Local parts are lower case: mail systems may
fold case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

CONSUMER, MERCHANT, PENALTY = "c", "m", "p"
_SALT = "cs_desk.reply_address"
_LOCAL = re.compile(r"^reply\+([cmp])(\d{1,18})-t(\d{1,18})-([0-9a-f]{20})$")


@dataclass(frozen=True)
class ReplyTo:
    party: str  # CONSUMER, MERCHANT or PENALTY
    party_id: int
    ticket_id: int | None


def _signature(party: str, party_id: int, ticket_id: int) -> str:
    return salted_hmac(_SALT, f"{party}{party_id}-t{ticket_id}", algorithm="sha256").hexdigest()[:20]


def reply_address(party: str, party_id: int, ticket_id: int | None = None) -> str:
    """The signed address a reply from ``party`` comes back to."""
    if party not in (CONSUMER, MERCHANT, PENALTY):
        raise ValueError(f"unknown party {party!r}")
    ticket = ticket_id or 0
    return f"reply+{party}{party_id}-t{ticket}-{_signature(party, party_id, ticket)}@{settings.MAIL_DOMAIN}"


def reply_address_read(address: str) -> ReplyTo | None:
    """The party a signed reply address stands for, or None when ``address`` is
    not one of ours or its signature does not hold."""
    local, _, domain = (address or "").strip().lower().rpartition("@")
    if domain != settings.MAIL_DOMAIN.lower():
        return None
    match = _LOCAL.match(local)
    if match is None:
        return None
    party, party_id, ticket_id, signature = match.groups()
    if not constant_time_compare(signature, _signature(party, int(party_id), int(ticket_id))):
        return None
    return ReplyTo(party=party, party_id=int(party_id), ticket_id=int(ticket_id) or None)
