"""Finding the alert words (:class:`tickets.models.AlertKeyword`) in what a
consumer wrote: the complaint and every later message (the alert itself is
``tickets.services.alerts.ticket_keyword_alert``) and the public feedback form
(feedback.services) use the same match."""

from __future__ import annotations

from tickets.config_cache import config_cached
from tickets.models import AlertKeyword


def _active() -> list[tuple[str, AlertKeyword]]:
    return [(k.word.casefold(), k) for k in AlertKeyword.objects.filter(is_active=True) if k.word.strip()]


def keywords_in(text: str) -> list[AlertKeyword]:
    """The active alert words found in ``text``, ignoring case (a plain substring
    match: Chinese has no spaces between words). The words are read once per
    process and change (``tickets.config_cache``)."""
    folded = text.casefold()
    return [keyword for word, keyword in config_cached("alert_words", _active) if word in folded]
