"""Reads."""

from __future__ import annotations

import re
from datetime import datetime

from django.db import connection
from django.db.models import Prefetch, Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Merchant
from cs_desk.exceptions import ApplicationError
from tickets.calendars import warn_if_uncovered, working_calendar
from tickets.models import Attachment, Category, Message, SLAPolicy, SLATarget, Ticket, TicketEvent
from tickets.phones import phone_same
from tickets.policies import PolicyQuestion, policies_in_order, policy_choose
from tickets.sla.calendar import deadline


def parse_instant(value: str | None, *, field: str = "at") -> datetime:
    """An ISO-8601 instant with an explicit offset (``Z`` or ``+08:00``)."""
    if not value:
        raise ApplicationError(_("Give an instant, e.g. 2026-09-30T10:00+08:00."), code="required", field=field)
    text = value.strip().replace(" ", "+", 1) if "T" in value and " " in value.strip() else value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        if not 1900 <= parsed.year <= 9000:  # near year 1 or 9999 the calculator overflows
            raise ValueError(value)
    except ValueError as exc:
        raise ApplicationError(
            _("%(value)r is not an ISO-8601 date and time (e.g. 2026-09-30T10:00+08:00).") % {"value": value},
            code="invalid_datetime",
            field=field,
        ) from exc
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ApplicationError(
            _("%(value)r has no time zone offset; add one, e.g. +08:00 or Z.") % {"value": value},
            code="naive_datetime",
            field=field,
        )
    return parsed


def sla_question(
    *, priority: str | None = None, category: str | None = None, channel: str | None = None
) -> PolicyQuestion:
    """The ticket a preview asks about, from codes as a person types them: a
    category (its code; it gives the team, and the priority when none is
    given), a channel (default the web form) and a priority. A priority alone
    still works."""
    found = None
    if category:
        found = Category.objects.filter(code=category).first()
        if found is None:
            raise ApplicationError(
                _("Unknown category %(category)r.") % {"category": category}, code="invalid_category", field="category"
            )
    priority = priority or (found.default_priority if found else "")
    if priority not in Ticket.Priority.values:
        raise ApplicationError(
            _("Unknown priority %(priority)r; use one of: %(choices)s.")
            % {"priority": priority, "choices": ", ".join(Ticket.Priority.values)},
            code="invalid_priority",
            field="priority",
        )
    channel = channel or Ticket.Channel.WEB
    if channel not in Ticket.Channel.values:
        raise ApplicationError(
            _("Unknown channel %(channel)r; use one of: %(choices)s.")
            % {"channel": channel, "choices": ", ".join(Ticket.Channel.values)},
            code="invalid_channel",
            field="channel",
        )
    return PolicyQuestion.asked(category=found, priority=priority, channel=channel)


def sla_preview(
    *, at: datetime, priority: str | None = None, category: str | None = None, channel: str | None = None
) -> dict:
    """The due instant of each target for a ticket filed at ``at`` (the
    next-response due assumes a consumer message at ``at``), as ISO-8601 in the
    calendar's time zone, and the policy that gives them (``sla_question`` reads
    the inputs; ``tickets.policies`` chooses, as for a real ticket)."""
    question = sla_question(priority=priority, category=category, channel=channel)
    return {"category": category or None, **sla_answer(question, at=at)}


def sla_answer(question: PolicyQuestion, *, at: datetime) -> dict:
    """Which policy a ticket ``question`` describes would get, filed at ``at``,
    and when each of its targets would be due (ISO-8601, calendar's zone)."""
    policy = policy_choose(question)
    wc = working_calendar(policy.calendar)
    result = {
        "priority": question.priority,
        "channel": question.channel,
        "at": at.isoformat(),
        "policy": {"id": policy.pk, "name": str(policy)},
    }
    for name in ("first_response", "next_response", "resolution"):
        clock, duration = policy.target(name, wc.daily_working_time)
        due = deadline(at, duration, wc, clock)
        if clock == "business":
            warn_if_uncovered(wc, policy.calendar.name, at, due)
        result[f"{name}_due"] = due.astimezone(wc.tz).isoformat()
    return result


# --- The consumer's side ---------------------------------------------------------


# What a tracking token can look like (secrets.token_urlsafe): anything else opens nothing.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def ticket_for_token(*, token: str) -> Ticket | None:
    """The ticket a private tracking link opens, or None. Only the token opens a
    ticket: never its id or its reference. Callers facing the outside guard it
    against guessing (``cs_desk.ratelimit.guess_guarded``)."""
    if not _TOKEN.fullmatch(token or ""):
        return None
    return Ticket.objects.select_related("category", "merchant").filter(tracking_token=token).first()


def ticket_page_version(*, token: str) -> tuple | None:
    """What the consumer's pages of the ticket ``token`` opens show, as a version
    (None: no such ticket): its id and token, its events (how many, the latest:
    every change records one — a message, a status, a promise re-dated, an
    escalation, a survey, a merge), its ``updated_at``, and the names of its
    category and shop. One query, in SQL written out: it runs on every load of
    the tracking page, and the ORM's compiling of it cost more than the query."""
    if not _TOKEN.fullmatch(token or ""):
        return None
    with connection.cursor() as cursor:
        cursor.execute(_PAGE_VERSION_SQL, [token])
        return cursor.fetchone()


_PAGE_VERSION_SQL = f"""
SELECT t.id, t.tracking_token, t.updated_at,
       (SELECT ARRAY[count(*), max(e.id)] FROM {TicketEvent._meta.db_table} e WHERE e.ticket_id = t.id),
       c.name_zh, c.name_en, m.name, m.shop_id
  FROM {Ticket._meta.db_table} t
  LEFT JOIN {Category._meta.db_table} c ON c.id = t.category_id
  LEFT JOIN {Merchant._meta.db_table} m ON m.id = t.merchant_id
 WHERE t.tracking_token = %s
"""


def ticket_public_conversation(*, ticket: Ticket) -> list[Message]:
    """What the consumer may read: public messages only, never internal notes,
    each with its evidence files."""
    return list(
        ticket.messages.filter(is_public=True)
        .select_related("author__staff_profile")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("created_at", "id")
    )


def public_author_label(message: Message, ticket: Ticket) -> str:
    """Who wrote a message, as the consumer reads it: never an agent's name."""
    alias = getattr(getattr(message.author, "staff_profile", None), "alias", "") if message.author else ""
    shop = ticket.merchant.name if ticket.merchant_id else ""
    return author_label(message.author_kind, alias=alias, shop=shop)


def author_label(author_kind: str, *, alias: str = "", shop: str = "") -> str:
    """``public_author_label`` from what it reads (the agent's alias, the shop's
    name), for callers that read them in bulk."""
    if author_kind == Message.AuthorKind.CONSUMER:
        return str(_("You"))
    if author_kind == Message.AuthorKind.MERCHANT:
        return shop or str(_("The shop"))
    if author_kind == Message.AuthorKind.SYSTEM:
        return str(_("Notice"))
    # Never the agent's name: the service, and the alias the agent chose, if any.
    if alias:
        return str(_("Customer service · %(alias)s")) % {"alias": alias}
    return str(_("Customer service"))


def ticket_promised(*, ticket: Ticket) -> tuple[datetime | None, datetime | None]:
    """When the consumer was promised a reply (a response owed) and a resolution,
    from the ticket's running targets; None for what is not running."""
    from tickets.targets import RESPONSE_KINDS

    running = list(ticket.targets.filter(status=SLATarget.Status.RUNNING))
    response = min((t.due_at for t in running if t.kind in RESPONSE_KINDS and t.due_at), default=None)
    resolution = min((t.due_at for t in running if t.kind == SLATarget.Kind.RESOLUTION and t.due_at), default=None)
    return response, resolution


def ticket_public_attachment(*, ticket: Ticket, attachment_id: int) -> Attachment | None:
    """An evidence file the consumer may open: on this ticket, on a public message."""
    return Attachment.objects.filter(ticket=ticket, pk=attachment_id, message__is_public=True).first()


def category_promise(*, category: Category, policies: list[SLAPolicy] | None = None) -> str:
    """The first-response promise of a category, as a consumer reads it
    ("紧急：24 小时内答复", "3 个工作日内答复"), from the SLA policy of its priority."""
    policy = policy_choose(PolicyQuestion.asked(category=category, channel=Ticket.Channel.WEB), policies)
    n = policy.first_response_amount
    unit, clock = policy.first_response_unit, policy.first_response_clock
    if unit == SLAPolicy.Unit.MINUTES:
        text = ngettext("Reply within %(n)d minute", "Reply within %(n)d minutes", n) % {"n": n}
    elif unit == SLAPolicy.Unit.HOURS:
        text = ngettext("Reply within %(n)d hour", "Reply within %(n)d hours", n) % {"n": n}
    elif clock == SLAPolicy.Clock.BUSINESS:
        text = ngettext("Reply within %(n)d working day", "Reply within %(n)d working days", n) % {"n": n}
    else:
        text = ngettext("Reply within %(n)d day", "Reply within %(n)d days", n) % {"n": n}
    if category.default_priority == Ticket.Priority.URGENT:
        return _("Urgent: %(promise)s") % {"promise": text}
    return text


def complaint_categories() -> list[tuple[Category, str]]:
    """The categories a consumer chooses from, each with its promise."""
    categories = Category.objects.filter(is_active=True).select_related("team").order_by("sort_order")
    policies = policies_in_order()  # read once, not once per category
    return [(c, category_promise(category=c, policies=policies)) for c in categories]


def merchants_matching(*, query: str, limit: int = 8) -> list[Merchant]:
    """Shops whose id or name contains ``query`` (the complaint form's shop search)."""
    query = query.strip()
    if len(query) < 1:
        return []
    return list(
        Merchant.objects.filter(
            Q(shop_id__iexact=query) | Q(name__icontains=query) | Q(shop_id__istartswith=query)
        ).order_by("name")[:limit]
    )


def merchant_for_shop(value: str, *, field: str = "merchant") -> Merchant | None:
    """The shop a complaint is about, from what was typed or sent (the complaint
    form, the phone-call form, the API): its shop id (any case), else its exact
    name, else the one shop whose name contains it; None when empty. Several
    shops or none are refused, naming ``field``."""
    value = (value or "").strip()
    if not value:
        return None
    exact = Merchant.objects.filter(shop_id__iexact=value).first() or Merchant.objects.filter(name=value).first()
    if exact is not None:
        return exact
    found = list(Merchant.objects.filter(name__icontains=value)[:2])
    if len(found) == 1:
        return found[0]
    if found:
        raise ApplicationError(
            _("Several shops match “%(value)s”; choose one from the list or enter its shop id.") % {"value": value},
            code="ambiguous_shop",
            field=field,
        )
    raise ApplicationError(
        _("No shop matches “%(value)s”. Check the name or leave the field empty.") % {"value": value},
        code="does_not_exist",
        field=field,
    )


def same_requester(a: Ticket, b: Ticket) -> bool:
    """Both tickets came from the same phone number or the same email address."""
    return bool(
        (a.requester_phone and phone_same(a.requester_phone, b.requester_phone))
        or (a.requester_email and a.requester_email.casefold() == b.requester_email.casefold())
    )


def merged_tracking_token(*, ticket: Ticket) -> str | None:
    """The tracking token of the ticket a duplicate was merged into, given to the
    duplicate's consumer only when both came from the same contact."""
    if ticket.merged_into_id is None:
        return None
    into = ticket.merged_into
    return into.tracking_token if same_requester(ticket, into) else None
