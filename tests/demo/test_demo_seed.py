"""The demo data make run loads: it loads, twice over without doubling, and what a
Chinese reader sees of it is in Chinese (issue 22: team names read
「订单与支付 Orders & payments」)."""

import re

import pytest
from django.core.management import call_command

from tickets.models import Team, Ticket

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def test_the_demo_loads_once_and_names_its_teams_in_chinese():
    call_command("demo_seed")
    tickets = Ticket.objects.count()
    call_command("demo_seed")
    assert tickets > 0 and Ticket.objects.count() == tickets
    demo_teams = Team.objects.filter(email__endswith="@cs-desk.example").values_list("name", flat=True)
    assert set(demo_teams) == {"订单与支付", "配送与退款", "账号申诉", "商家投诉"}
    assert not [name for name in Team.objects.values_list("name", flat=True) if re.search("[A-Za-z]", name)]
