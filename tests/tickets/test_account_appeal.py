"""The account-restriction appeal ships with the data (tickets 0018): its
category and its team, made once, and what an appeal needs, which the consumer
reads on the complaint form when choosing it and in the acknowledgement."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from tests.factories import CategoryFactory, TeamFactory
from tests.tickets.test_consumer import NEW, valid
from tickets.models import Category, Notification, Team, Ticket

pytestmark = pytest.mark.django_db

migration = importlib.import_module("tickets.migrations.0018_account_appeal_category")
names = importlib.import_module("tickets.migrations.0027_shipped_names_in_chinese")
TEAM = "账号申诉"


def run_migration() -> None:
    """0018 makes the category and its team (named in both languages then), 0027 names the team in Chinese."""
    migration.account_appeal_category(apps, SimpleNamespace(connection=connection))
    names.forwards(apps, SimpleNamespace(connection=connection))


@pytest.fixture
def account_appeal() -> Category:
    run_migration()  # made already, unless a flush took it: then now
    return Category.objects.get(code="account-appeal")


def test_the_migration_makes_the_category_and_its_team_once():
    # given a database without them
    Category.objects.filter(code="account-appeal").delete()
    Team.objects.filter(name__in=[TEAM, migration.TEAM]).delete()

    run_migration()
    made = Category.objects.get(code="account-appeal")
    assert (made.name_zh, made.name_en, made.default_priority, made.team.name) == (
        "账号限制申诉",
        "Account restriction appeal",
        "normal",
        TEAM,
    )
    assert made.guidance_zh.startswith("账号申诉请提供：\n· 被限制账号的手机号或用户 ID；\n· 账号被限制的日期；")
    assert "screenshots of the restriction notice" in made.guidance_en

    # when it runs again, after an administrator reworded the Chinese guidance
    Category.objects.filter(pk=made.pk).update(guidance_zh="请提供账号和截图。")
    run_migration()

    # then nothing is added and nothing an administrator wrote is changed
    assert Category.objects.filter(code="account-appeal").count() == 1
    assert Team.objects.filter(name=TEAM).count() == 1
    again = Category.objects.get(code="account-appeal")
    assert (again.pk, again.guidance_zh, again.guidance_en) == (made.pk, "请提供账号和截图。", made.guidance_en)


def test_a_category_an_administrator_made_is_kept_and_given_the_guidance():
    Category.objects.filter(code="account-appeal").delete()
    Team.objects.filter(name__in=[TEAM, migration.TEAM]).delete()
    ours = CategoryFactory(code="account-appeal", name_zh="账号解封", team=TeamFactory(name="风控"))

    run_migration()

    kept = Category.objects.get(code="account-appeal")
    assert (kept.pk, kept.name_zh, kept.team.name) == (ours.pk, "账号解封", "风控")
    assert kept.guidance_zh == migration.GUIDANCE_ZH and kept.guidance_en == migration.GUIDANCE_EN
    assert not Team.objects.filter(name=TEAM).exists()


def test_the_complaint_form_shows_what_an_appeal_needs_with_that_category(client, category, account_appeal):
    chinese = client.get(NEW).content.decode()
    english = client.get("/en" + NEW).content.decode()

    # (the script shows it while the category is chosen; without it, it stays visible)
    assert '<span class="hint" data-guidance>账号申诉请提供：<br>· 被限制账号的手机号或用户 ID；<br>' in chinese
    english = english.replace("&#x27;", "'")  # (escaped in the page)
    assert '<span class="hint" data-guidance>For an account appeal, please include:<br>· the restricted' in english
    assert chinese.count("data-guidance") == 1  # refunds need nothing said
    assert "<script>" not in chinese  # the page's script is its own file (CSP)


def test_the_acknowledgement_tells_what_an_appeal_needs_in_the_consumers_language(client, category, account_appeal):
    # given appeals filed on the form in Chinese and in English, and a refund complaint
    client.post(NEW, valid(account_appeal, requester_email="wang@example.cn"))
    client.post("/en" + NEW, valid(account_appeal, requester_email="amy@example.com"))
    client.post(NEW, valid(category, requester_email="li@example.cn"))
    assert Ticket.objects.count() == 3
    receipts = {n.recipient: n.body for n in Notification.objects.filter(kind="ticket_received")}

    # then each appeal's receipt ends with the guidance in its reader's language, after the link to the complaint
    assert receipts["wang@example.cn"].endswith(f"\n{migration.GUIDANCE_ZH}\n如有遗漏，请通过上方链接补充。\n")
    assert receipts["amy@example.com"].endswith(
        f"\n{migration.GUIDANCE_EN}\nIf anything is missing, add it on the page linked above.\n"
    )
    # and the refund's says nothing more than it did
    assert receipts["li@example.cn"].endswith("/\n") and "如有遗漏" not in receipts["li@example.cn"]
