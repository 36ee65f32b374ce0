"""A consumer's phone number, in one place for every door: parsed and checked
with ``phonenumbers`` (a number without a country code is Chinese), stored in
E.164 (``+8613812345678``), masked for lists and merchants, and matched for
search, rate limits and "the same requester". The consumer form, the phone-call
form, the API, the admin and the channels to come all go through here (through
``tickets.services.ticket_create``, which refuses anything else)."""

from __future__ import annotations

import re

import phonenumbers
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cs_desk.exceptions import ApplicationError

DEFAULT_REGION = "CN"
# A number as the lists show it (``phone_mask``): the first three digits, stars, the last four.
_MASKED = re.compile(r"^(\d{3})\*+(\d{4})$")
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


def phone_search(query: str, field: str = "requester_phone") -> Q | None:
    """What a search box's ``query`` means for the phone column ``field``, or
    None when it is no phone at all: a number as the lists mask it
    (``138****5678``: stored in E.164, or as typed before E.164), a whole number
    however written, or the last four or more digits."""
    query = query.replace(" ", "")
    masked = _MASKED.match(query)
    if masked:
        head, tail = masked.groups()
        return (Q(**{f"{field}__startswith": f"+86{head}"}) | Q(**{f"{field}__startswith": head})) & Q(
            **{f"{field}__endswith": tail}
        )
    whole = phone_search_key(query) if len(query) >= 7 else None
    if whole:
        return Q(**{field: whole})
    if query.isdigit() and len(query) >= 4:
        return Q(**{f"{field}__endswith": query})
    return None
