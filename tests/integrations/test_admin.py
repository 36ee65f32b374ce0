"""The webhook endpoint form in the admin, driven through the test client as a
superuser: internal destinations and secrets receivers could not use are
refused with a field error; the delivery-time check stays the guard."""

import base64

import pytest
from django.urls import reverse
from django.utils import translation

from integrations.models import WebhookEndpoint
from tests.api.receiver import fake_dns

pytestmark = pytest.mark.django_db

KEY_24 = "whsec_" + base64.b64encode(b"twenty-four bytes of key").decode()


def url(name: str, *args) -> str:
    with translation.override("en"):  # our own messages in English, whatever the catalogue says
        return reverse(f"admin:{name}", args=args)


def endpoint_post(address: str, **extra) -> dict:
    return {"name": "ERP", "url": address, "events": ["ticket.created"], "is_active": "on", "secret": KEY_24} | extra


def test_the_cloud_metadata_address_is_refused_with_a_field_error(admin_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False

    response = admin_client.post(
        url("integrations_webhookendpoint_add"), endpoint_post("http://169.254.169.254/latest/meta-data/")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "url": ["Webhooks are sent only to public addresses; 169.254.169.254 is a link-local address."]
    }
    assert not WebhookEndpoint.objects.exists()


def test_a_name_that_resolves_only_inside_is_refused_and_one_that_does_not_resolve_is_saved(
    admin_client, settings, monkeypatch
):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    fake_dns(monkeypatch, {"intranet.example.test": ["10.0.0.5"], "later.example.test": []})

    inside = admin_client.post(url("integrations_webhookendpoint_add"), endpoint_post("https://intranet.example.test/"))
    later = admin_client.post(url("integrations_webhookendpoint_add"), endpoint_post("https://later.example.test/"))

    assert inside.context["adminform"].form.errors == {
        "url": [
            "Webhooks are sent only to public addresses; intranet.example.test resolves to 10.0.0.5, a private address."
        ]
    }
    assert later.status_code == 302  # no DNS answer yet is no reason to refuse; the delivery checks again
    assert list(WebhookEndpoint.objects.values_list("url", flat=True)) == ["https://later.example.test/"]


def test_the_setting_allows_a_receiver_on_this_network(admin_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True

    response = admin_client.post(url("integrations_webhookendpoint_add"), endpoint_post("http://10.0.0.5:8080/hooks"))

    assert response.status_code == 302
    assert WebhookEndpoint.objects.get().url == "http://10.0.0.5:8080/hooks"


def test_the_refusal_renders_in_the_chinese_admin(admin_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    with translation.override("zh-hans"):
        add = reverse("admin:integrations_webhookendpoint_add")

    response = admin_client.post(add, endpoint_post("http://127.0.0.1:6379/"))

    [error] = response.context["adminform"].form.errors["url"]
    assert "127.0.0.1" in error  # the Chinese text once the catalogue has it, the English one until then


@pytest.mark.parametrize(
    "secret",
    [
        "whsec_test-secret",  # not base64
        "whsec_" + base64.b64encode(b"only twenty-three bytes").decode(),  # too short a key
        "whsec_" + base64.b64encode(bytes(65)).decode(),  # too long a key
        base64.b64encode(bytes(32)).decode(),  # no whsec_
    ],
)
def test_a_typed_secret_must_be_a_standard_webhooks_secret(admin_client, secret):
    response = admin_client.post(
        url("integrations_webhookendpoint_add"), endpoint_post("https://hooks.example.cn/", secret=secret)
    )

    assert response.context["adminform"].form.errors == {
        "secret": ["Give whsec_ followed by the base64 of 24 to 64 random bytes, or keep the secret generated for you."]
    }


def test_a_standard_secret_is_saved_and_an_old_one_kept_when_unchanged(admin_client):
    typed = admin_client.post(url("integrations_webhookendpoint_add"), endpoint_post("https://hooks.example.cn/"))
    migrated = "whsec_" + base64.b64encode(b"whsec_test-secret").decode()  # a short secret from before, migrated
    old = WebhookEndpoint.objects.create(name="Old", url="https://old.example.cn/", events=["ticket.created"])
    WebhookEndpoint.objects.filter(pk=old.pk).update(secret=migrated)

    edited = admin_client.post(
        url("integrations_webhookendpoint_change", old.pk),
        endpoint_post("https://old.example.cn/", name="Old", secret=migrated, events=["ticket.resolved"]),
    )

    assert (typed.status_code, edited.status_code) == (302, 302)
    assert WebhookEndpoint.objects.get(name="ERP").secret == KEY_24
    old.refresh_from_db()
    assert (old.secret, old.events) == (migrated, ["ticket.resolved"])
