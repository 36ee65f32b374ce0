"""Surveys and keyword alerts: the reads and writes the consumer's pages and the
ticket services call."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cs_desk.exceptions import ApplicationError
from feedback.models import AlertKeyword, Survey
from tickets.events import event_record
from tickets.models import SLATarget, Ticket, TicketEvent


def keywords_in(text: str) -> list[AlertKeyword]:
    """The active alert words found in ``text``, ignoring case (a plain substring
    match: Chinese has no spaces between words)."""
    folded = text.casefold()
    return [k for k in AlertKeyword.objects.filter(is_active=True) if k.word.strip() and k.word.casefold() in folded]


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
