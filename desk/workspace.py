"""Reads of the agent workspace: the whole conversation, the SLA panel and the
audit timeline of one ticket the agent may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Prefetch, Q

from tickets.calendars import working_calendars
from tickets.event_text import event_details
from tickets.models import Attachment, Message, SLATarget, Ticket, TicketEvent
from tickets.sla.clock import Step, consumed
from tickets.targets import target_clock


@dataclass
class TargetRow:
    target: SLATarget
    elapsed: timedelta  # on the target's own clock (business or calendar), pauses excluded
    percent: int
    state: str  # met, met_late, breached, warning, running, paused, cancelled


def _state(target: SLATarget, percent: float) -> str:
    status = target.status
    if status == SLATarget.Status.MET:
        return "met_late" if target.is_breached else "met"
    if status in (SLATarget.Status.MISSED,) or target.steps_taken >= Step.BREACH:
        return "breached"
    if status == SLATarget.Status.CANCELLED:
        return "cancelled"
    if status == SLATarget.Status.PAUSED:
        return "paused"
    if target.steps_taken >= Step.WARNING or percent >= target.warning_percent:
        return "warning"
    return "running"


def sla_panel(*, ticket: Ticket, now: datetime) -> list[TargetRow]:
    targets = list(ticket.targets.select_related("policy").order_by("started_at", "id"))
    calendars = working_calendars({t.calendar_id for t in targets})
    rows = []
    for target in targets:
        clock = target_clock(target)
        at = target.closed_at or now
        used = consumed(clock, calendars[target.calendar_id], at)
        percent = int(100 * used / target.duration) if target.duration else 100
        rows.append(TargetRow(target, used, percent, _state(target, percent)))
    return rows


def _with_merged(ticket: Ticket) -> Q:
    """This ticket and the duplicates merged into it."""
    return Q(ticket=ticket) | Q(ticket__merged_into=ticket)


def conversation(*, ticket: Ticket) -> list[Message]:
    """Every message: public replies, internal notes, the merchant's, the
    consumer's, and those of the duplicates merged into this ticket."""
    return list(
        Message.objects.filter(_with_merged(ticket))
        # "inbound_mail": the email a message came in, if any (the mail app's row; named, not imported)
        .select_related("author", "ticket", "inbound_mail")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("created_at", "id")
    )


def timeline(*, ticket: Ticket) -> list[tuple[TicketEvent, str]]:
    """The audit trail, with the merged duplicates' trails interleaved: each
    event with what it says beyond its kind (``tickets.event_text``)."""
    events = list(
        TicketEvent.objects.filter(_with_merged(ticket)).select_related("actor", "ticket").order_by("created_at", "id")
    )
    details = event_details(events)
    return [(event, details[event.pk]) for event in events]


def staff_attachment(*, ticket: Ticket, attachment_id: int) -> Attachment | None:
    return Attachment.objects.filter(_with_merged(ticket), pk=attachment_id).first()


def latest_message_id(messages: list[Message]) -> int:
    return max((m.pk for m in messages), default=0)


def messages_since(*, ticket: Ticket, after_id: int, reader) -> list[Message]:
    """Messages others added to the conversation after the one with ``after_id``
    (what an agent has not read before sending a reply)."""
    return list(
        Message.objects.filter(_with_merged(ticket), pk__gt=after_id)
        .exclude(author=reader)
        .select_related("author")
        .order_by("id")
    )
