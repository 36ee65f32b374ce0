"""What the helpdesk says by email, and how it is put in the outbox.

Rows are written in the same transaction as the change that causes them
(rendered in the recipient's language, with their ``Message-ID`` made once) and
handed to Celery only once that transaction commits. Delivery, retries,
give-up and the re-sweep are the outbox's (``tickets.outbox``, email channel).

The SLA sweep writes thousands of notices in one batch: it writes each as its
kind and the values it says (``notifications_insert(deferred=True)``: codes, instants, the
ticket's reference and subject as of the step), and the delivery renders it
(``notification_render``) in the language stored with it, the reader's when
the step was taken. What the reader gets is the text the same values give when
rendered at once; only the rendering moves out of the sweep's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import formats, translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _

from cs_desk.bulk import copy_insert
from tickets.models import Category, Notification, SLATarget, Ticket, TicketEvent, message_id_new
from tickets.outbox import EMAIL, outbox_dispatch_on_commit
from tickets.recipients import user_language

# Subject and body of each kind; rendered in the recipient's language.
TEMPLATES = {
    "ticket_received": (
        _("[%(reference)s] We have received your complaint"),
        _(
            "Hello %(name)s,\n\nWe have received your complaint “%(subject)s” (reference %(reference)s).\n"
            "We will reply by %(due)s.\n\nFollow it and reply here: %(tracking_url)s\n"
        ),
    ),
    "agent_replied": (
        _("[%(reference)s] We have replied to your complaint"),
        _("Hello %(name)s,\n\nThere is a new reply to your complaint %(reference)s:\n\n%(body)s\n\n%(tracking_url)s\n"),
    ),
    "merchant_answered": (
        _("[%(reference)s] The shop has answered your complaint"),
        _(
            "Hello %(name)s,\n\n%(merchant)s has answered your complaint %(reference)s:\n\n%(body)s\n\n"
            "Follow it and reply here: %(tracking_url)s\n"
        ),
    ),
    "mail_refused": (
        _("We could not take your email: %(subject)s"),
        _(
            "Hello,\n\nWe could not take your email “%(subject)s”: %(reason)s\n\n"
            "Nothing from it has been recorded. You can also file or follow a complaint on our website.\n"
        ),
    ),
    "mail_files_refused": (
        _("[%(reference)s] Some files in your email were not added"),
        _(
            "Hello,\n\nWe added your email “%(subject)s” to complaint %(reference)s, but not these files:\n\n"
            "%(files)s\n\nYou can send them again as pictures (JPEG or PNG) or PDF, at most 10 MB each.\n"
        ),
    ),
    "consumer_replied": (
        _("[%(reference)s] The consumer wrote again"),
        _("The consumer wrote on %(reference)s “%(subject)s”:\n\n%(body)s\n"),
    ),
    "sla_warning": (
        _("[%(reference)s] %(target)s due soon"),
        _("%(target)s on %(reference)s “%(subject)s” is due by %(due)s (%(percent)s%% of the time has gone).\n"),
    ),
    "sla_breach": (
        _("[%(reference)s] %(target)s overdue — escalated to you"),
        _(
            "%(target)s on %(reference)s “%(subject)s” was due by %(due)s and is overdue.\n"
            "The ticket is now %(priority)s and has been handed to the team's supervisors.\n"
        ),
    ),
    "sla_level2": (
        _("[%(reference)s] Level 2 escalation: %(target)s far overdue"),
        _("%(target)s on %(reference)s “%(subject)s” was due by %(due)s and is still not met.\n"),
    ),
    "merchant_forwarded": (
        _("[%(reference)s] A complaint about your shop needs your reply"),
        _(
            "A consumer has complained about your shop %(merchant)s (reference %(reference)s).\n"
            "Please reply in the merchant portal by %(due)s.\n\n%(body)s\n"
        ),
    ),
    "merchant_warning": (
        _("[%(reference)s] Reminder: reply by %(due)s"),
        _(
            "The complaint %(reference)s about your shop %(merchant)s still has no reply.\n"
            "Reply by %(due)s, or it returns to the platform and counts against your shop.\n"
        ),
    ),
    "merchant_missed": (
        _("[%(reference)s] The merchant missed the reply deadline"),
        _(
            "The merchant %(merchant)s did not reply to %(reference)s “%(subject)s” by %(due)s.\n"
            "The ticket is back in the platform queue and a strike was recorded.\n"
        ),
    ),
    "survey_invitation": (
        _("[%(reference)s] Your complaint is resolved: how did we do?"),
        _(
            "Hello %(name)s,\n\nWe have resolved your complaint “%(subject)s” (reference %(reference)s).\n"
            "Please rate our help from 1 to 5; it takes ten seconds: %(survey_url)s\n\n"
            "If something is still wrong, reply on the same page and we will reopen it.\n"
        ),
    ),
    "keyword_alert": (
        _("[%(reference)s] Alert words in a new complaint: %(words)s"),
        _(
            "The new complaint %(reference)s “%(subject)s” contains the alert words %(words)s.\n"
            "It has been flagged and raised to urgent. Please look at it now.\n"
        ),
    ),
    "keyword_alert_message": (
        _("[%(reference)s] Alert words in the consumer's new message: %(words)s"),
        _(
            "The consumer wrote again on %(reference)s “%(subject)s”, with the alert words %(words)s.\n"
            "It has been flagged and raised to urgent. Please look at it now.\n"
        ),
    ),
    "feedback_alert": (
        _("Alert words in new feedback: %(words)s"),
        _(
            "New feedback (%(topic)s) contains the alert words %(words)s:\n\n%(body)s\n\n"
            "Read it in the feedback inbox: %(inbox_url)s\n"
        ),
    ),
    "merchant_penalized": (
        _("Penalty for your shop %(merchant)s: %(penalty)s"),
        _(
            "Your shop %(merchant)s has received a penalty: %(penalty)s.\n"
            "Reason: %(reason)s\nPoints deducted: %(points)s\n\n"
            "You can see the complaints behind it on your scorecard in the merchant portal. "
            "If you believe it is wrong, reply to this email to appeal.\n"
        ),
    ),
    "merchant_penalty_lifted": (
        _("Penalty lifted for your shop %(merchant)s: %(penalty)s"),
        _("The penalty “%(penalty)s” on your shop %(merchant)s has been lifted.\n%(why)s\n"),
    ),
    "merchant_penalty_revoked": (
        _("Penalty revoked for your shop %(merchant)s: %(penalty)s"),
        _(
            "Your appeal was upheld: the penalty “%(penalty)s” on your shop %(merchant)s "
            "has been revoked and its effects undone.\nReason: %(why)s\n"
        ),
    ),
    "merchant_removed": (
        _("Your shop %(merchant)s has been removed from the marketplace"),
        _(
            "After repeated missed reply deadlines, the removal of your shop %(merchant)s from the "
            "marketplace has been confirmed.\nReason: %(reason)s\nReply to this email to appeal.\n"
        ),
    ),
    "merchant_replied": (
        _("[%(reference)s] The merchant replied"),
        _("The merchant %(merchant)s replied on %(reference)s:\n\n%(body)s\n"),
    ),
    # A merchant's appeal of a penalty (merchants.appeals): the acknowledgement,
    # the notice to those who decide, and the decision when the penalty stays (a
    # revoked penalty is told by "merchant_penalty_revoked").
    "merchant_appeal_received": (
        _("We have received your appeal: %(penalty)s, shop %(merchant)s"),
        _(
            "Hello,\n\nWe have received your appeal of the penalty “%(penalty)s” on your shop %(merchant)s "
            "(imposed %(imposed)s). An administrator will review it and we will email you the decision.\n\n"
            "What you wrote:\n%(body)s\n\n"
            "To add to your appeal, reply to this email or write in the merchant portal, where you can also "
            "follow it: %(portal_url)s\n"
        ),
    ),
    "merchant_appeal_filed": (
        _("Appeal to decide: %(merchant)s, %(penalty)s"),
        _(
            "The shop %(merchant)s appeals the penalty “%(penalty)s” imposed %(imposed)s "
            "(reason: %(reason)s), by %(source)s:\n\n%(body)s\n\n"
            "Decide it in the admin: %(admin_url)s\n"
        ),
    ),
    "merchant_appeal_upheld": (
        _("Appeal decided: the penalty %(penalty)s on your shop %(merchant)s stays"),
        _(
            "We have reviewed your appeal of the penalty “%(penalty)s” on your shop %(merchant)s "
            "(imposed %(imposed)s). The penalty stays in force.\nReason: %(note)s\n\n"
            "If you have new information, you can appeal again in the merchant portal: %(portal_url)s\n"
        ),
    ),
}

# A paragraph added to a kind's body when its context holds a value for it
# (not empty in the reader's language): what the complaint's category needs.
ADDENDA = {
    "ticket_received": ("guidance", _("\n%(guidance)s\nIf anything is missing, add it on the page linked above.\n")),
}


# Zones a Chinese reader knows by name: Beijing time (北京时间) is China's one zone.
BEIJING_ZONES = frozenset({"Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "Asia/Urumqi", "PRC"})


def format_instant(value: datetime | None, language: str) -> str:
    """An instant as a person reads it, in the site's time zone and ``language``,
    with the zone named (``2026年11月25日 18:00（北京时间）``, ``Nov. 25, 2026,
    6 p.m. (Beijing time)``; another site zone by its UTC offset)."""
    with translation.override(language):
        return _format_instant(value)


def _format_instant(value: datetime | None) -> str:
    """``format_instant`` in the active language."""
    if value is None:
        return "—"
    local = value.astimezone(ZoneInfo(settings.TIME_ZONE))
    when = formats.date_format(local, "DATETIME_FORMAT")
    if settings.TIME_ZONE in BEIJING_ZONES:
        return translation.gettext("%(when)s (Beijing time)") % {"when": when}
    offset = local.strftime("%z")
    return translation.gettext("%(when)s (UTC%(offset)s)") % {"when": when, "offset": f"{offset[:3]}:{offset[3:]}"}


def _render(kind: str, context: dict, memo: dict | None = None) -> tuple[str, str]:
    """Subject and body of ``kind`` in the active language. ``memo`` keeps what
    was already rendered in that language (templates, lazy labels, instants)
    for a batch rendering many rows."""
    if memo is None:
        memo = {}
    values = {}
    for key, value in context.items():
        if isinstance(value, datetime):
            text = memo.get(value)
            if text is None:
                text = memo[value] = _format_instant(value)
        elif isinstance(value, Promise):  # a lazy label, the same object on every row
            # Keyed by identity, holding the object so that its id is not reused.
            _, text = memo.get(id(value)) or memo.setdefault(id(value), (value, str(value)))
        else:
            text = str(value)
        values[key] = text
    templates = memo.get(kind)
    if templates is None:
        templates = memo[kind] = tuple(str(t) for t in TEMPLATES[kind])
    subject, body = templates
    body %= values
    addendum = ADDENDA.get(kind)
    if addendum is not None and values.get(addendum[0]):
        body += str(addendum[1]) % values
    return (subject % values)[:255].replace("\n", " "), body


def tracking_url(ticket: Ticket) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/t/{ticket.tracking_token}/"


def notification_build(
    *,
    kind: str,
    recipient: str,
    language: str,
    context: dict,
    ticket: Ticket | None = None,
    user=None,
    event: TicketEvent | None = None,
    at: datetime,
) -> Notification:
    """An unsaved outbox row with its subject and body rendered in ``language``."""
    with translation.override(language):
        subject, body = _render(kind, context)
    return Notification(
        ticket=ticket,
        event=event,
        kind=kind,
        recipient=recipient,
        recipient_user=user,
        language=language,
        subject=subject,
        body=body,
        next_attempt_at=at,
        created_at=at,
    )


def notifications_queue(notifications: Sequence[Notification]) -> list[Notification]:
    """Save outbox rows and dispatch their delivery once the transaction commits."""
    if not notifications:
        return []
    saved = Notification.objects.bulk_create(notifications)
    outbox_dispatch_on_commit(EMAIL, [n.pk for n in saved])
    return saved


class Outgoing(NamedTuple):
    """A notification decided on (``notifications_for``), rendered when written
    (``notifications_insert``)."""

    kind: str
    recipient: str
    language: str
    context: dict
    ticket_id: int | None = None
    user_id: int | None = None
    reply_to: str = ""  # a signed reply address (tickets.reply_address), for those who may answer by mail


def notifications_for(
    kind: str,
    context: dict,
    *,
    users: Iterable = (),
    addresses: Iterable[tuple[str, object | None]] = (),
    language: str | None = None,
    ticket_id: int | None = None,
    reply_to: str = "",
) -> list[Outgoing]:
    """The outbox rows of one notice: one for each address, in its reader's
    language. ``users`` are staff, each reading the language of their profile
    (else the site's); ``addresses`` are ``(address, user or None)`` pairs (the
    consumer, a merchant's contact and users), all reading ``language`` (else the
    site's). Whoever has no address is skipped, and no address is written to
    twice. ``reply_to``, a signed reply address, goes on the ``addresses``' rows
    (staff never answer by mail). The rows are written by ``notifications_insert``."""
    readers = [(user.email, user, user_language(user), "") for user in users if user is not None and user.email]
    readers += [(address, user, language or settings.LANGUAGE_CODE, reply_to) for address, user in addresses if address]
    rows: list[Outgoing] = []
    seen: set[str] = set()
    for address, user, reads, answer_to in readers:
        if address not in seen:
            seen.add(address)
            user_id = user.pk if user is not None else None
            rows.append(Outgoing(kind, address, reads, context, ticket_id, user_id, answer_to))
    return rows


def category_guidance(category: Category) -> Promise | str:
    """What a complaint of ``category`` needs (``Category.guidance``), read in each
    reader's language when the notice is rendered; "" when it has none. For the
    acknowledgement's addendum (``ADDENDA``)."""
    if not (category.guidance_zh or category.guidance_en):
        return ""
    return lazy(lambda: category.guidance, str)()


# How a value stored with a deferred notice (``notifications_insert``) becomes what
# ``_render`` takes: a choice's code its label (lazy, read in the reader's language),
# an ISO instant the instant (formatted in the reader's language).
_STORED = {
    "target": lambda code: SLATarget.Kind(code).label,
    "priority": lambda code: Ticket.Priority(code).label,
    "due": lambda iso: datetime.fromisoformat(iso) if iso else iso,
}


def notification_render(row: Notification) -> tuple[str, str]:
    """Subject and body of a notice written with its values (``notifications_insert(deferred=True)``),
    in the language stored with it."""
    context = {key: _STORED[key](value) if key in _STORED else value for key, value in row.context.items()}
    with translation.override(row.language):
        return _render(row.kind, context)


# The columns a batch of notices is written with (COPY): who and what, then the outbox's state.
_WHO_WHAT = ("ticket_id", "kind", "recipient", "recipient_user_id", "language", "subject", "body")
_STATE = ("status", "attempts", "next_attempt_at", "last_error", "created_at")
# Deferred (the sweep): the context to render at delivery; the Message-ID is the database's.
_DEFERRED_COLUMNS = (*_WHO_WHAT, "context", *_STATE, "reply_to")
_OUTBOX_COLUMNS = (*_WHO_WHAT, *_STATE, "message_id", "reply_to")


def notifications_insert(outgoing: Sequence[Outgoing], *, at: datetime, deferred: bool = False) -> list[int]:
    """The batch form of ``notification_build`` + ``notifications_queue``: render
    each row in its recipient's language (one language switch per language, not
    per row), write them all with COPY, dispatch delivery on commit. Returns the
    ids, in the order of ``outgoing``.

    ``deferred`` (the SLA sweep): render nothing now. Each row keeps its kind,
    language and context, which must then be JSON values (text, numbers, and the
    choice codes and ISO instants of ``_STORED``), and is rendered when it is
    delivered (``notification_render``); its ``Message-ID`` is the database's
    (``MESSAGE_ID_DB_DEFAULT``)."""
    if not outgoing:
        return []
    pending = Notification.Status.PENDING.value
    if deferred:
        rows = [
            (
                *(item.ticket_id, item.kind, item.recipient, item.user_id, item.language, "", "", item.context),
                *(pending, 0, at, "", at, item.reply_to),
            )
            for item in outgoing
        ]
        ids = copy_insert(Notification, _DEFERRED_COLUMNS, rows, returning_ids=True)
        outbox_dispatch_on_commit(EMAIL, ids)
        return ids
    by_language: dict[str, list[int]] = {}
    for position, item in enumerate(outgoing):
        by_language.setdefault(item.language, []).append(position)
    rows: list[tuple] = [()] * len(outgoing)
    for language, positions in by_language.items():
        memo: dict = {}
        with translation.override(language):
            for position in positions:
                item = outgoing[position]
                subject, body = _render(item.kind, item.context, memo)
                row = (item.ticket_id, item.kind, item.recipient, item.user_id, language, subject, body)
                rows[position] = (*row, pending, 0, at, "", at, message_id_new(), item.reply_to)
    ids = copy_insert(Notification, _OUTBOX_COLUMNS, rows, returning_ids=True)
    outbox_dispatch_on_commit(EMAIL, ids)
    return ids
