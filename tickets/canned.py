"""Canned answers: finding them from the reply box and filling in their variables.

A variable is a name in braces, ``{reference}``; the names are
``CannedAnswer.VARIABLES``. Filling is plain text substitution (the result goes
into the reply box as text and is escaped wherever it is shown), and a brace
that names no variable is left as it is, so a ``{`` in ordinary prose is safe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import translation

from tickets.models import CannedAnswer, SLATarget, Ticket
from tickets.notifications import format_instant
from tickets.targets import ACTIVE

_VARIABLE = re.compile(r"\{([a-z_]+)\}")
SEARCH_LIMIT = 10


def unknown_variables(text: str) -> list[str]:
    """The ``{names}`` in ``text`` that are not variables (a supervisor's typo)."""
    return sorted({name for name in _VARIABLE.findall(text) if name not in CannedAnswer.VARIABLES})


def _promised_time(ticket: Ticket):
    """When the consumer was promised a resolution: the running resolution
    target's due time, else whatever is due next on the ticket."""
    target = ticket.targets.filter(kind=SLATarget.Kind.RESOLUTION, status__in=ACTIVE).order_by("-cycle").first()
    return target.due_at if target is not None and target.due_at else ticket.due_at


def canned_values(*, ticket: Ticket, agent, language: str) -> dict[str, str]:
    profile = getattr(agent, "staff_profile", None)
    with translation.override(language):
        values = {
            "reference": ticket.reference,
            "consumer_name": ticket.requester_name,
            "promised_time": format_instant(_promised_time(ticket), language),
            "agent_name": profile.alias if profile and profile.alias else translation.gettext("Customer service"),
            "category": ticket.category.name,
            "merchant": ticket.merchant.name if ticket.merchant_id else "",
            "order_number": ticket.order_number,
        }
    return values


def canned_fill(text: str, values: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


@dataclass(frozen=True)
class FilledAnswer:
    id: int
    title: str
    language: str
    is_faq: bool
    text: str


def canned_search(*, ticket: Ticket, agent, query: str = "", limit: int = SEARCH_LIMIT) -> list[FilledAnswer]:
    """Active answers matching ``query`` (title or text), those for the ticket's
    category and in the ticket's language first, filled in for this ticket."""
    answers = CannedAnswer.objects.filter(is_active=True)
    for word in query.split()[:5]:
        answers = answers.filter(Q(title__icontains=word) | Q(body__icontains=word))
    answers = answers.filter(Q(category__isnull=True) | Q(category=ticket.category_id)).annotate(
        rank=Case(When(category=ticket.category_id, then=Value(0)), default=Value(1), output_field=IntegerField())
        + Case(When(language=ticket.language, then=Value(0)), default=Value(2), output_field=IntegerField())
    )
    found = list(answers.order_by("rank", "-is_faq", "title")[:limit])
    values_by_language: dict[str, dict[str, str]] = {}
    filled = []
    for answer in found:
        if answer.language not in values_by_language:
            values_by_language[answer.language] = canned_values(ticket=ticket, agent=agent, language=answer.language)
        text = canned_fill(answer.body, values_by_language[answer.language])
        filled.append(FilledAnswer(answer.pk, answer.title, answer.language, answer.is_faq, text))
    return filled
