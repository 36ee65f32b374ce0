"""Fast creation of many open tickets for sweep tests, writing exactly what
``tickets.services.ticket_create`` writes for the SLA (targets and due instants)
but with bulk inserts instead of one service call per ticket."""

import itertools
import secrets
from datetime import datetime

from tickets.calendars import working_calendar
from tickets.models import Category, SLATarget, Ticket
from tickets.policies import PolicyQuestion, policy_choose
from tickets.targets import target_new

_serial = itertools.count(1)


def bulk_open_tickets(
    *, category: Category, count: int, created_at: datetime, priority: str | None = None
) -> list[int]:
    priority = priority or category.default_priority
    policy = policy_choose(
        PolicyQuestion(priority=priority, channel="web", category_id=category.pk, team_id=category.team_id)
    )
    wc = working_calendar(policy.calendar)
    batch = next(_serial)
    tickets = [
        Ticket(
            reference=f"CS-T{batch:03d}-{i:09d}",
            tracking_token=secrets.token_urlsafe(32),
            subject=f"批量工单 {i}",
            requester_name="测试",
            requester_phone="13800138000",
            category=category,
            priority=priority,
            team_id=category.team_id,
            created_at=created_at,
        )
        for i in range(count)
    ]
    Ticket.objects.bulk_create(tickets, batch_size=5000)
    templates = [
        target_new(
            ticket=tickets[0], kind=kind, cycle=1, policy=policy, calendar=policy.calendar, wc=wc, now=created_at
        )
        for kind in (SLATarget.Kind.FIRST_RESPONSE, SLATarget.Kind.RESOLUTION)
    ]
    SLATarget.objects.bulk_create(
        [
            SLATarget(
                ticket=ticket,
                kind=t.kind,
                cycle=1,
                clock=t.clock,
                duration=t.duration,
                calendar=t.calendar,
                warning_percent=t.warning_percent,
                breach_percent=t.breach_percent,
                level2_percent=t.level2_percent,
                started_at=created_at,
                pauses=[],
                policy=policy,
                warning_at=t.warning_at,
                due_at=t.due_at,
                level2_at=t.level2_at,
                next_step_at=t.next_step_at,
            )
            for ticket in tickets
            for t in templates
        ],
        batch_size=5000,
    )
    ids = [t.pk for t in tickets]
    Ticket.objects.filter(pk__in=ids).update(due_at=min(t.due_at for t in templates))
    return ids
