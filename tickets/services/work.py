"""Writes: the ticket lifecycle and the SLA clock it drives.

Every service locks the ticket row (the one lock guarding a ticket and its SLA
targets), applies the change, writes a TicketEvent for it, queues the
notifications it causes in the outbox, and commits all of it in one transaction.
``now`` is taken once per call (tests pass it, or move the clock).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.utils import timezone

from tickets.calendars import warn_if_uncovered, working_calendar
from tickets.events import (
    Event,
    EventRow,
    event_build,
    events_committed,
    events_written,
    target_cancelled,
    target_met,
    target_opened,
    target_paused,
    target_recomputed,
    target_resumed,
)
from tickets.models import SLAPolicy, SLATarget, Ticket, TicketEvent
from tickets.notifications import Outgoing, notifications_for, notifications_insert
from tickets.policies import policies_in_order, policy_for_ticket
from tickets.recipients import merchant_addresses
from tickets.reply_address import CONSUMER, MERCHANT, reply_address
from tickets.targets import (
    ACTIVE,
    TARGET_FIELDS,
    TIME_TAKEN_FIELDS,
    target_close,
    target_new,
    target_pause,
    target_resume,
    targets_redate,
    ticket_refresh_sla,
)

Status = Ticket.Status
Kind = SLATarget.Kind


def reference_next(now: datetime) -> str:
    """``CS-YYYYMMDD-NNNNNN``: the local date and that day's counter, taken with
    one atomic upsert so concurrent submissions never share a number. The upsert
    locks the day's row until its transaction ends: take it outside the filing's
    (``ticket_create``), or as late in it as possible."""
    day = timezone.localtime(now, ZoneInfo(settings.TIME_ZONE)).date()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tickets_ticketcounter (day, value) VALUES (%s, 1) "
            "ON CONFLICT (day) DO UPDATE SET value = tickets_ticketcounter.value + 1 RETURNING value",
            [day],
        )
        (value,) = cursor.fetchone()
    return f"CS-{day:%Y%m%d}-{value:06d}"


# What a change usually reads with its ticket: notifications name the team, the shop,
# the assignee (and their alias) and the category.
RELATED = ("team", "merchant", "assignee__staff_profile", "category")


@dataclass
class Work:
    """A locked ticket, its targets, and what the service will write."""

    ticket: Ticket
    now: datetime
    actor: object | None = None
    targets: list[SLATarget] = field(default_factory=list)
    events: list[TicketEvent] = field(default_factory=list)
    notifications: list[Outgoing] = field(default_factory=list)
    ticket_fields: set[str] = field(default_factory=set)
    _policies: list[SLAPolicy] | None = None

    @classmethod
    def lock(cls, ticket: Ticket, *, now: datetime | None, actor=None, related: tuple[str, ...] = RELATED) -> Work:
        """Lock ``ticket`` and read its targets. Without ``now`` (tests pass one),
        the change's instant is taken here, once the lock is held: a reply that
        waited while a sweep held the lock is stamped after the sweep's steps.
        ``related``: the rows read with it (a line of a conversation needs none of
        them: reading them costs it more than the rest of the change)."""
        tickets = Ticket.objects.select_for_update(of=("self",))
        locked = (tickets.select_related(*related) if related else tickets).get(pk=ticket.pk)  # () would read all
        targets = list(locked.targets.select_related("calendar").order_by("id"))
        return cls(ticket=locked, now=now or timezone.now(), actor=actor, targets=targets)

    # -- reading -------------------------------------------------------------

    @property
    def policy(self) -> SLAPolicy:
        """The policy the ticket gets as it is now (``tickets.policies``): a change
        of priority, say, chooses again. The policies are read once per change."""
        if self._policies is None:
            self._policies = policies_in_order()
        return policy_for_ticket(self.ticket, self._policies)

    def active(self, *kinds: str) -> list[SLATarget]:
        return [t for t in self.targets if t.status in ACTIVE and (not kinds or t.kind in kinds)]

    def next_cycle(self, kind: str) -> int:
        return max((t.cycle for t in self.targets if t.kind == kind), default=0) + 1

    # -- writing -------------------------------------------------------------

    def add(self, *events: Event) -> None:
        """Record ``events`` (each made by its builder in ``tickets.events``)."""
        self.events.extend(event_build(e, ticket=self.ticket, at=self.now, actor=self.actor) for e in events)

    def set(self, **changes) -> None:
        for name, value in changes.items():
            setattr(self.ticket, name, value)
            self.ticket_fields.add(name)

    def open_target(self, kind: str) -> SLATarget:
        policy = self.policy
        wc = working_calendar(policy.calendar)
        target = target_new(
            ticket=self.ticket,
            kind=kind,
            cycle=self.next_cycle(kind),
            policy=policy,
            calendar=policy.calendar,
            wc=wc,
            now=self.now,
        )
        if target.clock == "business" and target.due_at is not None:
            warn_if_uncovered(wc, policy.calendar.name, self.now, target.due_at)
        target.save()
        self.targets.append(target)
        self.add(target_opened(target=target))
        return target

    def close_target(self, target: SLATarget, status: str) -> None:
        target_close(target, status, self.now, working_calendar(target.calendar))
        target.save(update_fields=[*TARGET_FIELDS, *TIME_TAKEN_FIELDS])
        if status == SLATarget.Status.MET:
            # Late when met after the deadline, or when the sweep took the breach while
            # this change waited for the lock: the event agrees with the reports.
            self.add(target_met(target=target, late=target.is_breached))
        else:
            self.add(target_cancelled(target=target))

    def redate(self, targets: list[SLATarget], *, policy: SLAPolicy | None, reason: str) -> int:
        """A person re-dates ``targets`` (``targets_redate``: a priority change under
        the new ``policy``, a calendar re-date keeping theirs): each is saved, and
        each whose deadline moved gets an event naming ``reason``. Returns how many
        moved."""
        moved = 0
        for target, before, changed in targets_redate(
            targets, policy=policy, calendar=lambda t: working_calendar(t.calendar), at=self.now, reason=reason
        ):
            target.save(update_fields=TARGET_FIELDS)
            if changed:
                self.add(target_recomputed(target=target, before=before, reason=reason))
                moved += 1
        return moved

    def pause_target(self, target: SLATarget) -> None:
        target_pause(target, self.now)
        target.save(update_fields=TARGET_FIELDS)
        self.add(target_paused(target=target))

    def resume_target(self, target: SLATarget) -> None:
        target_resume(target, self.now, working_calendar(target.calendar))
        target.save(update_fields=TARGET_FIELDS)
        self.add(target_resumed(target=target))

    # Who is told is decided here; each reader's language and the one row per
    # address, by ``notifications_for``. Every notice names the ticket.

    def notify(self, kind: str, recipient: str, *, language: str, user=None, **context) -> None:
        """Tell one address (the consumer's) in ``language``; their reply by mail
        comes back to the ticket's signed consumer address."""
        reply_to = reply_address(CONSUMER, self.ticket.pk, self.ticket.pk)
        self._notify(kind, context, addresses=[(recipient, user)], language=language, reply_to=reply_to)

    def notify_staff(self, kind: str, users, **context) -> None:
        """Tell staff, each in their own language."""
        self._notify(kind, context, users=users)

    def notify_merchant(self, kind: str, **context) -> None:
        """Tell the ticket's merchant: its contact address and its users; their
        reply by mail comes back to the merchant's signed address for this ticket."""
        reply_to = reply_address(MERCHANT, self.ticket.merchant_id, self.ticket.pk)
        self._notify(kind, context, addresses=merchant_addresses(self.ticket.merchant), reply_to=reply_to)

    def _notify(self, kind: str, context: dict, **readers) -> None:
        context = {"reference": self.ticket.reference, "subject": self.ticket.subject, **context}
        self.notifications += notifications_for(kind, context, ticket_id=self.ticket.pk, **readers)

    def commit(self) -> None:
        ticket_refresh_sla(self.ticket, self.targets)
        self.ticket_fields |= {"due_at", "is_overdue", "updated_at"}
        self.ticket.save(update_fields=sorted(self.ticket_fields))
        TicketEvent.objects.bulk_create(self.events)
        notifications_insert(self.notifications, at=self.now)
        events_written([EventRow.of(e) for e in self.events])  # in this transaction
        events_committed([e.pk for e in self.events])  # webhooks and others hear of them after the commit
