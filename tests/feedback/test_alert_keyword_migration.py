"""Migrations tickets 0013 and feedback 0003: the alert words move into the
ticket domain with their rows, their hits and their content type (so the
permissions granted on them and the admin history follow)."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from feedback.models import KeywordHit
from tests.factories import UserFactory
from tickets import services
from tickets.models import AlertKeyword

migration = importlib.import_module("tickets.migrations.0013_alert_keyword_in_tickets")

BEFORE = [("tickets", "0012_merchant_in_accounts"), ("feedback", "0002_feedback_form_keyword_hits")]
AFTER = [("tickets", "0013_alert_keyword_in_tickets"), ("feedback", "0003_alert_keyword_to_tickets")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_a_word_and_its_hit_are_still_there_and_linked_after_the_move(category):
    # given a complaint, and the database as it was before the move
    ticket = services.ticket_create(
        category=category, subject="投诉", body="商家不理。", requester_name="李娜", requester_phone="13812345678"
    )
    applied = MigrationExecutor(connection).loader.applied_migrations
    try:
        old = _migrate(BEFORE)
        # (migrating back gave the content type back to the feedback app)
        old_type = ContentType.objects.get(app_label="feedback", model="alertkeyword")
        assert not ContentType.objects.filter(app_label="tickets", model="alertkeyword").exists()
        word = old.get_model("feedback", "AlertKeyword").objects.create(word="诈骗")
        old.get_model("feedback", "KeywordHit").objects.create(ticket_id=ticket.pk, keyword_id=word.pk)
        editors = Group.objects.create(name="alert word editors")
        editors.permissions.add(Permission.objects.get(content_type=old_type, codename="change_alertkeyword"))

        # when the move runs
        _migrate(AFTER)
    finally:
        # back to where the test database was (the leaves it had, the move included)
        leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
        _migrate(list((dict(AFTER) | {app: name for app, name in leaves if (app, name) in applied}).items()))

    # then the word, its hit and the grant are where the models now are
    ContentType.objects.clear_cache()
    moved = AlertKeyword.objects.get()
    assert (moved.pk, moved.word) == (word.pk, "诈骗")
    assert KeywordHit.objects.get().keyword == moved and KeywordHit.objects.get().ticket_id == ticket.pk
    new_type = ContentType.objects.get_for_model(AlertKeyword)
    assert (new_type.pk, new_type.app_label) == (old_type.pk, "tickets")
    assert editors.permissions.get().content_type == new_type
    assert UserFactory(username="editor", groups=["alert word editors"]).has_perm("tickets.change_alertkeyword")


@pytest.mark.django_db
def test_a_content_type_made_meanwhile_is_merged_into(category):
    # given the new content type already made (a migrate run did), and the old one
    # still holding a grant and the admin history
    new_type = ContentType.objects.get(app_label="tickets", model="alertkeyword")
    old_type = ContentType.objects.create(app_label="feedback", model="alertkeyword")
    granted = Permission.objects.create(content_type=old_type, codename="change_alertkeyword", name="Can change")
    editors = Group.objects.create(name="alert word editors")
    editors.permissions.add(granted)
    admin = UserFactory(username="root", is_superuser=True)
    entry = LogEntry.objects.create(
        user=admin, content_type=old_type, object_id="1", object_repr="诈骗", action_flag=ADDITION
    )

    # when the move runs
    migration.to_tickets(apps, SimpleNamespace(connection=connection))

    # then the grant and the history are on the new content type, and the old one is gone
    twin = Permission.objects.get(content_type=new_type, codename="change_alertkeyword")
    assert list(editors.permissions.all()) == [twin]
    entry.refresh_from_db()
    assert entry.content_type_id == new_type.pk
    assert not ContentType.objects.filter(app_label="feedback", model="alertkeyword").exists()
