"""The moves into accounts keep the data: the merchant party (accounts 0001,
merchants 0004, tickets 0012) with its tickets, strikes, permissions and admin
history; the API keys (accounts 0002, integrations 0004, merchants 0005), which
keep working with the keys handed out before.

Each test migrates the test database back to before a move, writes what a
database of that time holds through the models of that time, and migrates
forward again; the test's transaction then rolls it all back."""

import hashlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType

from accounts.models import ApiKey, Merchant, MerchantUser
from merchants.models import MerchantStrike
from tests.factories import MerchantFactory, MerchantUserFactory, UserFactory
from tests.merchants.helpers import forwarded
from tests.migrating import migrate
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
BEFORE_THE_MOVE = [
    ("accounts", None),
    ("merchants", "0003_merchant_standing_penalties_signals_tokens"),
    ("tickets", "0011_requester_phone_e164"),
]
# The admin's models in every state read (LogEntry is checked across the move).
ADMIN_STATE = [("admin", "0003_logentry_add_action_flag_choices")]
BEFORE_THE_KEYS = [
    ("accounts", "0001_initial"),
    ("merchants", "0004_merchant_to_accounts"),
    ("integrations", "0003_webhook_lease_ticket_event_catch_up"),
]


def test_the_merchant_party_moves_with_its_tickets_strikes_permissions_and_history(category, agent, admin_user):
    # given a merchant with a user, a complaint about it forwarded to it and a strike for the miss
    merchant = MerchantFactory(shop_id="SHOP00042", name="开心小店")
    shopkeeper = MerchantUserFactory(merchant=merchant, user__username="shopkeeper")
    ticket = forwarded(category, merchant, agent, at=MON_10)
    target = ticket.targets.get(kind="merchant_reply")
    MerchantStrike.objects.create(merchant=merchant, ticket=ticket, target=target, reason="No reply within 24 h")
    reviewer = UserFactory(username="reviewer")

    # and, in the database before the move, a role that may change merchants and an admin edit of this one
    old = migrate(BEFORE_THE_MOVE, state_also=ADMIN_STATE)
    OldMerchant = old.get_model("merchants", "Merchant")
    assert OldMerchant.objects.get(pk=merchant.pk).shop_id == "SHOP00042"
    assert old.get_model("merchants", "MerchantUser").objects.get(user_id=shopkeeper.user_id).merchant_id == merchant.pk
    merchant_type = old.get_model("contenttypes", "ContentType").objects.get(app_label="merchants", model="merchant")
    change_merchant = old.get_model("auth", "Permission").objects.get(
        content_type=merchant_type, codename="change_merchant"
    )
    reviewers = old.get_model("auth", "Group").objects.create(name="merchant reviewers")
    reviewers.permissions.add(change_merchant)
    reviewers.user_set.add(reviewer.pk)
    old.get_model("admin", "LogEntry").objects.create(
        user_id=admin_user.pk,
        content_type=merchant_type,
        object_id=str(merchant.pk),
        object_repr="开心小店 (SHOP00042)",
        action_flag=CHANGE,
        change_message="[]",
    )

    # when the move runs
    migrate(None, state_also=ADMIN_STATE)

    # then everything is found where it now lives
    moved = Merchant.objects.get(pk=merchant.pk)
    assert (moved.shop_id, moved.name) == ("SHOP00042", "开心小店")
    assert MerchantUser.objects.get(user=shopkeeper.user).merchant == moved
    assert Ticket.objects.get(pk=ticket.pk).merchant == moved
    assert MerchantStrike.objects.get(ticket=ticket).merchant == moved
    assert list(moved.tickets.all()) == [ticket]
    # the same permission, now the accounts app's, still granted to the same group
    new_type = ContentType.objects.get_for_model(Merchant)
    assert (new_type.app_label, new_type.model) == ("accounts", "merchant")
    assert not ContentType.objects.filter(app_label="merchants", model__in=["merchant", "merchantuser"]).exists()
    granted = Group.objects.get(name="merchant reviewers").permissions.get()
    assert (granted.pk, granted.content_type, granted.codename) == (change_merchant.pk, new_type, "change_merchant")
    assert reviewer.__class__.objects.get(pk=reviewer.pk).has_perm("accounts.change_merchant")
    assert Permission.objects.filter(content_type=new_type, codename="change_merchant").count() == 1
    # and the admin history of the merchant follows it
    assert LogEntry.objects.get(object_id=str(merchant.pk)).content_type == new_type


def test_keys_handed_out_before_one_table_keep_working(client, agent, admin_user):
    # given a staff key and a merchant key in their old tables, with the admin history of the staff key
    merchant = MerchantFactory(shop_id="SHOP00042")
    shopkeeper = MerchantUserFactory(merchant=merchant, user__username="shopkeeper")
    staff_key, merchant_key = "css_" + "s" * 43, "csm_" + "m" * 43
    old = migrate(BEFORE_THE_KEYS, state_also=ADMIN_STATE)
    StaffApiToken = old.get_model("integrations", "StaffApiToken")
    MerchantApiToken = old.get_model("merchants", "MerchantApiToken")
    used = MON_10 - timedelta(days=1)
    for n in range(3):  # ids that the new table will not give them again
        StaffApiToken.objects.create(user_id=agent.pk, name=f"old {n}", prefix="css_old", key_hash=f"old {n}")
    StaffApiToken.objects.filter(name__startswith="old ").delete()
    staff = StaffApiToken.objects.create(
        user_id=agent.pk,
        name="order system",
        prefix=staff_key[:10],
        key_hash=hashlib.sha256(staff_key.encode()).hexdigest(),
        created_at=MON_10 - timedelta(days=30),
        last_used_at=used,
    )
    MerchantApiToken.objects.create(
        user_id=shopkeeper.user_id,
        merchant_id=merchant.pk,
        name="ERP",
        prefix=merchant_key[:10],
        key_hash=hashlib.sha256(merchant_key.encode()).hexdigest(),
        created_at=MON_10 - timedelta(days=7),
    )
    MerchantApiToken.objects.create(
        user_id=shopkeeper.user_id,
        merchant_id=merchant.pk,
        name="old ERP",
        prefix="csm_revoked",
        key_hash="revoked",
        created_at=MON_10 - timedelta(days=9),
        revoked_at=MON_10 - timedelta(days=8),
    )
    staff_type = old.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label="integrations", model="staffapitoken"
    )[0]
    old.get_model("admin", "LogEntry").objects.create(
        user_id=admin_user.pk,
        content_type=staff_type,
        object_id=str(staff.pk),
        object_repr="order system (css_ssssss…)",
        action_flag=CHANGE,
        change_message="[]",
    )

    # when the keys move into one table
    migrate(None, state_also=ADMIN_STATE)

    # then each key is there with its hash, prefix, owner and times
    rows = {
        k.name: (k.kind, k.user_id, k.merchant_id, k.prefix, k.created_at, k.last_used_at, k.revoked_at)
        for k in ApiKey.objects.all()
    }
    assert rows == {
        "order system": ("staff", agent.pk, None, "css_ssssss", MON_10 - timedelta(days=30), used, None),
        "ERP": ("merchant", shopkeeper.user_id, merchant.pk, "csm_mmmmmm", MON_10 - timedelta(days=7), None, None),
        "old ERP": (
            "merchant", shopkeeper.user_id, merchant.pk, "csm_revoked", MON_10 - timedelta(days=9), None,
            MON_10 - timedelta(days=8),
        ),
    }  # fmt: skip
    # and the keys handed out before still open the API, each to its own part of it
    assert client.get("/api/v1/tickets/", HTTP_AUTHORIZATION=f"Bearer {staff_key}").status_code == 200
    assert client.get("/api/v1/merchant/complaints/", HTTP_AUTHORIZATION=f"Bearer {merchant_key}").status_code == 200
    assert client.get("/api/v1/merchant/complaints/", HTTP_AUTHORIZATION=f"Bearer {staff_key}").status_code == 403
    # and the staff key's admin history points at its new id, under the admin page that lists it
    new_id = ApiKey.objects.get(name="order system").pk
    assert new_id != staff.pk
    entry = LogEntry.objects.get(object_repr="order system (css_ssssss…)")
    assert (entry.object_id, entry.content_type.app_label, entry.content_type.model) == (
        str(new_id),
        "integrations",
        "staffapitoken",
    )
