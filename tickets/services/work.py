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
from django.utils.translation import gettext_lazy as _

from cs_desk.exceptions import ApplicationError
from tickets.calendars import warn_if_uncovered, working_calendar
from tickets.events import EventRow, event_build, events_committed, events_written
from tickets.models import Notification, SLAPolicy, SLATarget, Ticket, TicketEvent
from tickets.notifications import notification_build, notifications_queue
from tickets.recipients import user_language
from tickets.targets import (
    ACTIVE,
    TARGET_FIELDS,
    TIME_TAKEN_FIELDS,
    target_close,
    target_new,
    target_pause,
    target_resume,
    ticket_refresh_sla,
)

Status = Ticket.Status
Kind = SLATarget.Kind
EventKind = TicketEvent.Kind


def policy_for(priority: str) -> SLAPolicy:
    try:
        return SLAPolicy.objects.select_related("calendar").get(priority=priority)
    except SLAPolicy.DoesNotExist as exc:
        raise ApplicationError(
            _("No SLA policy is configured for priority %(priority)s.") % {"priority": priority},
            code="no_sla_policy",
        ) from exc


def reference_next(now: datetime) -> str:
    """``CS-YYYYMMDD-NNNNNN``: the local date and that day's counter, taken with
    one atomic upsert so concurrent submissions never share a number."""
    day = timezone.localtime(now, ZoneInfo(settings.TIME_ZONE)).date()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tickets_ticketcounter (day, value) VALUES (%s, 1) "
            "ON CONFLICT (day) DO UPDATE SET value = tickets_ticketcounter.value + 1 RETURNING value",
            [day],
        )
        (value,) = cursor.fetchone()
    return f"CS-{day:%Y%m%d}-{value:06d}"


@dataclass
class Work:
    """A locked ticket, its targets, and what the service will write."""

    ticket: Ticket
    now: datetime
    actor: object | None = None
    targets: list[SLATarget] = field(default_factory=list)
    events: list[TicketEvent] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    ticket_fields: set[str] = field(default_factory=set)
    _policy: SLAPolicy | None = None

    @classmethod
    def lock(cls, ticket: Ticket, *, now: datetime | None, actor=None) -> Work:
        locked = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("team", "merchant", "assignee__staff_profile", "category")
            .get(pk=ticket.pk)
        )
        targets = list(locked.targets.select_related("calendar").order_by("id"))
        return cls(ticket=locked, now=now or timezone.now(), actor=actor, targets=targets)

    # -- reading -------------------------------------------------------------

    @property
    def policy(self) -> SLAPolicy:
        if self._policy is None or self._policy.priority != self.ticket.priority:
            self._policy = policy_for(self.ticket.priority)
        return self._policy

    def active(self, *kinds: str) -> list[SLATarget]:
        return [t for t in self.targets if t.status in ACTIVE and (not kinds or t.kind in kinds)]

    def next_cycle(self, kind: str) -> int:
        return max((t.cycle for t in self.targets if t.kind == kind), default=0) + 1

    # -- writing -------------------------------------------------------------

    def event(self, kind: str, *, target: SLATarget | None = None, data: dict | None = None) -> None:
        self.events.append(
            event_build(ticket=self.ticket, kind=kind, at=self.now, actor=self.actor, target=target, data=data)
        )

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
        self.event(EventKind.TARGET_OPENED, target=target, data={"due_at": target.due_at.isoformat()})
        return target

    def close_target(self, target: SLATarget, status: str) -> None:
        target_close(target, status, self.now, working_calendar(target.calendar))
        target.save(update_fields=[*TARGET_FIELDS, *TIME_TAKEN_FIELDS])
        kind = EventKind.TARGET_MET if status == SLATarget.Status.MET else EventKind.TARGET_CANCELLED
        late = status == SLATarget.Status.MET and target.due_at is not None and self.now > target.due_at
        self.event(kind, target=target, data={"due_at": iso(target.due_at), "late": late})

    def pause_target(self, target: SLATarget) -> None:
        target_pause(target, self.now)
        target.save(update_fields=TARGET_FIELDS)
        self.event(EventKind.TARGET_PAUSED, target=target)

    def resume_target(self, target: SLATarget) -> None:
        target_resume(target, self.now, working_calendar(target.calendar))
        target.save(update_fields=TARGET_FIELDS)
        self.event(EventKind.TARGET_RESUMED, target=target, data={"due_at": iso(target.due_at)})

    def notify(self, kind: str, recipient: str, *, language: str, user=None, **context) -> None:
        if not recipient:
            return
        base = {"reference": self.ticket.reference, "subject": self.ticket.subject}
        self.notifications.append(
            notification_build(
                kind=kind,
                recipient=recipient,
                language=language,
                context={**base, **context},
                ticket=self.ticket,
                user=user,
                at=self.now,
            )
        )

    def notify_staff(self, kind: str, users, **context) -> None:
        seen = set()
        for user in users:
            if user is not None and user.email and user.pk not in seen:
                seen.add(user.pk)
                self.notify(kind, user.email, language=user_language(user), user=user, **context)

    def commit(self) -> None:
        ticket_refresh_sla(self.ticket, self.targets)
        self.ticket_fields |= {"due_at", "is_overdue", "updated_at"}
        self.ticket.save(update_fields=sorted(self.ticket_fields))
        TicketEvent.objects.bulk_create(self.events)
        notifications_queue(self.notifications)
        events_written([EventRow.of(e) for e in self.events])  # in this transaction
        events_committed([e.pk for e in self.events])  # webhooks and others hear of them after the commit


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
