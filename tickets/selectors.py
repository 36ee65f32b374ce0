"""Reads."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from cs_desk.exceptions import ApplicationError
from tickets.calendars import warn_if_uncovered, working_calendar
from tickets.models import Ticket
from tickets.services import policy_for
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


def sla_preview(*, priority: str, at: datetime) -> dict[str, str]:
    """The due instant of each target for a ticket of ``priority`` filed at ``at``
    (the next-response due assumes a consumer message at ``at``), as ISO-8601
    in the calendar's time zone."""
    if priority not in Ticket.Priority.values:
        raise ApplicationError(
            _("Unknown priority %(priority)r; use one of: %(choices)s.")
            % {"priority": priority, "choices": ", ".join(Ticket.Priority.values)},
            code="invalid_priority",
            field="priority",
        )
    policy = policy_for(priority)
    wc = working_calendar(policy.calendar)
    result = {"priority": priority, "at": at.isoformat()}
    for name in ("first_response", "next_response", "resolution"):
        clock, duration = policy.target(name, wc.daily_working_time)
        due = deadline(at, duration, wc, clock)
        if clock == "business":
            warn_if_uncovered(wc, policy.calendar.name, at, due)
        result[f"{name}_due"] = due.astimezone(wc.tz).isoformat()
    return result
