"""Surveys, feedback from the public form and keyword hits: the writes the
consumer's pages call, and the keyword hits of a complaint, written from its
keyword-alert event in the transaction that files it (registered in
``FeedbackConfig.ready``)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from cs_desk.exceptions import ApplicationError
from feedback.models import Feedback, KeywordHit, Survey
from tickets import events
from tickets.events import EventRow, event_record
from tickets.keywords import keywords_in
from tickets.models import AlertKeyword, SLATarget, Ticket, TicketEvent
from tickets.notifications import notification_build, notifications_queue
from tickets.recipients import managers, user_language


def ticket_keyword_hits_write(rows: list[EventRow]) -> None:
    """The keyword hits of the complaints whose keyword-alert events were just
    written (a ``tickets.events`` in-transaction consumer): one per ticket and
    word, in the transaction that files the complaint. A word deleted meanwhile
    is left out; a hit already recorded is left as it is (the unique
    constraint), so a repeated event writes nothing twice."""
    alerts = [e for e in rows if e.kind == TicketEvent.Kind.KEYWORD_ALERT]
    if not alerts:
        return
    wanted = {pk for e in alerts for pk in e.data.get("keyword_ids", ())}
    existing = set(AlertKeyword.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    KeywordHit.objects.bulk_create(
        [
            KeywordHit(ticket_id=e.ticket_id, keyword_id=pk, created_at=e.created_at)
            for e in alerts
            for pk in e.data.get("keyword_ids", ())
            if pk in existing
        ],
        ignore_conflicts=True,
    )


def feedback_submit(
    *, topic: str, body: str, contact: str = "", language: str, now: datetime | None = None
) -> Feedback:
    """Record a piece of general feedback from the public form. Alert words in it
    flag it, are recorded as keyword hits and are emailed to the managers."""
    now = now or timezone.now()
    body = body.strip()
    if not body:
        raise ApplicationError(_("Please write your feedback."), code="required", field="body")
    if topic not in Feedback.Topic.values:
        raise ApplicationError(_("Choose a topic."), code="invalid_choice", field="topic")
    words = keywords_in(body)
    with transaction.atomic():
        feedback = Feedback.objects.create(
            topic=topic,
            body=body,
            contact=contact.strip(),
            language=language,
            is_flagged=bool(words),
            created_at=now,
        )
        if words:
            KeywordHit.objects.bulk_create([KeywordHit(feedback=feedback, keyword=w, created_at=now) for w in words])
            inbox = settings.SITE_URL.rstrip("/")
            notifications = []
            for manager in managers():
                reads = user_language(manager)
                with translation.override(reads):
                    url = inbox + reverse("feedback_reports:inbox") + "?flagged=1"
                notifications.append(
                    notification_build(
                        kind="feedback_alert",
                        recipient=manager.email,
                        language=reads,
                        user=manager,
                        at=now,
                        context={
                            "words": ", ".join(w.word for w in words),
                            "topic": feedback.get_topic_display_lazy(),
                            "body": body,
                            "inbox_url": url,
                        },
                    )
                )
            notifications_queue(notifications)
    return feedback


def feedback_mark(*, feedback: Feedback, handled: bool, by, now: datetime | None = None) -> Feedback:
    """Mark a piece of feedback handled (or back to unread)."""
    feedback.handled_at = (now or timezone.now()) if handled else None
    feedback.handled_by = by if handled else None
    feedback.save(update_fields=["handled_at", "handled_by"])
    return feedback


def survey_resolution(*, ticket: Ticket) -> int | None:
    """The resolution a survey on ``ticket`` would rate now, or None when there is
    nothing to rate (not resolved) or that resolution was already rated."""
    if ticket.status not in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED) or ticket.resolved_at is None:
        return None
    cycle = (
        ticket.targets.filter(kind=SLATarget.Kind.RESOLUTION, status=SLATarget.Status.MET)
        .order_by("-cycle")
        .values_list("cycle", flat=True)
        .first()
    )
    if cycle is None or Survey.objects.filter(ticket=ticket, resolution=cycle).exists():
        return None
    return cycle


def survey_submit(*, ticket: Ticket, rating: int, comment: str = "", now: datetime | None = None) -> Survey:
    """Record the consumer's rating of the ticket's latest resolution, once."""
    now = now or timezone.now()
    if not 1 <= rating <= 5:
        raise ApplicationError(_("Choose a rating from 1 to 5."), code="invalid_rating", field="rating")
    with transaction.atomic():
        # The ticket's row lock orders this against a reply reopening the ticket.
        locked = Ticket.objects.select_for_update(of=("self",)).get(pk=ticket.pk)
        resolution = survey_resolution(ticket=locked)
        if resolution is None:
            raise ApplicationError(
                _("This complaint has no resolution waiting for your rating."), code="survey_not_open"
            )
        try:
            with transaction.atomic():
                survey = Survey.objects.create(
                    ticket=locked,
                    resolution=resolution,
                    rating=rating,
                    comment=comment.strip(),
                    team_id=locked.team_id,
                    category_id=locked.category_id,
                    agent_id=locked.assignee_id,
                    created_at=now,
                )
        except IntegrityError as exc:
            raise ApplicationError(_("You have already rated this resolution."), code="survey_answered") from exc
        event_record(events.survey_answered(rating=rating, resolution=resolution), ticket=locked, at=now)
    return survey
