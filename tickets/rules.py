"""What a person may type, in one place for every door (the consumer form, the
phone-call form, the desk, the merchant portal, the API, the admin and the
channels to come): the requester's name and contact, order numbers, message
lengths, how many evidence files. The services enforce these rules; forms and
serializers call the same functions only to show the error next to the field
early. Phone numbers have their own module, :mod:`tickets.phones`."""

from __future__ import annotations

import re
from collections.abc import Sized

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from cs_desk.exceptions import ApplicationError

# As shown in a marketplace order list: 6 to 32 letters, digits or dashes,
# starting and ending with a letter or digit (the column holds 40).
ORDER_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{4,30}[A-Za-z0-9]")
ORDER_NUMBER_MAX = 32
# The columns: Ticket.requester_name and Ticket.requester_email.
NAME_MAX = 100
EMAIL_MAX = 254


def requester_name_clean(value: str, *, field: str = "requester_name") -> str:
    """The requester's name, trimmed: required, at most ``NAME_MAX`` characters."""
    value = (value or "").strip()
    if not value:
        raise ApplicationError(_("Tell us your name."), code="required", field=field)
    if len(value) > NAME_MAX:
        raise ApplicationError(
            _("A name may hold at most %(limit)d characters.") % {"limit": NAME_MAX}, code="too_long", field=field
        )
    return value


def email_clean(value: str, *, field: str = "requester_email") -> str:
    """An email address, trimmed, "" when empty; anything that is not one is
    refused (the forms' and the API's email fields check the same before)."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        if len(value) > EMAIL_MAX:
            raise ValidationError("too long")
        validate_email(value)
    except ValidationError as exc:
        raise ApplicationError(_("Enter a valid email address."), code="invalid_email", field=field) from exc
    return value


def contact_check(*, phone: str, email: str) -> None:
    """A phone number or an email address, so that someone can reply."""
    if not phone and not email:
        raise ApplicationError(
            _("Give a phone number or an email address so that we can reply."), code="contact_required"
        )


def order_number_clean(value: str, *, field: str = "order_number") -> str:
    """The order number as typed (trimmed), "" when empty; anything else refused."""
    value = (value or "").strip()
    if value and not ORDER_NUMBER.fullmatch(value):
        raise ApplicationError(
            _("An order number has 6 to 32 letters, digits or dashes."), code="invalid_order_number", field=field
        )
    return value


def message_max_chars() -> int:
    """The longest message anyone may write (``MESSAGE_MAX_CHARS``)."""
    return settings.MESSAGE_MAX_CHARS


def message_clean(body: str, *, field: str = "body") -> str:
    """A message's text: not empty, at most ``MESSAGE_MAX_CHARS`` characters."""
    if not (body or "").strip():
        raise ApplicationError(_("The message is empty."), code="required", field=field)
    limit = message_max_chars()
    if len(body) > limit:
        raise ApplicationError(
            _("A message may hold at most %(limit)d characters (this one has %(count)d).")
            % {"limit": limit, "count": len(body)},
            code="too_long",
            field=field,
        )
    return body


def evidence_count_check(files: Sized, *, field: str = "evidence") -> None:
    """At most ``EVIDENCE_MAX_FILES`` evidence files with one message."""
    limit = settings.EVIDENCE_MAX_FILES
    if len(files) > limit:
        raise ApplicationError(
            _("Send at most %(limit)d files with one message.") % {"limit": limit}, code="too_many_files", field=field
        )
