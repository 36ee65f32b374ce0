"""What an event of the audit trail says, beyond its kind, in the reader's
language: a status or priority from → to, who a ticket went from and to, the
note sent with a forward, why the system made a change. One place for every
door that shows the trail (the desk's workspace, the admin).

``event_details(events)`` reads the people and shops the events name in one
query each, whatever the number of events."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import Merchant
from tickets.models import Ticket, TicketEvent
from tickets.models.base import Channel, Priority

Kind = TicketEvent.Kind

# Why the system (not a person) made a change.
REASONS = {
    "sla_breach": gettext_lazy("deadline missed"),
    "merchant_missed": gettext_lazy("the merchant did not answer in time"),
    "keyword": gettext_lazy("alert word"),
    "nobody_available": gettext_lazy("no agent available"),
    "reopened": gettext_lazy("reopened"),
    "priority_changed": gettext_lazy("priority changed"),
    "calendar_redated": gettext_lazy("the calendar was re-dated"),
    "declined": gettext_lazy("declined"),
    "lapsed": gettext_lazy("not taken in time"),
}


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def reason_text(reason: str) -> str:
    """Why the system made a change (a code of ``REASONS``), in the reader's language
    ("" for none, or a person's own doing)."""
    if reason in ("", "manual"):
        return ""
    return str(REASONS.get(reason, reason))


def _names(events: Sequence[TicketEvent]) -> tuple[dict[int, str], dict[int, str]]:
    """The usernames and shop names the events refer to by id."""
    users, shops = set(), set()
    for event in events:
        data = event.data or {}
        if event.kind == Kind.ASSIGNED:
            users.update(pk for pk in (data.get("from"), data.get("to")) if isinstance(pk, int))
        elif event.kind in (Kind.CHAT_OFFERED, Kind.CHAT_PASSED, Kind.CHAT_ACCEPTED) and isinstance(
            data.get("agent"), int
        ):
            users.add(data["agent"])
        elif event.kind == Kind.FORWARDED_TO_MERCHANT and isinstance(data.get("merchant"), int):
            shops.add(data["merchant"])
    model = get_user_model()
    user_names = (
        {pk: name for pk, name in model.objects.filter(pk__in=users).values_list("pk", model.USERNAME_FIELD)}
        if users
        else {}
    )
    shop_names = dict(Merchant.objects.filter(pk__in=shops).values_list("pk", "name")) if shops else {}
    return user_names, shop_names


def event_details(events: Sequence[TicketEvent]) -> dict[int, str]:
    """Event id → what it says beyond its kind ("" when nothing more)."""
    users, shops = _names(events)

    def person(pk) -> str:
        return _("nobody") if pk is None else users.get(pk, _("a removed user"))

    details = {}
    for event in events:
        data = event.data or {}
        parts: list[str] = []
        if event.kind == Kind.STATUS_CHANGED:
            parts.append(f"{_label(Ticket.Status, data.get('from'))} → {_label(Ticket.Status, data.get('to'))}")
        elif event.kind == Kind.PRIORITY_CHANGED:
            parts.append(f"{_label(Priority, data.get('from'))} → {_label(Priority, data.get('to'))}")
        elif event.kind == Kind.ASSIGNED:
            parts.append(f"{person(data.get('from'))} → {person(data.get('to'))}")
        elif event.kind == Kind.REOPENED:
            parts.append(_("from %(status)s") % {"status": _label(Ticket.Status, data.get("from"))})
        elif event.kind == Kind.CREATED:
            parts.append(_label(Channel, data.get("channel")))
            parts.append(_label(Priority, data.get("priority")))
            if data.get("follows"):
                parts.append(_("follows %(reference)s") % {"reference": data["follows"]})
        elif event.kind == Kind.FORWARDED_TO_MERCHANT:
            parts.append(shops.get(data.get("merchant"), ""))
            if data.get("note"):
                parts.append(_("note: %(note)s") % {"note": data["note"]})
        elif event.kind == Kind.MERGED:
            parts.append(_("into %(reference)s") % {"reference": data.get("into", "")})
        elif event.kind == Kind.MERGED_IN:
            parts.append(data.get("source", ""))
            messages = int(data.get("messages") or 0)
            parts.append(ngettext("%(n)d message", "%(n)d messages", messages) % {"n": messages})
        elif event.kind == Kind.KEYWORD_ALERT:
            parts.append("、".join(str(word) for word in data.get("words", [])))
        elif event.kind == Kind.SURVEY_ANSWERED:
            parts.append(_("rated %(rating)s of 5") % {"rating": data.get("rating")})
        elif event.kind in (Kind.CHAT_OFFERED, Kind.CHAT_PASSED, Kind.CHAT_ACCEPTED):
            parts.append(person(data.get("agent")))
        reason = reason_text(data.get("reason") or "")
        if reason:
            parts.append(_("reason: %(reason)s") % {"reason": reason})
        details[event.pk] = " · ".join(part for part in parts if part)
    return details
