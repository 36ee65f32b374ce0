import importlib

import pytest
from django.apps import apps

from tests.factories import CategoryFactory, TeamFactory, UserFactory

_defaults = importlib.import_module("tickets.migrations.0002_defaults_china_calendar_policies_roles")
_roles = importlib.import_module("tickets.migrations.0009_admin_roles")


@pytest.fixture(autouse=True)
def _sla_defaults(request):
    """The data migration's defaults (China calendar, SLA policies, role groups).
    Transactional tests flush the database afterwards, so restore them when gone."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None and not {"db", "transactional_db"} & set(request.fixturenames):
        return
    request.getfixturevalue("_django_db_helper")
    from tickets.models import SLAPolicy

    if not SLAPolicy.objects.exists():
        _defaults.forwards(apps, None)
        _roles.set_roles(apps, None)


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
