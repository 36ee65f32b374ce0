"""API keys in the admin: an administrator makes a staff token (the key is
shown once) and revokes staff tokens and a shop's tokens, each through
accounts.keys; each admin page lists only its own kind of key."""

import hashlib
import re

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.models import ApiKey
from integrations.models import StaffApiToken
from integrations.tokens import staff_token_create
from merchants.models import MerchantApiToken
from merchants.tokens import token_create
from tests.merchants.helpers import shop

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    with translation.override("en"):  # our own messages in English, whatever the catalogue says
        return reverse(f"admin:{name}", args=args)


def bearer(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_an_administrator_makes_a_staff_token_shown_once_and_revokes_it(admin_client, client, agent):
    add = url("integrations_staffapitoken_add")
    made = admin_client.post(add, {"user": agent.pk, "name": "order system"}, follow=True)

    [key] = [k for m in made.context["messages"] for k in re.findall(r"css_[\w-]{43}", str(m))]
    token = ApiKey.objects.get()
    assert (token.kind, token.user, token.name) == ("staff", agent, "order system")
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert client.get("/api/v1/tickets/", **bearer(key)).status_code == 200

    revoked = admin_client.post(
        url("integrations_staffapitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )

    assert [str(m) for m in revoked.context["messages"]] == ["1 token revoked."]
    assert client.get("/api/v1/tickets/", **bearer(key)).status_code == 401


def test_a_merchant_user_cannot_hold_a_staff_token(admin_client):
    _merchant, user = shop()

    response = admin_client.post(url("integrations_staffapitoken_add"), {"user": user.pk, "name": "ERP"})

    assert response.status_code == 200
    assert "user" in response.context["adminform"].form.errors
    assert not ApiKey.objects.exists()


def test_each_admin_page_lists_its_own_kind_and_revokes_a_shops_token(admin_client, client, agent):
    _merchant, user = shop()
    shop_token, key = token_create(user=user, name="ERP")
    staff_token, _staff_key = staff_token_create(user=agent, name="order system")

    staff_page = admin_client.get(url("integrations_staffapitoken_changelist"))
    shop_page = admin_client.get(url("merchants_merchantapitoken_changelist"))

    assert [t.pk for t in staff_page.context["cl"].result_list] == [staff_token.pk]
    assert [t.pk for t in shop_page.context["cl"].result_list] == [shop_token.pk]
    assert list(StaffApiToken.objects.values_list("pk", flat=True)) == [staff_token.pk]
    assert list(MerchantApiToken.objects.values_list("pk", flat=True)) == [shop_token.pk]

    # A staff token's id sent to the merchants' page revokes nothing there.
    admin_client.post(
        url("merchants_merchantapitoken_changelist"),
        {"action": "revoke", "_selected_action": [staff_token.pk, shop_token.pk]},
    )

    assert {k.name: k.revoked_at is None for k in ApiKey.objects.all()} == {"ERP": False, "order system": True}
    assert client.get("/api/v1/merchant/complaints/", **bearer(key)).status_code == 401
