"""Alerts in the desk: a breach, a level 2 escalation or a merchant's missed reply
is shown to those who must act on it, the ticket's assignee (the one it was given
to when it escalated) and its team's active supervisors, in the transaction that
writes the event (an in-transaction consumer of the ticket events, registered by
this app). One alert per event and person, however often an event is handed over."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import connection

from cs_desk.bulk import ids_any
from tickets.access import tickets_visible_to
from tickets.events import EventRow
from tickets.models import StaffAlert, Team, Ticket

ALERTED = frozenset(StaffAlert.Kind.values)


def staff_alerts_write(rows: list[EventRow]) -> None:
    """Write the alerts of ``rows`` (events just inserted): three statements for a
    whole sweep batch, none when no event is one to alert of."""
    wanted = [row for row in rows if row.kind in ALERTED]
    if not wanted:
        return
    ticket_ids = {r.ticket_id for r in wanted}
    found = Ticket.objects.filter(pk__in=ids_any(ticket_ids)).values_list("pk", "assignee_id", "team_id")
    tickets = {pk: (assignee_id, team_id) for pk, assignee_id, team_id in found}
    supervisors: dict[int, set[int]] = {}
    active = get_user_model().objects.filter(is_active=True)
    for team_id, user_id in Team.supervisors.through.objects.filter(
        team_id__in={team_id for _assignee, team_id in tickets.values()}, user__in=active
    ).values_list("team_id", "user_id"):
        supervisors.setdefault(team_id, set()).add(user_id)
    alerts = {}  # (event, user) -> the row: an event given twice in one call is one alert
    for row in wanted:
        assignee_id, team_id = tickets[row.ticket_id]
        for user_id in supervisors.get(team_id, set()) | ({assignee_id} if assignee_id else set()):
            alerts[(row.id, user_id)] = (
                user_id,
                row.ticket_id,
                row.id,
                row.kind,
                row.target_kind or "",
                row.created_at,
            )
    if not alerts:
        return
    # One statement for a whole batch; an event handed over again alerts nobody twice.
    columns = list(zip(*(alerts[key] for key in sorted(alerts)), strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tickets_staffalert (user_id, ticket_id, event_id, kind, target_kind, created_at) "
            "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::varchar[], %s::varchar[], "
            "%s::timestamptz[]) ON CONFLICT DO NOTHING",
            [list(column) for column in columns],
        )


# --- Reading and marking ---------------------------------------------------------------


def staff_alerts_of(user, *, limit: int = 100):
    """``user``'s alerts, newest first, on tickets they may still see."""
    visible = StaffAlert.objects.filter(user=user, ticket__in=tickets_visible_to(user))
    return visible.select_related("ticket").order_by("-created_at", "-id")[:limit]


def staff_alerts_unseen(user) -> int:
    """How many of ``user``'s alerts are not seen yet (the desk's badge)."""
    return StaffAlert.objects.filter(user=user, seen_at__isnull=True).count()


def staff_alerts_seen(user, *, now, ticket_id: int | None = None) -> int:
    """Mark ``user``'s alerts seen: those of one ticket (opened in the workspace),
    or all. Returns how many were marked."""
    unseen = StaffAlert.objects.filter(user=user, seen_at__isnull=True)
    if ticket_id is not None:
        unseen = unseen.filter(ticket_id=ticket_id)
    return unseen.update(seen_at=now)
