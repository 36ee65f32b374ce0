"""Who may see and work which tickets. The one place staff visibility is decided:
every staff view, API endpoint and export starts from ``tickets_visible_to``.

* agents see the open and closed tickets of the teams they belong to, and any
  ticket assigned to them;
* supervisors also those of the teams they supervise (their escalations);
* managers see everything, read-only (unless they are also agents);
* superusers see and work everything;
* merchants and anyone else see nothing here (the merchant portal is separate).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from tickets.models import Team, Ticket
from tickets.recipients import AGENTS, MANAGERS, SUPERVISORS


def _groups(user) -> set[str]:
    cached = getattr(user, "_cs_desk_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True)) if user.is_authenticated else set()
        user._cs_desk_groups = cached
    return cached


def is_staff_user(user) -> bool:
    """May use the staff pages at all (never a merchant's login)."""
    if not user.is_authenticated or not user.is_active or hasattr(user, "merchant_link"):
        return False
    return user.is_superuser or bool(_groups(user) & {AGENTS, SUPERVISORS, MANAGERS})


def can_work(user) -> bool:
    """May change tickets (reply, assign, change status): agents, supervisors, superusers."""
    return is_staff_user(user) and (user.is_superuser or bool(_groups(user) & {AGENTS, SUPERVISORS}))


def user_team_ids(user) -> list[int]:
    """The teams a staff member works for: member or supervisor."""
    cached = getattr(user, "_cs_desk_team_ids", None)
    if cached is None:
        cached = list(
            Team.objects.filter(Q(members=user) | Q(supervisors=user)).values_list("pk", flat=True).distinct()
        )
        user._cs_desk_team_ids = cached
    return cached


def sees_everything(user) -> bool:
    return user.is_superuser or MANAGERS in _groups(user)


def ticket_scope(user, prefix: str = "") -> Q | None:
    """The condition on tickets that ``user`` may see, for a query on tickets
    (``prefix`` "") or on rows related to them (``prefix`` "ticket__"): None for
    those who see everything (no condition at all, so that reports over every
    ticket stay plain range scans). Only for staff users."""
    if sees_everything(user):
        return None
    return Q(**{f"{prefix}team_id__in": user_team_ids(user)}) | Q(**{f"{prefix}assignee": user})


def tickets_visible_to(user) -> QuerySet[Ticket]:
    if not is_staff_user(user):
        return Ticket.objects.none()
    scope = ticket_scope(user)
    return Ticket.objects.all() if scope is None else Ticket.objects.filter(scope)


def rows_visible_to(user, queryset: QuerySet, *, ticket_field: str | None = "ticket") -> QuerySet:
    """``queryset`` narrowed to what ``user`` may see: tickets themselves
    (``ticket_field`` None), or rows hanging off a ticket through ``ticket_field``
    (messages, targets, events, notifications, surveys, strikes …). A row with no
    ticket is for those who see everything. The admin's pages go through this,
    so that they show exactly what the desk and the API show."""
    if not is_staff_user(user):
        return queryset.none()
    if ticket_field is None:
        scope = ticket_scope(user)
    else:
        scope = ticket_scope(user, f"{ticket_field}__")
        if scope is not None:
            scope &= Q(**{f"{ticket_field}__isnull": False})
    return queryset if scope is None else queryset.filter(scope)


def scoped(queryset, reader, prefix: str = ""):
    """``queryset`` narrowed to the tickets ``reader`` may see (``prefix`` leads
    from its rows to the ticket); unchanged for None or a reader who sees all."""
    scope = None if reader is None else ticket_scope(reader, prefix)
    return queryset if scope is None else queryset.filter(scope)


def sees_contact(user) -> bool:
    """Whether a consumer's phone number and email address are shown in full:
    to those who work tickets (they call and write back) and administrators;
    masked for everyone else (managers and other read-only readers)."""
    return can_work(user)


def ticket_for_staff(user, pk: int, *, related: bool = True) -> Ticket | None:
    """The ticket if ``user`` may see it, else None (the views answer 404 either
    way, never revealing that it exists). ``related``: with its category, team,
    assignee and shop (a page shows them; a line of a chat needs none)."""
    tickets = tickets_visible_to(user)
    if related:
        tickets = tickets.select_related("category", "team", "assignee", "merchant")
    return tickets.filter(pk=pk).first()


def _team_staff(team_ids=None):
    """Active members and supervisors of the teams ``team_ids`` (of any team when None)."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True)
    if team_ids is None:
        users = users.filter(Q(teams__isnull=False) | Q(supervised_teams__isnull=False))
    else:
        users = users.filter(Q(teams__in=team_ids) | Q(supervised_teams__in=team_ids))
    return users.distinct().order_by("username")


def assignable_users(user, ticket: Ticket):
    """Who a ticket may be assigned to: members and supervisors of its team
    (``tickets.services.ticket_assign`` refuses anyone else, at every door)."""
    return _team_staff([ticket.team_id])


def colleagues(user):
    """Whom ``user`` may assign tickets to in bulk: the members and supervisors of
    their teams (of every team for those who see everything). Each ticket is
    still checked against its own team when assigned."""
    return _team_staff(None if sees_everything(user) else user_team_ids(user))


def canned_answers_kept_by(user) -> Q | None:
    """The canned answers ``user`` keeps (adds, changes, deletes): those of the
    categories of the teams they supervise; every one for an administrator
    (None: no condition). Answers for every category (none set) are the
    administrators'; supervisors read them."""
    if user.is_superuser:
        return None
    return Q(category__team__in=Team.objects.filter(supervisors=user))


def manages_canned_answers(user) -> bool:
    """Supervisors keep the canned answers (in the admin, with their group's permissions)."""
    return is_staff_user(user) and user.is_staff and (user.is_superuser or SUPERVISORS in _groups(user))


def reads_reports(user) -> bool:
    """The SLA, backlog, satisfaction and volume reports: whoever holds the
    permission ``tickets.view_reports`` (managers and supervisors through their
    groups; an administrator may grant it to an agent). Each reader sees the
    figures of the tickets they may see (``ticket_scope``): managers all,
    supervisors their teams'. One query, remembered for the request (the desk's
    menu asks on every page)."""
    if not is_staff_user(user):
        return False
    cached = getattr(user, "_cs_desk_reads_reports", None)
    if cached is None:
        from django.contrib.auth.models import Permission

        cached = user.is_superuser or (
            Permission.objects.filter(
                Q(user=user) | Q(group__user=user), content_type__app_label="tickets", codename="view_reports"
            ).exists()
        )
        user._cs_desk_reads_reports = cached
    return cached


def reads_merchant_reports(user) -> bool:
    """Merchant scorecards and risk signals: managers and supervisors (not agents)."""
    return is_staff_user(user) and (user.is_superuser or bool(_groups(user) & {SUPERVISORS, MANAGERS}))


def reviews_merchants(user) -> bool:
    """Confirming or dismissing risk signals, re-scoring on demand: managers."""
    return is_staff_user(user) and (user.is_superuser or MANAGERS in _groups(user))
