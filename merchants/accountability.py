"""What a merchant answers for: a missed reply deadline is a strike, a new
strike moves the merchant on the penalty ladder, and a reply or a miss changes
the merchant's score.

The sweep records the miss on the ticket only: its ``merchant_missed`` event on
the merchant-reply target (``tickets.events.merchant_missed``). This app hears
of the event inside the transaction that writes it (registered in
``MerchantsConfig.ready`` with ``tickets.events.events_written_register``), so
the miss and its strike commit together or not at all, and the ticket domain
never imports this app. The ladder is moved and the score stored by a task,
dispatched only once the change is committed: after a miss, and after a
merchant's reply (``merchant_replied``), which may meet a deadline.
"""

from __future__ import annotations

from collections.abc import Sequence

from merchants.models import MerchantStrike
from merchants.tasks import merchant_ladder_dispatch
from tickets.events import EventRow
from tickets.models import Ticket, TicketEvent


def merchant_events_record(rows: Sequence[EventRow]) -> list[MerchantStrike]:
    """The in-transaction consumer: the strikes of the misses among ``rows``,
    and, on commit, the ladder and the score of every merchant who missed or
    replied. Queries only when a miss or a merchant's reply is among the rows."""
    strikes = merchant_strikes_record(rows)
    replied = [row.ticket_id for row in rows if row.kind == TicketEvent.Kind.MERCHANT_REPLIED]
    merchants = {strike.merchant_id for strike in strikes}
    if replied:
        merchants |= set(
            Ticket.objects.filter(pk__in=replied, merchant_id__isnull=False).values_list("merchant_id", flat=True)
        )
    merchant_ladder_dispatch(merchants)
    return strikes


def merchant_strikes_record(rows: Sequence[EventRow]) -> list[MerchantStrike]:
    """Record a strike for each ``merchant_missed`` event among ``rows``. Exactly once per missed target:
    a target that already has its strike (an event handed twice) gets none, and
    the one-to-one ``MerchantStrike.target`` is the last word. Returns the
    strikes written. Queries only when a miss is among the rows."""
    missed = [row for row in rows if row.kind == TicketEvent.Kind.MERCHANT_MISSED]
    if not missed:
        return []
    targets = {row.target_id for row in missed}
    struck = set(MerchantStrike.objects.filter(target_id__in=targets).values_list("target_id", flat=True))
    references = dict(Ticket.objects.filter(pk__in={row.ticket_id for row in missed}).values_list("pk", "reference"))
    strikes: dict[int, MerchantStrike] = {}
    for row in missed:
        if row.target_id in struck or row.target_id in strikes:
            continue
        strikes[row.target_id] = MerchantStrike(
            merchant_id=row.data["merchant"],
            ticket_id=row.ticket_id,
            target_id=row.target_id,
            created_at=row.created_at,
            reason=MerchantStrike.Reason.MISSED_REPLY,
            params={"reference": references[row.ticket_id]},
        )
    MerchantStrike.objects.bulk_create(strikes.values(), ignore_conflicts=True)
    return list(strikes.values())
