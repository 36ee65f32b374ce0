"""Satisfaction (CSAT) and the feedback inbox, for the managers' reports.

CSAT is read from the consumers' surveys (one per resolution, 1 to 5), grouped
by the category, team and agent recorded on the survey when it was answered
(who resolved it, not who holds the ticket now). Each figure is one aggregate
in PostgreSQL: the number of answers, the mean rating, the share of 4 and 5
("satisfied") and the count of each rating. Surveys belong to the period in
which they were answered; ``reader`` is the staff user whose tickets count
(as in reports.selectors), None for all.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Avg, Count, Q

from feedback.models import Feedback, KeywordHit, Survey
from reports.selectors import GROUPINGS, Period, scoped
from tickets.access import ticket_scope

RATINGS = (1, 2, 3, 4, 5)
CSAT_GROUPINGS = ("category", "team", "agent")


@dataclass
class Satisfaction:
    key: object
    name: str
    answers: int
    average: float | None
    distribution: list[int]  # answers rating 1 … 5

    @property
    def satisfied(self) -> float | None:
        """Share of answers rating 4 or 5, in percent."""
        return round(100.0 * (self.distribution[3] + self.distribution[4]) / self.answers, 1) if self.answers else None

    def shares(self) -> list[float]:
        return [round(100.0 * n / self.answers, 1) if self.answers else 0.0 for n in self.distribution]


def _surveys(period: Period, reader):
    surveys = Survey.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    return scoped(surveys, reader, "ticket__")


def _aggregates() -> dict:
    return {
        "answers": Count("pk"),
        "average": Avg("rating"),
        **{f"r{r}": Count("pk", filter=Q(rating=r)) for r in RATINGS},
    }


def _satisfaction(key, name: str, row: dict) -> Satisfaction:
    average = row["average"]
    return Satisfaction(
        key=key,
        name=name,
        answers=row["answers"],
        average=round(float(average), 2) if average is not None else None,
        distribution=[row[f"r{r}"] for r in RATINGS],
    )


def csat_overall(*, period: Period, reader) -> Satisfaction:
    return _satisfaction(None, "", _surveys(period, reader).aggregate(**_aggregates()))


def csat_by(*, period: Period, reader, by: str) -> list[Satisfaction]:
    """CSAT per category, team or agent (``by``), lowest average first (what
    needs attention), then by name."""
    if by not in CSAT_GROUPINGS:
        raise ValueError(f"Unknown grouping {by!r}")
    key = f"{by}_id"
    rows = list(_surveys(period, reader).values(key).annotate(**_aggregates()))
    names = GROUPINGS[by].names(r[key] for r in rows)
    result = [_satisfaction(r[key], names.get(r[key], "—"), r) for r in rows]
    return sorted(result, key=lambda s: (s.average if s.average is not None else 6, s.name))


def latest_comments(*, period: Period, reader, limit: int = 20):
    """The latest surveys with a comment, newest first."""
    return (
        _surveys(period, reader)
        .exclude(comment="")
        .select_related("ticket", "category", "team", "agent")
        .order_by("-created_at", "-id")[:limit]
    )


# --- The feedback inbox ---------------------------------------------------------------


def feedback_topics(*, period: Period) -> list[tuple[str, str, int, int]]:
    """(topic, label, received in the period, still unhandled) for every topic."""
    rows = {
        r["topic"]: r
        for r in Feedback.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
        .values("topic")
        .annotate(n=Count("pk"), unhandled=Count("pk", filter=Q(handled_at__isnull=True)))
    }
    return [
        (code, str(label), rows.get(code, {}).get("n", 0), rows.get(code, {}).get("unhandled", 0))
        for code, label in Feedback.Topic.choices
    ]


def feedback_list(*, period: Period, topic: str = "", unhandled: bool = False, flagged: bool = False):
    """Feedback received in the period, flagged first, then newest first."""
    items = Feedback.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    if topic:
        items = items.filter(topic=topic)
    if unhandled:
        items = items.filter(handled_at__isnull=True)
    if flagged:
        items = items.filter(is_flagged=True)
    return (
        items.select_related("handled_by")
        .prefetch_related("keyword_hits__keyword")
        .order_by("-is_flagged", "-created_at", "-id")
    )


def keyword_hits(*, period: Period, reader, limit: int = 50):
    """Alert words found in complaints (those the reader may see) and in feedback."""
    hits = KeywordHit.objects.filter(created_at__gte=period.start, created_at__lt=period.end)
    scope = None if reader is None else ticket_scope(reader, "ticket__")
    if scope is not None:
        hits = hits.filter(Q(ticket__isnull=True) | scope)
    return hits.select_related("keyword", "ticket", "feedback").order_by("-created_at", "-id")[:limit]
