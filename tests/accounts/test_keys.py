"""API keys (accounts.keys): a key is shown once and stored as its SHA-256,
works while its user may still act with it, is revoked in one place, and a
shop holds at most ten live ones."""

import hashlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from accounts.keys import api_key_authenticate, api_key_issue, api_keys_revoke
from accounts.models import ApiKey
from cs_desk.exceptions import ApplicationError
from tests.factories import MerchantFactory, MerchantUserFactory
from tickets.access import is_staff_user

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
STAFF, MERCHANT = ApiKey.Kind.STAFF, ApiKey.Kind.MERCHANT


def authenticate(key: str) -> ApiKey | None:
    return api_key_authenticate(key, staff_check=is_staff_user)


@pytest.fixture
def shopkeeper():
    return MerchantUserFactory(merchant=MerchantFactory(shop_id="SHOP00042"), user__username="shopkeeper")


def test_a_key_is_returned_once_and_only_its_sha256_is_kept(agent):
    api_key, key = api_key_issue(kind=STAFF, user=agent, name="  order system  ")

    stored = ApiKey.objects.get()
    assert key.startswith("css_") and len(key) == 4 + 43
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert stored.prefix == key[:10]
    assert key not in {str(value) for value in ApiKey.objects.values().get().values()}
    assert (stored.pk, stored.name, stored.kind, stored.merchant) == (api_key.pk, "order system", "staff", None)


def test_a_merchant_key_acts_for_the_shop_of_its_user(shopkeeper):
    _api_key, key = api_key_issue(kind=MERCHANT, user=shopkeeper.user, name="ERP", merchant=shopkeeper.merchant)

    assert key.startswith("csm_")
    assert authenticate(key).merchant == shopkeeper.merchant


@pytest.mark.parametrize(("name", "code"), [("", "required"), ("   ", "required"), ("名" * 101, "too_long")])
def test_a_key_needs_a_name_of_at_most_100_characters(agent, name, code):
    with pytest.raises(ApplicationError) as refused:
        api_key_issue(kind=STAFF, user=agent, name=name)

    assert (refused.value.code, refused.value.field) == (code, "name")
    assert not ApiKey.objects.exists()


def test_a_shop_holds_ten_live_keys_at_most(shopkeeper):
    merchant, user = shopkeeper.merchant, shopkeeper.user
    made = [api_key_issue(kind=MERCHANT, user=user, name=f"tool {n}", merchant=merchant)[0] for n in range(10)]

    with pytest.raises(ApplicationError) as refused:
        api_key_issue(kind=MERCHANT, user=user, name="the eleventh", merchant=merchant)
    assert refused.value.code == "too_many"

    api_keys_revoke(keys=ApiKey.objects.filter(pk=made[0].pk), now=MON_10)
    api_key_issue(kind=MERCHANT, user=user, name="the eleventh", merchant=merchant)
    assert ApiKey.objects.live().filter(merchant=merchant).count() == 10


def test_a_merchant_key_names_its_shop_and_a_staff_key_none(agent, shopkeeper):
    with pytest.raises(ApplicationError) as refused:
        api_key_issue(kind=MERCHANT, user=shopkeeper.user, name="ERP")
    assert refused.value.code == "not_merchant"
    with pytest.raises(ValueError):
        api_key_issue(kind=STAFF, user=agent, name="ERP", merchant=shopkeeper.merchant)

    # The database holds the same rule, whoever writes the row.
    for kind, merchant in ((STAFF, shopkeeper.merchant), (MERCHANT, None)):
        with pytest.raises(IntegrityError), transaction.atomic():
            ApiKey.objects.create(kind=kind, user=agent, merchant=merchant, name="x", prefix="x", key_hash=kind)


def test_a_staff_key_stops_working_when_its_user_is_no_longer_active_staff(agent):
    _api_key, key = api_key_issue(kind=STAFF, user=agent, name="order system")
    assert authenticate(key).user == agent

    agent.groups.clear()
    assert authenticate(key) is None

    agent.groups.add(Group.objects.get(name="agents"))
    assert authenticate(key).user == agent
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    assert authenticate(key) is None


def test_a_merchant_key_stops_working_when_its_user_leaves_the_shop(shopkeeper):
    _api_key, key = api_key_issue(kind=MERCHANT, user=shopkeeper.user, name="ERP", merchant=shopkeeper.merchant)

    shopkeeper.merchant = MerchantFactory(shop_id="SHOP00043")
    shopkeeper.save(update_fields=["merchant"])

    assert authenticate(key) is None


@pytest.mark.parametrize(
    "presented",
    ["", "css_", "csm_not-a-key", "Bearer css_x", "xyz_" + "a" * 43, "css_" + "a" * 300],
)
def test_what_is_no_live_key_is_refused(agent, presented):
    api_key_issue(kind=STAFF, user=agent, name="order system")

    assert authenticate(presented) is None


def test_a_staff_key_is_no_merchant_key(agent):
    _api_key, key = api_key_issue(kind=STAFF, user=agent, name="order system")

    assert authenticate("csm_" + key[4:]) is None


def test_last_used_is_written_at_most_once_a_minute(agent):
    _api_key, key = api_key_issue(kind=STAFF, user=agent, name="order system")

    for seconds in (0, 30, 61):
        with time_machine.travel(MON_10 + timedelta(seconds=seconds), tick=False):
            authenticate(key)
        seen = ApiKey.objects.get().last_used_at

        # At 0 s the first use; at 30 s still that one; at 61 s, more than a minute on, the new one.
        assert seen == MON_10 + timedelta(seconds={0: 0, 30: 0, 61: 61}[seconds])


def test_revoking_refuses_the_key_from_then_on_and_keeps_the_first_instant(agent):
    first, first_key = api_key_issue(kind=STAFF, user=agent, name="order system")
    second, second_key = api_key_issue(kind=STAFF, user=agent, name="chat")
    api_keys_revoke(keys=ApiKey.objects.filter(pk=first.pk), now=MON_10)

    count = api_keys_revoke(keys=ApiKey.objects.all(), now=MON_10 + timedelta(hours=1))

    assert count == 1
    assert dict(ApiKey.objects.values_list("pk", "revoked_at")) == {
        first.pk: MON_10,
        second.pk: MON_10 + timedelta(hours=1),
    }
    assert authenticate(first_key) is None and authenticate(second_key) is None
