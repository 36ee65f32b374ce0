"""The search box of the desk's queue (and of what reuses its filters: the export,
the staff API): one condition for whatever an agent types, each branch of which
an index answers, so that a search never walks the open tickets."""

from __future__ import annotations

import re

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.lookups import DataContains
from django.db.models import Func, Q, TextField, Value
from django.db.models.functions import Lower, Reverse
from django.db.models.lookups import Exact, StartsWith

from tickets.phones import phone_search_key

# What a subject search compares: the subject's characters, lower-cased, as an array
# (``ticket_subject_chars_idx``, a GIN index, answers "holds all these characters"). One
# character at a time, so that a two-character Chinese word (退款, 张伟) is found through
# the index: a trigram index can use nothing shorter than three characters, and most
# Chinese words are two. The index narrows, ``icontains`` decides.
SUBJECT_CHARS = Func(Lower("subject"), Value(None), function="string_to_array", output_field=ArrayField(TextField()))
# The phone number read backwards (``ticket_phone_reversed_idx``): its last digits are a
# prefix, which a B-tree answers.
PHONE_REVERSED = Reverse("requester_phone")
_REFERENCE = re.compile(r"CS-[0-9-]{4,}", re.IGNORECASE)
_MASKED_PHONE = re.compile(r"^(\d{3})\*{2,}(\d{4})$")


def ticket_search(query: str) -> Q:
    """The tickets a search box's ``query`` finds, as one condition each branch of
    which an index answers (``Ticket.Meta.indexes``), so that no search walks the
    open tickets:

    * a reference, in any case (the unique index), or its beginning from ``CS-``
      on (``CS-20261123``: the reference's pattern index);
    * an order number, or its first four or more characters (``ticket_order_number_idx``);
    * a phone number as the lists mask it (``138****5678``), whole however written, or
      its last four or more digits (``ticket_phone_reversed_idx``: numbers read backwards);
    * an email address in any case (``ticket_email_upper_idx``);
    * two or more characters of the subject, Chinese included (``ticket_subject_chars_idx``).
    """
    query = query.strip()
    phone = _phone_search(query)
    if phone is not None and "*" in query:
        return phone  # a masked number means nothing else
    condition = Q(reference=query.upper())
    if _REFERENCE.fullmatch(query):
        condition |= Q(reference__startswith=query.upper())
    condition |= Q(order_number__startswith=query) if len(query) >= 4 else Q(order_number=query)
    if phone is not None:
        condition |= phone
    if "@" in query:
        condition |= Q(requester_email__iexact=query)
    chars = sorted(set(query.lower()) - {" "})
    if len(query) >= 2 and chars:
        condition |= Q(DataContains(SUBJECT_CHARS, Value(chars, output_field=ArrayField(TextField())))) & Q(
            subject__icontains=query
        )
    return condition


def _phone_search(query: str) -> Q | None:
    """``tickets.phones.phone_search`` through the reversed number's index: a number
    as the lists mask it (stored in E.164, or as typed before E.164), a whole number
    however written, or its last four or more digits; None when the query is no phone."""
    query = query.replace(" ", "")
    masked = _MASKED_PHONE.match(query)
    if masked:
        head, tail = masked.groups()
        return Q(StartsWith(PHONE_REVERSED, tail[::-1])) & (
            Q(requester_phone__startswith=f"+86{head}") | Q(requester_phone__startswith=head)
        )
    whole = phone_search_key(query) if len(query) >= 7 else None
    if whole:
        return Q(Exact(PHONE_REVERSED, whole[::-1]))
    if query.isdigit() and len(query) >= 4:
        return Q(StartsWith(PHONE_REVERSED, query[::-1]))
    return None
