"""The rows cs_desk ships are named in Chinese (tickets 0027): renamed from their
bilingual names, unless an administrator has named them already."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from tickets.models import BusinessCalendar, SLAPolicy, Team

pytestmark = pytest.mark.django_db

names = importlib.import_module("tickets.migrations.0027_shipped_names_in_chinese")
EDITOR = SimpleNamespace(connection=connection)


def shipped_names() -> tuple[bool, bool, bool]:
    return (
        BusinessCalendar.objects.filter(name="中国大陆工作日").exists(),
        SLAPolicy.objects.filter(name="在线客服", channel="chat").exists(),
        Team.objects.filter(name="账号申诉").exists(),
    )


def test_the_shipped_rows_are_named_in_chinese_and_back_on_the_way_down():
    assert shipped_names() == (True, True, True)
    names.backwards(apps, EDITOR)
    assert BusinessCalendar.objects.filter(name="中国大陆工作日 (China mainland)").exists()
    assert SLAPolicy.objects.filter(name="在线客服 Live chat").exists()
    assert Team.objects.filter(name="账号申诉 Account appeals").exists()
    names.forwards(apps, EDITOR)
    assert shipped_names() == (True, True, True)


def test_a_name_an_administrator_chose_is_kept():
    Team.objects.filter(name="账号申诉").update(name="账号申诉 Account appeals")
    Team.objects.create(name="账号申诉")  # an administrator's own team, already so named
    names.forwards(apps, EDITOR)
    assert Team.objects.filter(name="账号申诉 Account appeals").count() == 1  # not renamed onto theirs
    assert Team.objects.filter(name="账号申诉").count() == 1
