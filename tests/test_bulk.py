"""COPY-based bulk writes (cs_desk.bulk), which the SLA sweep uses for its
events, targets, tickets and outbox rows."""

from datetime import timedelta

import pytest
from django.db import DataError, transaction
from django.utils import timezone

from cs_desk.bulk import copy_insert, copy_update
from tickets import services
from tickets.models import Notification, SLATarget, Ticket, TicketEvent


@pytest.fixture
def ticket(category):
    return services.ticket_create(
        category=category, subject="退款没到账", body="七天了。", requester_name="韩梅梅", requester_phone="13800138000"
    )


@pytest.mark.django_db
def test_copy_insert_draws_ids_in_row_order_and_encodes_json(ticket):
    at = timezone.now()
    rows = [
        (ticket.pk, "sla_warning", at, None, None, "", None, 1, {"note": '引号 " 和反斜杠 \\ 和换行\n', "n": 1}),
        (ticket.pk, "sla_breach", at, None, None, "", None, 2, {}),
    ]
    columns = ("ticket_id", "kind", "created_at", "actor_id", "target_id", "target_kind", "cycle", "step", "data")

    with transaction.atomic():
        ids = copy_insert(TicketEvent, columns, rows, returning_ids=True)

    assert len(ids) == 2 and ids[0] < ids[1]
    first, second = TicketEvent.objects.get(pk=ids[0]), TicketEvent.objects.get(pk=ids[1])
    assert (first.kind, first.step, first.data) == ("sla_warning", 1, {"note": '引号 " 和反斜杠 \\ 和换行\n', "n": 1})
    assert (second.kind, second.step, second.data, second.created_at) == ("sla_breach", 2, {}, at)
    # The sequence moved past the explicit ids: an ordinary insert does not collide.
    assert TicketEvent.objects.create(ticket=ticket, kind="note").pk > ids[1]


OUTBOX_COLUMNS = (
    *("ticket_id", "kind", "recipient", "language", "subject", "body"),
    *("status", "attempts", "last_error", "next_attempt_at", "created_at"),
)


@pytest.mark.django_db
def test_copy_insert_without_ids_returns_nothing_and_writes_rows(ticket):
    before = Notification.objects.count()
    with transaction.atomic():
        result = copy_insert(
            Notification,
            OUTBOX_COLUMNS,
            [
                (
                    ticket.pk,
                    "sla_warning",
                    "lead@example.cn",
                    "en",
                    "S",
                    "B",
                    "pending",
                    0,
                    "",
                    timezone.now(),
                    timezone.now(),
                )
            ]
            * 3,
        )
    assert result == []
    assert Notification.objects.count() == before + 3


@pytest.mark.django_db
def test_copy_update_writes_only_the_named_columns(ticket):
    target = ticket.targets.get(kind=SLATarget.Kind.FIRST_RESPONSE)
    later = target.due_at + timedelta(hours=3)
    pauses = [["2026-11-23T10:00:00+08:00", "2026-11-23T11:00:00+08:00"]]

    with transaction.atomic():
        copy_update(SLATarget, ["due_at", "pauses", "paused_at", "steps_taken"], [(target.pk, later, pauses, None, 2)])
        # A second update of the same table with other columns, in the same transaction.
        copy_update(Ticket, ["escalation_level", "assignee_id"], [(ticket.pk, 1, None)])
        copy_update(Ticket, ["is_overdue"], [(ticket.pk, True)])

    target.refresh_from_db()
    ticket.refresh_from_db()
    assert (target.due_at, target.pauses, target.steps_taken, target.status) == (later, pauses, 2, "running")
    assert (ticket.escalation_level, ticket.is_overdue, ticket.subject) == (1, True, "退款没到账")


@pytest.mark.django_db
def test_copy_update_refuses_a_value_too_long_instead_of_truncating(ticket):
    with pytest.raises(DataError), transaction.atomic():
        copy_update(Ticket, ["priority"], [(ticket.pk, "x" * 11)])  # priority is varchar(10)
    ticket.refresh_from_db()
    assert ticket.priority == "normal"


@pytest.mark.django_db(transaction=True)
def test_copy_update_needs_a_transaction(ticket):
    with pytest.raises(RuntimeError, match="inside a transaction"):
        copy_update(Ticket, ["is_overdue"], [(ticket.pk, True)])
