import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connections
from django.db.models.signals import post_migrate

from tests.factories import CategoryFactory, TeamFactory, UserFactory

_defaults = importlib.import_module("tickets.migrations.0002_defaults_china_calendar_policies_roles")
_roles = importlib.import_module("tickets.migrations.0009_admin_roles")
_account_appeal = importlib.import_module("tickets.migrations.0018_account_appeal_category")
_chat = importlib.import_module("tickets.migrations.0022_chat")
_names = importlib.import_module("tickets.migrations.0027_shipped_names_in_chinese")


def _restore_sla_defaults(*, using: str, **kwargs) -> None:
    """The data migrations' defaults (China calendar, SLA policies, role groups,
    the account appeal category and its team, the chat's policy, their Chinese names), put back whenever the database is
    left without them: after the flush that ends every transactional test
    (Django's flush sends ``post_migrate``, as does migrate when a kept test
    database is reused). Written there and then, committed, so that the tests
    after it find them instead of each writing them again inside its own
    rolled-back transaction."""
    from tickets.models import SLAPolicy

    if not SLAPolicy.objects.using(using).exists():
        _defaults.forwards(apps, None)
        _roles.set_roles(apps, None)
        _account_appeal.account_appeal_category(apps, SimpleNamespace(connection=connections[using]))
        _chat.chat_policy_seed(apps, None)
        _names.forwards(apps, SimpleNamespace(connection=connections[using]))


post_migrate.connect(
    _restore_sla_defaults, sender=apps.get_app_config("tickets"), dispatch_uid="tests.restore_sla_defaults"
)


@pytest.fixture(autouse=True)
def _site_language():
    """Every test starts in the site's language. A request through the test
    client leaves the language its LocaleMiddleware chose active in the thread,
    so a test that renders outside a request would otherwise read the language
    of whichever test ran before it (an English admin test, then a report
    rendered directly: English headings where Chinese is asserted)."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True, scope="session")
def _evidence_root():
    """The run's evidence files live in a temporary directory, removed at the end."""
    import shutil

    from django.conf import settings

    yield
    shutil.rmtree(settings.EVIDENCE_ROOT, ignore_errors=True)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Each test starts with no submissions counted against any client."""
    from cs_desk.redis import redis_client

    client = redis_client()
    keys = list(client.scan_iter(match="*ratelimit:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def supervisor(db):
    return UserFactory(username="supervisor", groups=["supervisors"])


@pytest.fixture
def agent(db):
    return UserFactory(username="agent", groups=["agents"])


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", groups=["managers"])


@pytest.fixture
def team(db, supervisor, agent):
    return TeamFactory(name="Orders", supervisors=[supervisor], members=[agent])


@pytest.fixture
def category(team):
    return CategoryFactory(code="refund", name_zh="退款", name_en="Refund", default_priority="normal", team=team)


@pytest.fixture
def urgent_category(team):
    return CategoryFactory(
        code="order-error", name_zh="订单错误", name_en="Order error", default_priority="urgent", team=team
    )


@pytest.fixture
def low_category(team):
    return CategoryFactory(code="suggestion", name_zh="建议", name_en="Suggestion", default_priority="low", team=team)


@pytest.fixture
def webhook_receiver():
    """A running webhook receiver that verifies signatures (tests.api.receiver)."""
    from tests.api.receiver import Receiver

    with Receiver() as receiver:
        yield receiver
