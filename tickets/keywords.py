"""Finding the alert words (:class:`tickets.models.AlertKeyword`) in what a
consumer wrote: the complaint and every later message (the alert itself is
``tickets.services.alerts.ticket_keyword_alert``) and the public feedback form
(feedback.services) use the same match."""

from __future__ import annotations

from tickets.models import AlertKeyword


def keywords_in(text: str) -> list[AlertKeyword]:
    """The active alert words found in ``text``, ignoring case (a plain substring
    match: Chinese has no spaces between words)."""
    folded = text.casefold()
    return [k for k in AlertKeyword.objects.filter(is_active=True) if k.word.strip() and k.word.casefold() in folded]
