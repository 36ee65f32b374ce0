"""Migration 0011: phones filed before E.164 storage are rewritten in E.164."""

import importlib

import pytest
from django.apps import apps

from tests.builders import WANG, ticket_filed
from tests.tickets.test_admin import MON_10
from tickets.models import Ticket

migration = importlib.import_module("tickets.migrations.0011_requester_phone_e164")


@pytest.mark.django_db
def test_old_rows_are_rewritten_and_unparseable_ones_kept(category):
    # given three tickets whose phones were stored as typed before E.164
    tickets = [ticket_filed(category, at=MON_10, **(WANG | {"subject": f"旧号码 {n}"})) for n in range(3)]
    for ticket, typed in zip(tickets, ["13800138000", "010-12345678", "call me"], strict=True):
        Ticket.objects.filter(pk=ticket.pk).update(requester_phone=typed)

    # when the migration runs
    migration.to_e164(apps, None)

    # then valid numbers are E.164 and the unparseable one is left as it was
    stored = [Ticket.objects.get(pk=t.pk).requester_phone for t in tickets]
    assert stored == ["+8613800138000", "+861012345678", "call me"]
