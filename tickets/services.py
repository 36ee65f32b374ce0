"""Writes: the ticket lifecycle and the SLA clock it drives.

Every service locks the ticket row (the one lock guarding a ticket and its SLA
targets), applies the change, writes a TicketEvent for it, queues the
notifications it causes in the outbox, and commits all of it in one transaction.
``now`` is taken once per call (tests pass it, or move the clock).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cs_desk.exceptions import ApplicationError, InvalidTransition
from feedback.models import KeywordHit
from feedback.services import keywords_in
from tickets.access import assignable_users
from tickets.calendars import warn_if_uncovered, working_calendar
from tickets.events import event_build, events_committed
from tickets.evidence import evidence_record, evidence_staged
from tickets.models import Category, Message, Notification, SLAPolicy, SLATarget, Ticket, TicketEvent
from tickets.notifications import notification_build, notifications_queue, tracking_url
from tickets.phones import phone_normalise
from tickets.recipients import merchant_addresses, supervisors_by_team, user_language
from tickets.rules import evidence_count_check, message_clean, order_number_clean
from tickets.sla.clock import Step
from tickets.targets import (
    ACTIVE,
    RESPONSE_KINDS,
    TARGET_FIELDS,
    TIME_TAKEN_FIELDS,
    target_apply_policy,
    target_close,
    target_new,
    target_pause,
    target_reschedule,
    target_resume,
    ticket_refresh_sla,
)
from tickets.uploads import CleanFile

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
class _Work:
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
    def lock(cls, ticket: Ticket, *, now: datetime | None, actor=None) -> _Work:
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
        self.event(kind, target=target, data={"due_at": _iso(target.due_at), "late": late})

    def pause_target(self, target: SLATarget) -> None:
        target_pause(target, self.now)
        target.save(update_fields=TARGET_FIELDS)
        self.event(EventKind.TARGET_PAUSED, target=target)

    def resume_target(self, target: SLATarget) -> None:
        target_resume(target, self.now, working_calendar(target.calendar))
        target.save(update_fields=TARGET_FIELDS)
        self.event(EventKind.TARGET_RESUMED, target=target, data={"due_at": _iso(target.due_at)})

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
        events_committed([e.pk for e in self.events])  # webhooks and others hear of them after the commit


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# --- Creating ------------------------------------------------------------------


def ticket_create(
    *,
    category: Category,
    subject: str,
    body: str,
    requester_name: str,
    requester_email: str = "",
    requester_phone: str = "",
    channel: str = Ticket.Channel.WEB,
    merchant=None,
    order_number: str = "",
    language: str | None = None,
    priority: str | None = None,
    author=None,
    follows: Ticket | None = None,
    evidence: Sequence[CleanFile] = (),
    now: datetime | None = None,
) -> Ticket:
    """File a ticket: the consumer's first message with its evidence files, and
    the first-response and resolution targets, whose clocks start now.
    ``author`` is the agent who logged it (a phone call), if any; ``follows``
    the closed ticket this one continues.

    An alert word in the subject or the message flags the ticket, raises it to
    urgent before its clocks start, and tells the team's supervisors."""
    now = now or timezone.now()
    requester_email = requester_email.strip()
    requester_phone = phone_normalise(requester_phone)
    if not requester_email and not requester_phone:
        raise ApplicationError(
            _("Give a phone number or an email address so that we can reply."), code="contact_required"
        )
    order_number = order_number_clean(order_number)
    if not subject.strip():
        raise ApplicationError(_("Describe the problem in a few words."), code="required", field="subject")
    if not body.strip():
        raise ApplicationError(_("Describe what happened."), code="required", field="body")
    message_clean(body)
    evidence_count_check(evidence)
    if priority is not None and priority not in Ticket.Priority.values:
        raise ApplicationError(_("Unknown priority."), code="invalid_priority", field="priority")

    if follows is not None and follows.status != Status.CLOSED:
        raise ApplicationError(_("Only a closed complaint can be followed up."), code="follows_open")
    with evidence_staged(evidence, now=now) as staged, transaction.atomic():
        return _ticket_create(
            category=category,
            subject=subject,
            body=body,
            requester_name=requester_name,
            requester_email=requester_email,
            requester_phone=requester_phone,
            channel=channel,
            merchant=merchant,
            order_number=order_number,
            language=language,
            priority=priority,
            author=author,
            follows=follows,
            staged=staged,
            now=now,
        )


def _ticket_create(*, category: Category, body: str, priority: str | None, author, staged, now, **fields) -> Ticket:
    ticket = Ticket.objects.create(
        reference=reference_next(now),
        subject=fields["subject"].strip()[:200],
        requester_name=fields["requester_name"].strip()[:100],
        requester_email=fields["requester_email"],
        requester_phone=fields["requester_phone"],
        language=fields["language"] or settings.LANGUAGE_CODE,
        channel=fields["channel"],
        category=category,
        priority=priority or category.default_priority,
        team_id=category.team_id,
        merchant=fields["merchant"],
        order_number=fields["order_number"].strip(),
        follows=fields["follows"],
        created_at=now,
    )
    message = Message.objects.create(ticket=ticket, author_kind=Message.AuthorKind.CONSUMER, body=body, created_at=now)
    evidence_record(ticket=ticket, message=message, staged=staged, now=now)
    work = _Work(ticket=ticket, now=now, actor=author)
    data = {"channel": ticket.channel, "priority": ticket.priority}
    if ticket.follows_id:
        data["follows"] = ticket.follows.reference
    work.event(EventKind.CREATED, data=data)
    _keyword_alert(work, f"{ticket.subject}\n{body}")
    first = work.open_target(Kind.FIRST_RESPONSE)
    work.open_target(Kind.RESOLUTION)
    if ticket.requester_email:
        work.notify(
            "ticket_received",
            ticket.requester_email,
            language=ticket.language,
            name=ticket.requester_name,
            due=first.due_at,
            tracking_url=tracking_url(ticket),
        )
    work.commit()
    return ticket


def _keyword_alert(work: _Work, text: str) -> None:
    """Flag the ticket for each alert word in ``text``, raise it to urgent and
    tell the supervisors (before its targets open, so they run as urgent)."""
    words = keywords_in(text)
    if not words:
        return
    t = work.ticket
    KeywordHit.objects.bulk_create([KeywordHit(ticket=t, keyword=w, created_at=work.now) for w in words])
    work.set(is_flagged=True)
    found = [w.word for w in words]
    work.event(EventKind.KEYWORD_ALERT, data={"words": found})
    if t.priority != Ticket.Priority.URGENT:
        recompute_for_priority(work, Ticket.Priority.URGENT, reason="keyword")
    supervisors = supervisors_by_team([t.team_id]).get(t.team_id, [])
    work.notify_staff("keyword_alert", supervisors, words=", ".join(found))


# --- Conversation ---------------------------------------------------------------


def ticket_reply(
    *,
    ticket: Ticket,
    author,
    body: str,
    public: bool = True,
    evidence: Sequence[CleanFile] = (),
    now: datetime | None = None,
) -> Message:
    """An agent's public reply or internal note, perhaps with files (a picture
    the consumer sent in a chat, a courier's receipt). A public reply meets the
    response owed (first or next); a note changes nothing on the clock."""
    message_clean(body)
    evidence_count_check(evidence)
    now = now or timezone.now()
    with evidence_staged(evidence, now=now) as staged, transaction.atomic():
        return _ticket_reply(ticket=ticket, author=author, body=body, public=public, staged=staged, now=now)


def _ticket_reply(*, ticket: Ticket, author, body: str, public: bool, staged, now: datetime) -> Message:
    work = _Work.lock(ticket, now=now, actor=author)
    t = work.ticket
    if t.status == Status.CLOSED:
        raise InvalidTransition(_("This ticket is closed."))
    message = Message.objects.create(
        ticket=t, author_kind=Message.AuthorKind.AGENT, author=author, body=body, is_public=public, created_at=work.now
    )
    evidence_record(ticket=t, message=message, staged=staged, now=work.now)
    if not public:
        work.event(EventKind.INTERNAL_NOTE, data={"message": message.pk})
        work.commit()
        return message
    work.event(EventKind.PUBLIC_REPLY, data={"message": message.pk})
    for target in work.active(*RESPONSE_KINDS):
        work.close_target(target, SLATarget.Status.MET)
    if t.first_responded_at is None:
        work.set(first_responded_at=work.now)
    if t.status == Status.NEW:
        work.set(status=Status.OPEN)
        work.event(EventKind.STATUS_CHANGED, data={"from": Status.NEW, "to": Status.OPEN})
    if t.requester_email:
        work.notify(
            "agent_replied",
            t.requester_email,
            language=t.language,
            name=t.requester_name,
            body=body,
            tracking_url=tracking_url(t),
        )
    work.commit()
    return message


def ticket_consumer_message(
    *, ticket: Ticket, body: str, evidence: Sequence[CleanFile] = (), now: datetime | None = None
) -> Message:
    """The consumer writes again, perhaps with more evidence. A reply is owed (a
    next-response target opens unless one is already running); a pending ticket
    resumes; a resolved one reopens."""
    message_clean(body)
    evidence_count_check(evidence)
    now = now or timezone.now()
    with evidence_staged(evidence, now=now) as staged, transaction.atomic():
        work = _Work.lock(ticket, now=now)
        t = work.ticket
        if t.status == Status.CLOSED:
            raise InvalidTransition(_("This ticket is closed. Please file a new complaint."), code="ticket_closed")
        message = Message.objects.create(ticket=t, author_kind=Message.AuthorKind.CONSUMER, body=body, created_at=now)
        attachments = evidence_record(ticket=t, message=message, staged=staged, now=now)
        work.event(EventKind.CONSUMER_MESSAGE, data={"message": message.pk, "files": len(attachments)})
        if t.status == Status.RESOLVED:
            _reopen(work)
        elif t.status == Status.PENDING:
            _change_status(work, Status.OPEN)
        if not work.active(*RESPONSE_KINDS):
            work.open_target(Kind.NEXT_RESPONSE)
        work.notify_staff("consumer_replied", [t.assignee], body=body)
        work.commit()
    return message


# --- Status -----------------------------------------------------------------------

# Which status an agent may move a ticket to from each status. awaiting_merchant
# is entered only by forwarding to the merchant; new only by filing.
ALLOWED = {
    Status.NEW: {Status.OPEN, Status.PENDING, Status.RESOLVED, Status.CLOSED},
    Status.OPEN: {Status.PENDING, Status.RESOLVED, Status.CLOSED},
    Status.AWAITING_MERCHANT: {Status.OPEN, Status.PENDING, Status.RESOLVED, Status.CLOSED},
    Status.PENDING: {Status.OPEN, Status.RESOLVED, Status.CLOSED},
    Status.RESOLVED: {Status.OPEN, Status.CLOSED},
    Status.CLOSED: set(),
}


def _change_status(work: _Work, new: str) -> None:
    t = work.ticket
    old = t.status
    if new == old:
        return
    if new == Status.PENDING:
        # Waiting on the consumer: the resolution clock stops and no reply is owed.
        for target in work.active(Kind.RESOLUTION):
            if target.status == SLATarget.Status.RUNNING:
                work.pause_target(target)
        for target in work.active(*RESPONSE_KINDS):
            work.close_target(target, SLATarget.Status.CANCELLED)
    elif old == Status.PENDING:
        for target in work.active(Kind.RESOLUTION):
            if target.status == SLATarget.Status.PAUSED:
                work.resume_target(target)
    if new in (Status.RESOLVED, Status.CLOSED):
        for target in work.active():
            status = SLATarget.Status.MET if target.kind == Kind.RESOLUTION else SLATarget.Status.CANCELLED
            work.close_target(target, status)
        if new == Status.RESOLVED or t.resolved_at is None:
            work.set(resolved_at=work.now)
        if new == Status.CLOSED:
            work.set(closed_at=work.now)
    work.set(status=new)
    work.event(EventKind.STATUS_CHANGED, data={"from": old, "to": new})
    if new == Status.RESOLVED and t.requester_email:
        work.notify(
            "survey_invitation",
            t.requester_email,
            language=t.language,
            name=t.requester_name,
            survey_url=tracking_url(t) + "#survey",
        )


def _reopen(work: _Work) -> None:
    """A resolved ticket comes back: a new resolution cycle runs from now."""
    old = work.ticket.status
    work.set(status=Status.OPEN, resolved_at=None)
    work.event(EventKind.REOPENED, data={"from": old})
    work.open_target(Kind.RESOLUTION)


@transaction.atomic
def ticket_change_status(*, ticket: Ticket, status: str, actor=None, now: datetime | None = None) -> Ticket:
    work = _Work.lock(ticket, now=now, actor=actor)
    old = work.ticket.status
    if status not in Status.values:
        raise ApplicationError(_("Unknown status."), code="invalid_status", field="status")
    if status == old:
        return work.ticket
    if status not in ALLOWED[old]:
        raise InvalidTransition(
            _("A ticket cannot go from %(old)s to %(new)s.") % {"old": Status(old).label, "new": Status(status).label}
        )
    if old == Status.RESOLVED and status == Status.OPEN:
        _reopen(work)
    else:
        _change_status(work, status)
    work.commit()
    return work.ticket


# --- Priority, assignment ---------------------------------------------------------


def recompute_for_priority(work: _Work, new_priority: str, *, reason: str) -> None:
    """Set the priority and re-date every owed target that has not breached, from
    the moment its clock started, under the new priority's policy. Steps already
    taken are not taken again; steps now in the past come due at the next sweep.
    A breached target keeps the deadline it breached."""
    t = work.ticket
    old = t.priority
    work.set(priority=new_priority)
    work.event(EventKind.PRIORITY_CHANGED, data={"from": old, "to": new_priority, "reason": reason})
    policy = work.policy
    for target in work.active():
        if target.steps_taken >= Step.BREACH:
            continue
        wc = working_calendar(target.calendar)
        before = target.due_at
        target_apply_policy(target, policy, wc)
        target_reschedule(target, wc)
        target.save(update_fields=TARGET_FIELDS)
        work.event(EventKind.TARGET_RECOMPUTED, target=target, data={"from": _iso(before), "to": _iso(target.due_at)})


@transaction.atomic
def ticket_change_priority(*, ticket: Ticket, priority: str, actor=None, now: datetime | None = None) -> Ticket:
    if priority not in Ticket.Priority.values:
        raise ApplicationError(_("Unknown priority."), code="invalid_priority", field="priority")
    work = _Work.lock(ticket, now=now, actor=actor)
    if work.ticket.priority != priority:
        recompute_for_priority(work, priority, reason="manual")
        work.commit()
    return work.ticket


@transaction.atomic
def ticket_assign(*, ticket: Ticket, assignee, actor=None, now: datetime | None = None) -> Ticket:
    """Give the ticket to ``assignee`` (None: nobody), who must be an active member
    or supervisor of the ticket's team: an assignment opens the ticket to its
    assignee on every door, so it may not reach outside the team."""
    work = _Work.lock(ticket, now=now, actor=actor)
    t = work.ticket
    if (
        assignee is not None
        and assignee.pk != t.assignee_id
        and not assignable_users(actor, t).filter(pk=assignee.pk).exists()
    ):
        raise ApplicationError(
            _("%(user)s is not in this ticket's team.") % {"user": assignee}, code="not_assignable", field="assignee"
        )
    if t.assignee_id != (assignee.pk if assignee else None):
        work.event(EventKind.ASSIGNED, data={"from": t.assignee_id, "to": assignee.pk if assignee else None})
        work.set(assignee=assignee)
        work.commit()
    return t


# --- Merchants ----------------------------------------------------------------------


@transaction.atomic
def ticket_forward_to_merchant(*, ticket: Ticket, actor, note: str = "", now: datetime | None = None) -> SLATarget:
    """Ask the merchant to reply in the portal: 24 calendar hours by default."""
    work = _Work.lock(ticket, now=now, actor=actor)
    t = work.ticket
    if t.merchant is None:
        raise ApplicationError(_("This ticket is not about a merchant."), code="no_merchant")
    if t.status in (Status.RESOLVED, Status.CLOSED):
        raise InvalidTransition(_("Reopen the ticket before forwarding it."))
    if work.active(Kind.MERCHANT_REPLY):
        raise InvalidTransition(_("The merchant already has this complaint."), code="already_forwarded")
    if t.status == Status.PENDING:
        _change_status(work, Status.OPEN)
    old = t.status
    work.set(status=Status.AWAITING_MERCHANT)
    work.event(EventKind.STATUS_CHANGED, data={"from": old, "to": Status.AWAITING_MERCHANT})
    target = work.open_target(Kind.MERCHANT_REPLY)
    work.event(EventKind.FORWARDED_TO_MERCHANT, target=target, data={"note": note, "merchant": t.merchant_id})
    for email, user in merchant_addresses(t.merchant):
        work.notify(
            "merchant_forwarded",
            email,
            language=settings.LANGUAGE_CODE,
            user=user,
            merchant=t.merchant.name,
            due=target.due_at,
            body=note,
        )
    work.commit()
    return target


@transaction.atomic
def ticket_merchant_reply(*, ticket: Ticket, author, body: str, now: datetime | None = None) -> Message:
    """The merchant answers in the portal: the message joins the consumer's
    conversation and meets the merchant-reply target."""
    message_clean(body)
    work = _Work.lock(ticket, now=now, actor=author)
    t = work.ticket
    link = getattr(author, "merchant_link", None)
    forwarded = any(target.kind == Kind.MERCHANT_REPLY for target in work.targets)
    if link is None or t.merchant_id != link.merchant_id or not forwarded:
        raise ApplicationError(_("Ticket not found."), code="not_found")
    if t.status == Status.CLOSED:
        raise InvalidTransition(_("This ticket is closed."))
    message = Message.objects.create(
        ticket=t, author_kind=Message.AuthorKind.MERCHANT, author=author, body=body, created_at=work.now
    )
    work.event(EventKind.MERCHANT_REPLIED, data={"message": message.pk})
    for target in work.active(Kind.MERCHANT_REPLY):
        work.close_target(target, SLATarget.Status.MET)
    if t.status == Status.AWAITING_MERCHANT:
        work.set(status=Status.OPEN)
        work.event(EventKind.STATUS_CHANGED, data={"from": Status.AWAITING_MERCHANT, "to": Status.OPEN})
    recipients = [t.assignee] if t.assignee else supervisors_by_team([t.team_id]).get(t.team_id, [])
    work.notify_staff("merchant_replied", recipients, merchant=t.merchant.name, body=body)
    work.commit()
    return message


# --- Duplicates ---------------------------------------------------------------------


@transaction.atomic
def ticket_merge(*, source: Ticket, into: Ticket, actor, now: datetime | None = None) -> Ticket:
    """Merge the duplicate ``source`` into ``into``. Nothing is moved or lost:
    ``source`` keeps its messages, evidence and audit trail, is closed with its
    targets no longer owed, and points at ``into``, whose workspace shows both
    conversations and both trails. A reply the consumer was owed on the
    duplicate becomes owed on ``into``. Tickets merged into ``source`` earlier
    follow it, so a conversation is never more than one merge away."""
    if source.pk == into.pk:
        raise ApplicationError(_("A ticket cannot be merged into itself."), code="merge_self")
    # Lock both rows in a fixed order, so two opposite merges cannot deadlock.
    now = now or timezone.now()
    first, second = sorted((source, into), key=lambda t: t.pk)
    locked = {t.pk: _Work.lock(t, now=now, actor=actor) for t in (first, second)}
    src, dst = locked[source.pk], locked[into.pk]
    if src.ticket.merged_into_id or dst.ticket.merged_into_id:
        raise InvalidTransition(_("That ticket was already merged into another."), code="already_merged")
    if dst.ticket.status == Status.CLOSED:
        raise InvalidTransition(_("Reopen or choose an open ticket to merge into."), code="merge_into_closed")

    owed_reply = bool(src.active(*RESPONSE_KINDS))
    for target in src.active():
        src.close_target(target, SLATarget.Status.CANCELLED)
    old = src.ticket.status
    if old != Status.CLOSED:
        src.set(status=Status.CLOSED, closed_at=now)
        src.event(EventKind.STATUS_CHANGED, data={"from": old, "to": Status.CLOSED})
    src.set(merged_into=dst.ticket)
    src.event(EventKind.MERGED, data={"into": dst.ticket.reference, "into_id": dst.ticket.pk})
    followers = list(Ticket.objects.filter(merged_into=src.ticket).values_list("pk", "reference"))
    Ticket.objects.filter(pk__in=[pk for pk, _ref in followers]).update(merged_into=dst.ticket)
    messages = Message.objects.filter(ticket=src.ticket).count()
    dst.event(
        EventKind.MERGED_IN,
        data={
            "source": src.ticket.reference,
            "source_id": src.ticket.pk,
            "messages": messages,
            "also": [ref for _pk, ref in followers],
        },
    )
    if dst.ticket.status == Status.RESOLVED:
        _reopen(dst)
    if owed_reply and not dst.active(*RESPONSE_KINDS):
        dst.open_target(Kind.NEXT_RESPONSE)
    src.commit()
    dst.commit()
    return dst.ticket


# --- Several tickets at once --------------------------------------------------------


@dataclass
class BulkResult:
    done: list[Ticket] = field(default_factory=list)
    failed: list[tuple[Ticket, str]] = field(default_factory=list)


def tickets_bulk_update(*, tickets: Sequence[Ticket], action: str, value, actor, now=None) -> BulkResult:
    """Apply one change to each ticket through the single-ticket service, each in
    its own transaction with its own audit event; a ticket that refuses the
    change (a closed one cannot be reopened) is reported, the rest go on.
    ``value`` is a status, a priority, or for "assign" a user or None."""
    services = {
        "status": lambda t: ticket_change_status(ticket=t, status=value, actor=actor, now=now),
        "priority": lambda t: ticket_change_priority(ticket=t, priority=value, actor=actor, now=now),
        "assign": lambda t: ticket_assign(ticket=t, assignee=value, actor=actor, now=now),
    }
    if action not in services:
        raise ApplicationError(_("Unknown bulk action."), code="invalid_action", field="action")
    if action == "status" and value not in Status.values:
        raise ApplicationError(_("Unknown status."), code="invalid_status", field="status")
    if action == "priority" and value not in Ticket.Priority.values:
        raise ApplicationError(_("Unknown priority."), code="invalid_priority", field="priority")
    result = BulkResult()
    for ticket in tickets:
        try:
            services[action](ticket)
        except ApplicationError as error:
            result.failed.append((ticket, str(error.message)))
        else:
            result.done.append(ticket)
    return result
