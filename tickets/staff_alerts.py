"""Alerts in the desk: a breach, a level 2 escalation or a merchant's missed reply
is shown to those who must act on it, the ticket's assignee (the one it was given
to when it escalated) and its team's active supervisors, in the transaction that
writes the event (an in-transaction consumer of the ticket events, registered by
this app). One alert per event and person (a unique constraint)."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from cs_desk.bulk import copy_insert
from tickets.events import EventRow
from tickets.models import StaffAlert, Team, Ticket

ALERTED = frozenset(StaffAlert.Kind.values)
ALERT_COLUMNS = ["user_id", "ticket_id", "event_id", "kind", "target_kind", "created_at", "seen_at"]


def staff_alerts_write(rows: list[EventRow]) -> None:
    """Write the alerts of ``rows`` (events just inserted): two queries and a COPY
    for a whole sweep batch, none when no event is one to alert of."""
    wanted = [row for row in rows if row.kind in ALERTED]
    if not wanted:
        return
    tickets = dict(
        (pk, (assignee_id, team_id))
        for pk, assignee_id, team_id in Ticket.objects.filter(pk__in={r.ticket_id for r in wanted}).values_list(
            "pk", "assignee_id", "team_id"
        )
    )
    supervisors: dict[int, set[int]] = {}
    active = get_user_model().objects.filter(is_active=True)
    for team_id, user_id in Team.supervisors.through.objects.filter(
        team_id__in={team_id for _assignee, team_id in tickets.values()}, user__in=active
    ).values_list("team_id", "user_id"):
        supervisors.setdefault(team_id, set()).add(user_id)
    rows_out = []
    for row in wanted:
        assignee_id, team_id = tickets[row.ticket_id]
        for user_id in sorted(supervisors.get(team_id, set()) | ({assignee_id} if assignee_id else set())):
            rows_out.append((user_id, row.ticket_id, row.id, row.kind, row.target_kind or "", row.created_at, None))
    # COPY, as the sweep writes its events: the events are new, so no (event, user) pair
    # can exist yet (the unique constraint is the guard).
    copy_insert(StaffAlert, ALERT_COLUMNS, rows_out)


# --- Reading and marking ---------------------------------------------------------------


def staff_alerts_of(user, *, limit: int = 100):
    """``user``'s alerts, newest first, on tickets they may still see."""
    from tickets.access import tickets_visible_to

    visible = StaffAlert.objects.filter(user=user, ticket__in=tickets_visible_to(user))
    return visible.select_related("ticket").order_by("-created_at", "-id")[:limit]


def staff_alerts_unseen(user) -> int:
    """How many of ``user``'s alerts are not seen yet (the desk's badge)."""
    if not user.is_authenticated:
        return 0
    return StaffAlert.objects.filter(user=user, seen_at__isnull=True).count()


def staff_alerts_seen(user, *, now, ticket_id: int | None = None) -> int:
    """Mark ``user``'s alerts seen: those of one ticket (opened in the workspace),
    or all. Returns how many were marked."""
    unseen = StaffAlert.objects.filter(user=user, seen_at__isnull=True)
    if ticket_id is not None:
        unseen = unseen.filter(ticket_id=ticket_id)
    return unseen.update(seen_at=now)
