"""Status, priority and assignee changed together (tickets.services.ticket_update):
one change, all or nothing, each part with its usual event and SLA effect. Due
times are worked out by hand in the comments (China's 2026 calendar; urgent is
24 h to respond and 72 h to resolve, in calendar hours)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cs_desk.exceptions import ApplicationError, InvalidTransition
from tests.builders import ticket_filed
from tests.factories import TeamFactory, UserFactory
from tickets import services
from tickets.models import Notification, SLATarget, Ticket

SH = ZoneInfo("Asia/Shanghai")
REDATE = "priority_changed"  # why a person's priority change re-dates a target

pytestmark = pytest.mark.django_db


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


def file(category) -> Ticket:
    """Filed Monday 2026-11-23 10:00, normal: first response due Thu 26 10:00,
    resolution Mon 2026-12-07 10:00."""
    with time_machine.travel(at(23, 10), tick=False):
        return ticket_filed(category, requester_email="wang@example.cn")


def iso(value: datetime) -> str:
    """How an event's data spells an instant (UTC)."""
    return value.astimezone(UTC).isoformat()


def events(ticket: Ticket) -> list[tuple]:
    return [(e.kind, e.target.kind if e.target else None, e.data) for e in ticket.events.order_by("id")[3:]]


def target(ticket: Ticket, kind: str, cycle: int = 1) -> SLATarget:
    return SLATarget.objects.get(ticket=ticket, kind=kind, cycle=cycle)


@pytest.fixture
def outsider(db):
    """An agent of another team (Fraud): no ticket of Orders may go to them."""
    user = UserFactory(username="agent_b", groups=["agents"])
    TeamFactory(name="Fraud", members=[user])
    return user


def test_several_changes_are_applied_together_each_with_its_event(category, agent, supervisor):
    ticket = file(category)

    with time_machine.travel(at(23, 14), tick=False):
        services.ticket_update(ticket=ticket, actor=supervisor, priority="urgent", assignee=agent, status="pending")

    ticket.refresh_from_db()
    assert (ticket.priority, ticket.assignee, ticket.status) == ("urgent", agent, "pending")
    # Urgent from the clocks' start, Mon 10:00: respond by Tue 10:00, resolve by Thu 10:00. Then
    # pending: the resolution clock stops at 14:00 and the first response is no longer owed.
    assert events(ticket) == [
        ("priority_changed", None, {"from": "normal", "to": "urgent", "reason": "manual"}),
        ("target_recomputed", "first_response", {"from": iso(at(26, 10)), "to": iso(at(24, 10)), "reason": REDATE}),
        (
            "target_recomputed",
            "resolution",
            {"from": iso(datetime(2026, 12, 7, 10, tzinfo=SH)), "to": iso(at(26, 10)), "reason": REDATE},
        ),
        ("assigned", None, {"from": None, "to": agent.pk}),
        ("target_paused", "resolution", {}),
        ("target_cancelled", "first_response", {"due_at": iso(at(24, 10)), "late": False}),
        ("status_changed", None, {"from": "new", "to": "pending"}),
    ]
    assert set(ticket.events.order_by("id")[3:].values_list("actor", "created_at")) == {(supervisor.pk, at(23, 14))}
    resolution = target(ticket, "resolution")
    assert (resolution.status, resolution.paused_at) == (SLATarget.Status.PAUSED, at(23, 14))
    assert target(ticket, "first_response").status == SLATarget.Status.CANCELLED
    assert ticket.due_at is None  # nothing is owed while we wait on the consumer
    assert ticket.updated_at == at(23, 14)


def test_an_assignee_outside_the_team_refuses_the_whole_change(category, supervisor, outsider):
    ticket = file(category)

    with pytest.raises(ApplicationError) as refused:
        services.ticket_update(
            ticket=ticket, actor=supervisor, priority="urgent", status="pending", assignee=outsider, now=at(23, 14)
        )

    assert (refused.value.code, refused.value.field) == ("not_assignable", "assignee")
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.status, ticket.assignee_id) == ("normal", "new", None)
    assert events(ticket) == []
    assert target(ticket, "first_response").due_at == at(26, 10)
    assert target(ticket, "resolution").status == SLATarget.Status.RUNNING
    assert list(Notification.objects.filter(ticket=ticket).values_list("kind", flat=True)) == ["ticket_received"]


def test_a_move_the_status_cannot_make_refuses_the_whole_change(category, agent):
    ticket = file(category)
    services.ticket_change_status(ticket=ticket, status="closed", actor=agent, now=at(23, 12))

    with pytest.raises(InvalidTransition):
        services.ticket_update(ticket=ticket, actor=agent, priority="urgent", assignee=agent, status="open")

    ticket.refresh_from_db()
    assert (ticket.priority, ticket.assignee_id, ticket.status) == ("normal", None, "closed")
    assert [kind for kind, _target, _data in events(ticket)][-1] == "status_changed"  # the close, nothing after


@pytest.mark.parametrize(
    ("change", "code"), [({"status": "lost"}, "invalid_status"), ({"priority": "high"}, "invalid_priority")]
)
def test_an_unknown_value_refuses_the_whole_change(category, agent, change, code):
    ticket = file(category)

    with pytest.raises(ApplicationError) as refused:
        services.ticket_update(ticket=ticket, actor=agent, assignee=agent, **change)

    assert refused.value.code == code
    ticket.refresh_from_db()
    assert ticket.assignee_id is None and events(ticket) == []


def test_reopening_with_a_new_priority_runs_the_new_cycle_on_the_new_policy(category, agent):
    ticket = file(category)
    services.ticket_change_status(ticket=ticket, status="resolved", actor=agent, now=at(23, 12))

    services.ticket_update(ticket=ticket, actor=agent, status="open", priority="urgent", now=at(24, 9))

    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.resolved_at) == ("open", "urgent", None)
    # Nothing was owed when the priority changed; the new resolution cycle is urgent's
    # 72 calendar hours from Tue 09:00 → Fri 27 09:00.
    assert [kind for kind, _target, _data in events(ticket)][-3:] == ["priority_changed", "reopened", "target_opened"]
    assert target(ticket, "resolution", cycle=2).due_at == at(27, 9)
    assert ticket.due_at == at(27, 9)


def test_the_assignee_is_kept_unless_given_and_none_unassigns(category, agent):
    ticket = file(category)
    services.ticket_update(ticket=ticket, actor=agent, assignee=agent, now=at(23, 11))

    services.ticket_update(ticket=ticket, actor=agent, status="open", now=at(23, 12))
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee) == ("open", agent)

    services.ticket_update(ticket=ticket, actor=agent, assignee=None, now=at(23, 13))
    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert [(kind, data) for kind, _target, data in events(ticket) if kind == "assigned"] == [
        ("assigned", {"from": None, "to": agent.pk}),
        ("assigned", {"from": agent.pk, "to": None}),
    ]


def test_values_the_ticket_already_has_change_nothing(category, agent):
    ticket = file(category)

    with time_machine.travel(at(23, 14), tick=False):
        services.ticket_update(ticket=ticket, actor=agent, status="new", priority="normal", assignee=None)

    ticket.refresh_from_db()
    assert events(ticket) == []
    assert ticket.updated_at == at(23, 10)  # not even written
