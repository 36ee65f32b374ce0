"""Reads of the feedback app for the doors above it (the consumer's tracking page)."""

from __future__ import annotations

from feedback.models import Survey
from tickets.models import Ticket


def ticket_latest_survey(*, ticket: Ticket) -> Survey | None:
    """The consumer's rating of the ticket's latest rated resolution, if any."""
    return Survey.objects.filter(ticket=ticket).order_by("-resolution").first()
