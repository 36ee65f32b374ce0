"""What a merchant's login may see: the complaints about its own shop that the
platform forwarded to it, their public conversation, and its own standing.
The one place this is decided; the portal, its API and the tests start here.

A ticket the merchant may not see answers exactly like one that does not
exist, whether asked for by id, by reference or by the consumer's tracking
token.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from accounts.models import Merchant
from tickets.models import Message, SLATarget, Ticket, TicketEvent


def merchant_of(user) -> Merchant | None:
    """The merchant a signed-in, active merchant user answers for."""
    if not user.is_authenticated or not user.is_active:
        return None
    link = getattr(user, "merchant_link", None)
    return link.merchant if link is not None else None


def complaints_for(merchant: Merchant) -> QuerySet[Ticket]:
    """Tickets about this merchant that were forwarded to it (at least once)."""
    forwarded = SLATarget.objects.filter(ticket=OuterRef("pk"), kind=SLATarget.Kind.MERCHANT_REPLY)
    return Ticket.objects.filter(merchant=merchant).filter(Exists(forwarded))


def complaint_for(merchant: Merchant, pk, *, rows: QuerySet[Ticket] | None = None) -> Ticket | None:
    """The complaint ``pk`` if this merchant may see it, else None. ``rows`` is a
    narrower or annotated form of ``complaints_for(merchant)`` to read it from."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    if rows is None:
        rows = complaints_for(merchant).select_related("category")
    return rows.filter(pk=pk).first()


def public_conversation(ticket: Ticket) -> QuerySet[Message]:
    """What the consumer sees too: never internal notes, never evidence files."""
    return ticket.messages.filter(is_public=True).select_related("author").order_by("created_at", "id")


def forward_notes(ticket: Ticket) -> list[dict]:
    """What the platform wrote to the merchant when forwarding, oldest first."""
    events = ticket.events.filter(kind=TicketEvent.Kind.FORWARDED_TO_MERCHANT).order_by("created_at", "id")
    return [{"at": e.created_at, "note": e.data["note"]} for e in events if (e.data or {}).get("note")]
