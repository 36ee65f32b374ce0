"""A merchant's penalty reaches the webhooks through accounts.events, inside
the transaction that imposes it: the penalty and its deliveries are written
together, once, or not at all."""

import pytest

import integrations.webhooks
from integrations.models import WebhookDelivery, WebhookEndpoint
from merchants.models import MerchantPenalty
from merchants.penalties import merchant_penalty_impose
from tests.merchants.helpers import shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoints():
    told = WebhookEndpoint.objects.create(name="ERP", url="https://erp.example.cn/hooks", events=["merchant.penalized"])
    WebhookEndpoint.objects.create(name="CRM", url="https://crm.example.cn/hooks", events=["ticket.created"])
    return told


def test_an_imposed_penalty_writes_one_delivery_per_subscribed_endpoint(endpoints, admin_user):
    merchant, _user = shop(shop_id="SHOP00042")

    penalty = merchant_penalty_impose(merchant=merchant, kind="warning", reason="虚假发货", actor=admin_user)

    [delivery] = WebhookDelivery.objects.all()
    assert (delivery.endpoint, delivery.event) == (endpoints, "merchant.penalized")
    assert delivery.payload["merchant"] == {"id": merchant.pk, "shop_id": "SHOP00042", "name": merchant.name}
    assert (delivery.payload["penalty"]["id"], delivery.payload["penalty"]["reason"]) == (penalty.pk, "虚假发货")


def test_when_the_deliveries_cannot_be_written_the_penalty_is_not_imposed(endpoints, admin_user, monkeypatch):
    merchant, _user = shop()

    def broken(events, *, at):
        raise RuntimeError("the database refused the deliveries")

    monkeypatch.setattr(integrations.webhooks, "webhooks_emit", broken)
    with pytest.raises(RuntimeError):
        merchant_penalty_impose(merchant=merchant, kind="warning", reason="虚假发货", actor=admin_user)

    assert not MerchantPenalty.objects.exists() and not WebhookDelivery.objects.exists()
    merchant.refresh_from_db()
    assert merchant.status == "active"
