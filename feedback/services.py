"""Surveys, feedback from the public form and keyword alerts: the reads and
writes the consumer's pages and the ticket services call."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from cs_desk.exceptions import ApplicationError
from feedback.models import AlertKeyword, Feedback, KeywordHit, Survey
from tickets.events import event_record
from tickets.models import SLATarget, Ticket, TicketEvent
from tickets.notifications import notification_build, notifications_queue
from tickets.recipients import managers, user_language


def keywords_in(text: str) -> list[AlertKeyword]:
    """The active alert words found in ``text``, ignoring case (a plain substring
    match: Chinese has no spaces between words)."""
    folded = text.casefold()
    return [k for k in AlertKeyword.objects.filter(is_active=True) if k.word.strip() and k.word.casefold() in folded]


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
        event_record(
            ticket=locked,
            kind=TicketEvent.Kind.SURVEY_ANSWERED,
            at=now,
            data={"rating": rating, "resolution": resolution},
        )
    return survey
