"""Keyword alerts: an alert word (:class:`tickets.models.AlertKeyword`) in what a
consumer writes — the complaint at intake and every message after it, whatever
the door (the tracking page, the consumer API, the mail and chat channels to
come) — flags the ticket, raises it to urgent and tells the team's supervisors.

One rule, here, for intake (``tickets.services.intake``) and the consumer's
messages (``tickets.services.conversation.ticket_consumer_message``). The
feedback form matches the same words (``feedback.services.feedback_submit``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from tickets import events
from tickets.keywords import keywords_in
from tickets.models import AlertKeyword, Ticket, TicketEvent
from tickets.recipients import supervisors_by_team
from tickets.services.changes import priority_raise, recompute_for_priority
from tickets.services.work import Work


def ticket_keyword_alert(work: Work, text: str, *, filing: bool = False) -> list[AlertKeyword]:
    """Alert on the words in ``text`` that were not alerted on this ticket earlier
    the same day (the site's day, Asia/Shanghai): flag the ticket, write one
    keyword-alert event naming them and their ids (the feedback app records the
    hits from it, in this transaction), raise the ticket to urgent and tell the
    team's supervisors. A text whose words were all alerted today writes
    nothing. Returns the words alerted.

    ``filing``: the complaint is being filed and its targets are not open yet;
    the raise re-dates the owed targets (``recompute_for_priority``, none yet)
    as at every intake. On a later message the raise re-dates nothing
    (``priority_raise``): a running target keeps the deadline it was promised,
    and the urgent policy applies to the targets opened from then on."""
    words = keywords_in(text)
    if words and not filing:
        words = _not_alerted_today(work, words)
    if not words:
        return []
    t = work.ticket
    found = [w.word for w in words]
    work.set(is_flagged=True)
    work.add(events.keyword_alert(words=found, keyword_ids=[w.pk for w in words]))
    if filing:
        if t.priority != Ticket.Priority.URGENT:
            recompute_for_priority(work, Ticket.Priority.URGENT, reason="keyword")
    else:
        priority_raise(work, Ticket.Priority.URGENT, reason="keyword")
    supervisors = supervisors_by_team([t.team_id]).get(t.team_id, [])
    kind = "keyword_alert" if filing else "keyword_alert_message"
    work.notify_staff(kind, supervisors, words=", ".join(found))
    return words


def _not_alerted_today(work: Work, words: list[AlertKeyword]) -> list[AlertKeyword]:
    """``words`` less those named by the ticket's keyword-alert events of the
    local day of ``work.now`` (by id, or by the word itself for an event that
    names no ids). Read under the ticket's lock, so two messages at once do not
    both alert on a word."""
    start, end = _local_day(work.now)
    alerted_ids: set[int] = set()
    alerted_words: set[str] = set()
    earlier = TicketEvent.objects.filter(
        ticket=work.ticket, kind=TicketEvent.Kind.KEYWORD_ALERT, created_at__gte=start, created_at__lt=end
    ).values_list("data", flat=True)
    for data in earlier:
        alerted_ids.update(data.get("keyword_ids", ()))
        alerted_words.update(word.casefold() for word in data.get("words", ()))
    return [w for w in words if w.pk not in alerted_ids and w.word.casefold() not in alerted_words]


def _local_day(now: datetime) -> tuple[datetime, datetime]:
    """The start of the site's local day holding ``now`` and of the next one."""
    zone = timezone.get_default_timezone()
    day = timezone.localtime(now, zone).date()
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    return start, start + timedelta(days=1)
