"""A consumer's phone number, in one place for every door: parsed and checked
with ``phonenumbers`` (a number without a country code is Chinese), stored in
E.164 (``+8613812345678``), masked for lists and merchants, and matched for
search, rate limits and "the same requester". The consumer form, the phone-call
form, the API, the admin and the channels to come all go through here (through
``tickets.services.ticket_create``, which refuses anything else)."""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext_lazy as _

from cs_desk.exceptions import ApplicationError

DEFAULT_REGION = "CN"
INVALID = _("Enter a valid phone number: a mainland China mobile or landline, or + and the country code.")


def phone_normalise(value: str, *, field: str = "requester_phone") -> str:
    """``value`` as E.164, or "" when empty. A number that cannot be a real one
    (too short, too long, an impossible prefix) is refused, naming ``field``."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ApplicationError(INVALID, code="invalid_phone", field=field) from exc
    if not phonenumbers.is_valid_number(number):
        raise ApplicationError(INVALID, code="invalid_phone", field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _national(phone: str) -> tuple[str, str]:
    """(country code, national significant number) of a stored number; numbers
    stored before E.164 (or unparseable) are taken as they are."""
    try:
        number = phonenumbers.parse(phone, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return "", "".join(ch for ch in phone if ch.isdigit())
    return str(number.country_code), phonenumbers.national_significant_number(number)


def phone_mask(phone: str) -> str:
    """Enough to recognise a number, not to call it: ``+8613812345678`` →
    ``138****5678``; a foreign number keeps its country code
    (``+44 207****0958``); short numbers keep only their last two digits."""
    phone = (phone or "").strip()
    if not phone:
        return ""
    country, digits = _national(phone)
    if len(digits) >= 7:
        masked = f"{digits[:3]}****{digits[-4:]}"
    else:
        masked = "*" * max(len(digits) - 2, 1) + digits[-2:]
    return masked if country in ("", "86") else f"+{country} {masked}"


def phone_same(a: str, b: str) -> bool:
    """The same number, however each was written (numbers filed before E.164
    storage were kept as typed)."""
    if not a or not b:
        return False
    return a == b or _national(a) == _national(b)


def phone_search_key(query: str) -> str | None:
    """The stored form of a number typed into a search box, or None when the
    query is not a whole phone number."""
    try:
        return phone_normalise(query)
    except ApplicationError:
        return None
