"""The complaint form tells a consumer what an account appeal needs when, and
only when, they choose that category (the page's own script; no inline code)."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

pytestmark = [pytest.mark.browser, pytest.mark.slow]

migration = importlib.import_module("tickets.migrations.0018_account_appeal_category")


@pytest.mark.django_db(transaction=True)
def test_the_guidance_shows_while_account_appeal_is_chosen(live_server, browser_page, category):
    migration.account_appeal_category(apps, SimpleNamespace(connection=connection))  # shipped; made again after a flush
    page = browser_page
    page.goto(f"{live_server.url}/complaints/new/")
    guidance = page.locator("[data-guidance]")
    assert guidance.count() == 1
    assert not guidance.is_visible()

    page.get_by_label("账号限制申诉").check()
    assert guidance.is_visible()
    assert "被限制账号的手机号或用户 ID" in guidance.inner_text()

    page.get_by_label("退款").check()
    assert not guidance.is_visible()
