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

from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from accounts.models import MerchantUser
from tickets.models import AgentAvailability, Team, Ticket
from tickets.recipients import AGENTS, MANAGERS, SUPERVISORS


class _Facts(NamedTuple):
    """What the rules below ask of a user, read in one query and kept on the user
    object for the request: a desk page asks several of them (and the header the
    user's chat availability, read here too so that it costs no query of its own)."""

    merchant: bool  # a merchant's login
    groups: frozenset[str]
    team_ids: list[int]  # member or supervisor, by team name
    team_names: list[str]  # of team_ids, in the same order
    view_reports: bool  # holds tickets.view_reports, directly or through a group
    chat_status: str | None  # AgentAvailability.status, None when never set (the header's switch)


_NOBODY = _Facts(False, frozenset(), [], [], False, None)


def _facts(user) -> _Facts:
    cached = getattr(user, "_cs_desk_facts", None)
    if cached is None:
        cached = _NOBODY
        if user.is_authenticated:
            me = OuterRef("pk")
            me_twice = OuterRef(me)  # the user, seen from a subquery of a subquery
            mine = Team.objects.filter(
                Q(pk__in=Team.members.through.objects.filter(user=me_twice).values("team_id"))
                | Q(pk__in=Team.supervisors.through.objects.filter(user=me_twice).values("team_id"))
            ).order_by("name", "pk")
            reports = Permission.objects.filter(
                Q(user=me) | Q(group__user=me), content_type__app_label="tickets", codename="view_reports"
            )
            row = (
                get_user_model()
                .objects.filter(pk=user.pk)
                .annotate(
                    _merchant=Exists(MerchantUser.objects.filter(user=me)),
                    _groups=ArraySubquery(Group.objects.filter(user=me).values("name")),
                    _team_ids=ArraySubquery(mine.values("pk")),
                    _team_names=ArraySubquery(mine.values("name")),
                    _reports=Exists(reports),
                    _chat=Subquery(AgentAvailability.objects.filter(user=me).values("status")[:1]),
                )
                .values_list("_merchant", "_groups", "_team_ids", "_team_names", "_reports", "_chat")
                .first()
            )
            if row is not None:
                merchant, groups, team_ids, team_names, view_reports, chat = row
                cached = _Facts(merchant, frozenset(groups), team_ids, team_names, view_reports, chat)
        user._cs_desk_facts = cached
    return cached


def user_teams(user) -> list[tuple[int, str]]:
    """The teams a staff member works for, as (id, name), by name (the queue's team filter)."""
    facts = _facts(user)
    return list(zip(facts.team_ids, facts.team_names, strict=True))


def chat_status(user) -> str | None:
    """The user's chat availability (``AgentAvailability.status``), None when never
    set: read with the user's other facts, for the desk header's switch."""
    return _facts(user).chat_status


def _groups(user) -> frozenset[str]:
    return _facts(user).groups


def is_staff_user(user) -> bool:
    """May use the staff pages at all (never a merchant's login)."""
    if not user.is_authenticated or not user.is_active or _facts(user).merchant:
        return False
    return user.is_superuser or bool(_groups(user) & {AGENTS, SUPERVISORS, MANAGERS})


def can_work(user) -> bool:
    """May change tickets (reply, assign, change status): agents, supervisors, superusers."""
    return is_staff_user(user) and (user.is_superuser or bool(_groups(user) & {AGENTS, SUPERVISORS}))


def user_team_ids(user) -> list[int]:
    """The teams a staff member works for: member or supervisor."""
    return _facts(user).team_ids


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
    supervisors their teams'. Read with the user's other facts (the desk's menu
    asks on every page)."""
    if not is_staff_user(user):
        return False
    return user.is_superuser or _facts(user).view_reports


def reads_merchant_reports(user) -> bool:
    """Merchant scorecards and risk signals: managers and supervisors (not agents)."""
    return is_staff_user(user) and (user.is_superuser or bool(_groups(user) & {SUPERVISORS, MANAGERS}))


def reviews_merchants(user) -> bool:
    """Confirming or dismissing risk signals, re-scoring on demand: managers."""
    return is_staff_user(user) and (user.is_superuser or MANAGERS in _groups(user))
