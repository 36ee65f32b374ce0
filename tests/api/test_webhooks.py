"""Webhooks, received by a real HTTP receiver written here: it checks each
request's signature and timestamp the way the README tells integrators to."""

import base64
import importlib
import json
import logging
import shutil
import ssl
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.apps import apps
from django.utils import timezone

from integrations import tasks
from integrations.fanout import ticket_events_catch_up, ticket_events_fan_out
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.webhooks import WEBHOOK, signed_headers
from merchants.penalties import merchant_penalty_impose
from tests.api.conftest import MON_10, bearer
from tests.api.receiver import SECRET, Receiver, fake_dns
from tickets import services
from tickets.escalation import sla_sweep
from tickets.models import TicketEvent
from tickets.outbox import outbox_retry
from tickets.tasks import notifications_deliver_task, outbox_resweep_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(webhook_receiver):
    return webhook_receiver


def endpoint(url: str, *events: str, **extra) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(name="ERP", url=url, events=list(events), secret=SECRET, **extra)


def resweep():
    """What the beat's outbox re-sweep does for webhooks, run here, now: the
    deliveries of events whose fan-out did not run (no commit in these tests,
    so every delivery but those of ``django_capture_on_commit_callbacks`` is
    written here), then every delivery due."""
    return outbox_resweep_task()["webhook"]


NEW = {
    "category": "refund",
    "subject": "App 里投诉：优惠券用不了",
    "body": "下单时优惠券一直显示不可用。",
    "channel": "app",
    "requester_name": "赵女士",
    "requester_phone": "13700002222",
}


def test_a_delivery_is_signed_and_never_waits_for_the_receiver(
    client, world, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    endpoint(receiver.url, "ticket.created")
    queued = []  # the broker: holds the task until a worker takes it
    monkeypatch.setattr(tasks.webhooks_deliver_task, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/tickets/", json.dumps(NEW), content_type="application/json", **bearer(world.keys["agent"])
        )
    assert response.status_code == 201
    # The commit handed the delivery to Celery; the request itself called no receiver.
    delivery = WebhookDelivery.objects.get()
    assert queued == [[delivery.pk]]
    assert (delivery.status, delivery.attempts, receiver.received) == ("pending", 0, [])

    assert tasks.webhooks_deliver_task(queued[0]) == {"delivered": 1}  # what the worker runs
    [request] = receiver.received
    assert request["verdict"] == "ok"
    document = json.loads(request["body"])
    assert document["event"] == "ticket.created" and document["id"] == str(delivery.uuid)
    ticket = document["data"]["ticket"]
    assert (ticket["reference"], ticket["channel"], ticket["status"]) == (response.json()["reference"], "app", "new")
    assert "requester_phone" not in ticket and "13700002222" not in request["body"].decode()
    headers = request["headers"]
    assert (headers["x-cs-desk-event"], headers["webhook-id"]) == ("ticket.created", str(delivery.uuid))
    assert headers["webhook-signature"].startswith("v1,")
    # The legacy headers, still sent (WEBHOOK_LEGACY_SIGNATURE), and checked by the receiver the old way.
    assert headers["x-cs-desk-delivery"] == str(delivery.uuid)
    assert headers["x-cs-desk-timestamp"] == headers["webhook-timestamp"]
    assert headers["x-cs-desk-signature"].startswith("v1=")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code, delivery.attempts) == ("delivered", 200, 1)
    [attempt] = delivery.attempt_log.all()
    assert (attempt.number, attempt.status_code, attempt.error) == (1, 200, "")
    assert resweep() == {}  # delivered once, not again


def test_a_broker_outage_does_not_fail_the_request(
    client, world, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    endpoint(receiver.url, "ticket.created")
    tried = []

    def broker_down(ids):
        tried.append(ids)
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.webhooks_deliver_task, "delay", broker_down)
    headers = bearer(world.keys["agent"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/tickets/", json.dumps(NEW), content_type="application/json", **headers)
    assert response.status_code == 201 and len(tried) == 1  # the dispatch ran, failed, and was swallowed
    assert WebhookDelivery.objects.get().status == "pending"
    assert resweep() == {"delivered": 1}


def test_failures_are_retried_with_growing_gaps_then_given_up(
    world, receiver, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 4
    endpoint(receiver.url, "ticket.replied")
    receiver.statuses = [503] * 4
    monkeypatch.setattr(tasks.webhooks_deliver_task, "delay", lambda ids: None)  # the dispatch is lost
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):  # the reply commits: its event is fanned out
            services.ticket_reply(ticket=world.mine, author=world.agent, body="您好，已联系商家。")
        delivery = WebhookDelivery.objects.get()
        assert delivery.payload["by"] == "agent"
        gaps = []
        for attempt in (1, 2, 3):
            assert resweep() == {"pending": 1}, attempt
            delivery.refresh_from_db()
            gaps.append(delivery.next_attempt_at - timezone.now())
            clock.move_to(delivery.next_attempt_at - timedelta(seconds=1))
            assert resweep() == {}  # not due yet
            clock.move_to(delivery.next_attempt_at)
        assert resweep() == {"failed": 1}
        delivery.refresh_from_db()
    assert gaps == [timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 4, 503)
    assert [(a.number, a.status_code, a.error) for a in delivery.attempt_log.all()] == [
        (n, 503, "HTTP 503") for n in (1, 2, 3, 4)
    ]
    assert len(receiver.received) == 4 and {r["verdict"] for r in receiver.received} == {"ok"}
    # One id for every attempt of the delivery; each attempt signed at its own time.
    assert {r["headers"]["webhook-id"] for r in receiver.received} == {str(delivery.uuid)}
    sent_at = [int(r["headers"]["webhook-timestamp"]) for r in receiver.received]
    assert [t - sent_at[0] for t in sent_at] == [0, 30, 30 + 60, 30 + 60 + 120]
    assert resweep() == {}  # given up: never again by itself

    outbox_retry(channel=WEBHOOK, ids=[delivery.pk])  # an administrator sends it again
    assert resweep() == {"delivered": 1}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_log.count()) == ("delivered", 5)


def test_an_unreachable_receiver_is_logged_and_retried(world, receiver):
    receiver.server.shutdown()
    receiver.server.server_close()  # nothing listens there any more
    endpoint(receiver.url, "ticket.replied")
    services.ticket_reply(ticket=world.mine, author=world.agent, body="您好。")
    assert resweep() == {"pending": 1}
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_status_code is None and "Connection" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now()


def test_each_event_reaches_the_endpoints_subscribed_to_it(
    world, receiver, category, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks.webhooks_deliver_task, "delay", lambda ids: None)  # no broker here
    monkeypatch.setattr(notifications_deliver_task, "delay", lambda ids: None)
    every = endpoint(
        receiver.url,
        "ticket.created",
        "ticket.replied",
        "ticket.escalated",
        "ticket.breached",
        "ticket.resolved",
        "merchant.penalized",
    )
    only_resolved = endpoint(receiver.url, "ticket.resolved")
    endpoint(receiver.url, "ticket.created", is_active=False)

    # The changes commit, and their events are fanned out to the endpoints.
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.ticket_create(
            category=category,
            subject="一直没人理",
            body="……",
            requester_name="钱",
            requester_phone="13600003333",
            now=MON_10,
        )
        services.ticket_merchant_reply(ticket=world.mine, author=world.merchant_user, body="已退款", now=MON_10)
        sla_sweep(now=MON_10 + timedelta(days=30))  # far past every deadline: breach, then level 2
        services.ticket_change_status(ticket=ticket, status="resolved", actor=world.agent)
        merchant_penalty_impose(merchant=world.merchant, kind="warning", reason="多次超时", actor=world.manager)

    mine = list(WebhookDelivery.objects.filter(endpoint=every).order_by("id"))
    events = [(d.event, d.payload.get("ticket", {}).get("reference")) for d in mine]
    assert ("ticket.created", ticket.reference) in events
    assert ("ticket.breached", ticket.reference) in events
    escalations = [d.payload for d in mine if d.event == "ticket.escalated" and d.payload["ticket"]["id"] == ticket.pk]
    assert {(p["level"], p["reason"]) for p in escalations} >= {(1, "sla_breach"), (2, "sla_level2")}
    replied = next(d.payload for d in mine if d.event == "ticket.replied")
    assert (replied["by"], replied["ticket"]["reference"]) == ("merchant", world.mine.reference)
    assert ("ticket.resolved", ticket.reference) in events
    penalized = next(d.payload for d in mine if d.event == "merchant.penalized")
    assert penalized["merchant"]["shop_id"] == "SHOP00042" and penalized["penalty"]["kind"] == "warning"
    assert [d.event for d in WebhookDelivery.objects.filter(endpoint=only_resolved)] == ["ticket.resolved"]
    assert WebhookDelivery.objects.filter(endpoint__is_active=False).count() == 0

    with time_machine.travel(MON_10 + timedelta(days=30, minutes=1)):  # the sweep's deliveries are due then
        delivered = resweep()
    assert delivered == {"delivered": len(mine) + 1}
    assert {r["verdict"] for r in receiver.received} == {"ok"}


# --- Where deliveries go -------------------------------------------------------------


def test_a_loopback_destination_is_refused_without_a_connection_unless_allowed(world, receiver, settings, caplog):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    endpoint(receiver.url, "ticket.replied")
    start = timezone.now()
    refused = "refused: 127.0.0.1 is a loopback address (WEBHOOK_ALLOW_PRIVATE_ADDRESSES is off)"
    with time_machine.travel(start, tick=False) as clock:
        services.ticket_reply(ticket=world.mine, author=world.agent, body="您好，已联系商家。")

        with caplog.at_level(logging.WARNING, logger="integrations.webhooks"):
            assert resweep() == {"pending": 1}

        # Nothing reached the receiver, not even a connection; the attempt counts, with the reason.
        assert (receiver.received, receiver.connections) == ([], 0)
        delivery = WebhookDelivery.objects.get()
        [attempt] = delivery.attempt_log.all()
        assert (attempt.number, attempt.status_code, attempt.error) == (1, None, refused)
        assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, refused)
        assert delivery.next_attempt_at == start + timedelta(seconds=30)  # retried like any failure
        assert refused in caplog.text

        # A receiver on this host, allowed by the setting: the retry is delivered and verifies.
        settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
        clock.move_to(delivery.next_attempt_at)
        assert resweep() == {"delivered": 1}
    [request] = receiver.received
    assert request["verdict"] == "ok"
    assert [(a.number, a.status_code) for a in delivery.attempt_log.all()] == [(1, None), (2, 200)]


def test_a_name_is_resolved_once_and_checked_and_the_host_header_kept(world, receiver, settings, monkeypatch):
    looked_up = fake_dns(
        monkeypatch, {"hooks.example.test": ["127.0.0.1"], "mixed.example.test": ["93.184.215.14", "127.0.0.1"]}
    )
    endpoint(f"http://hooks.example.test:{receiver.port}/hooks/cs-desk?shop=42", "ticket.replied")
    endpoint(f"http://mixed.example.test:{receiver.port}/hooks/cs-desk", "ticket.replied")
    services.ticket_reply(ticket=world.mine, author=world.agent, body="您好。")
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False

    assert resweep() == {"pending": 2}

    # One public and one loopback address is one too many: refused before any connection.
    assert (receiver.received, receiver.connections) == ([], 0)
    errors = dict(WebhookDelivery.objects.values_list("endpoint__url", "last_error"))
    assert errors == {
        f"http://hooks.example.test:{receiver.port}/hooks/cs-desk?shop=42": "refused: hooks.example.test resolves to "
        "127.0.0.1, a loopback address (WEBHOOK_ALLOW_PRIVATE_ADDRESSES is off)",
        f"http://mixed.example.test:{receiver.port}/hooks/cs-desk": "refused: mixed.example.test resolves to "
        "127.0.0.1, a loopback address (WEBHOOK_ALLOW_PRIVATE_ADDRESSES is off)",
    }

    # Allowed: one lookup per attempt (the connection goes to the address it gave, never a second
    # lookup a rebinding DNS server could answer differently), and the Host header names the URL's host.
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    looked_up.clear()
    WebhookDelivery.objects.filter(endpoint__url__contains="mixed").update(status="failed")
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert resweep() == {"delivered": 1}
    assert looked_up == ["hooks.example.test"]
    [request] = receiver.received
    assert request["verdict"] == "ok"
    assert (request["headers"]["host"], request["path"]) == (
        f"hooks.example.test:{receiver.port}",
        "/hooks/cs-desk?shop=42",
    )


def test_a_redirect_is_never_followed(world, receiver):
    with Receiver() as elsewhere:  # another port on this host, where the redirect points
        receiver.redirect_to = elsewhere.url
        endpoint(receiver.url, "ticket.replied")
        services.ticket_reply(ticket=world.mine, author=world.agent, body="您好。")

        assert resweep() == {"pending": 1}

        delivery = WebhookDelivery.objects.get()
        assert (delivery.last_status_code, delivery.last_error) == (302, "HTTP 302")
        assert len(receiver.received) == 1
        assert (elsewhere.received, elsewhere.connections) == ([], 0)


def _certificates(directory: Path, name: str) -> tuple[Path, Path, Path]:
    """A test CA, and a certificate (and key) it signed for the DNS name ``name`` only."""
    ca_key, ca, key, csr, cert = (directory / f for f in ("ca.key", "ca.pem", "leaf.key", "leaf.csr", "leaf.pem"))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    extensions = directory / "leaf.ext"
    extensions.write_text(
        f"subjectAltName=DNS:{name}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
        "extendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n"
    )
    for command in (
        ["req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=cs_desk test CA"],
        ["req", *ec, "-keyout", key, "-out", csr, "-subj", f"/CN={name}"],
        ["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert, "-days", "2",
         "-extfile", extensions],
    ):  # fmt: skip
        subprocess.run(["openssl", *map(str, command)], check=True, capture_output=True)
    return ca, cert, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_https_goes_to_the_checked_address_with_sni_and_certificate_of_the_name(world, settings, monkeypatch, tmp_path):
    ca, cert, key = _certificates(tmp_path, "hooks.example.test")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # the system's trust store, as far as this test knows
    fake_dns(monkeypatch, {"hooks.example.test": ["127.0.0.1"], "other.example.test": ["127.0.0.1"]})
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    with Receiver(tls=tls) as secure:
        right = endpoint(f"https://hooks.example.test:{secure.port}/hooks", "ticket.replied")
        wrong = endpoint(f"https://other.example.test:{secure.port}/hooks", "ticket.replied")
        services.ticket_reply(ticket=world.mine, author=world.agent, body="您好。")

        assert resweep() == {"delivered": 1, "pending": 1}

        # The name went in SNI and the certificate was checked against it, though the socket
        # went to 127.0.0.1; a certificate for another name is refused.
        [request] = secure.received
        assert request["verdict"] == "ok" and request["headers"]["host"] == f"hooks.example.test:{secure.port}"
        assert sorted(secure.server_names) == ["hooks.example.test", "other.example.test"]
    assert WebhookDelivery.objects.get(endpoint=right).status == "delivered"
    failed = WebhookDelivery.objects.get(endpoint=wrong)
    assert failed.last_status_code is None
    assert failed.last_error.startswith("SSLCertVerificationError") and "other.example.test" in failed.last_error


# --- Signatures ----------------------------------------------------------------------


def test_a_captured_request_cannot_be_replayed_under_another_id_body_or_time(world, receiver):
    endpoint(receiver.url, "ticket.replied")
    services.ticket_reply(ticket=world.mine, author=world.agent, body="您好。")
    assert resweep() == {"delivered": 1}
    [request] = receiver.received
    headers, body = request["headers"], request["body"]
    assert receiver.verify(headers, body) == "ok"

    # The id is signed: the same request under a fresh id (so that the receiver's
    # duplicate check lets it through) fails.
    fresh_id = str(uuid.uuid4())
    assert receiver.verify(headers | {"webhook-id": fresh_id}, body) == "bad signature"
    # So is the body, and the timestamp: neither can be changed.
    tampered = body.replace(b'"by":"agent"', b'"by":"merchant"')
    assert tampered != body and receiver.verify(headers, tampered) == "bad signature"
    later = str(int(headers["webhook-timestamp"]) + 60)
    assert receiver.verify(headers | {"webhook-timestamp": later}, body) == "bad signature"
    # And the request itself is refused once it is more than five minutes old.
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert receiver.verify(headers, body) == "too old"
    # Even one properly signed, if its timestamp is old (as if captured from an earlier attempt).
    old = int(headers["webhook-timestamp"]) - 6 * 60
    resigned = signed_headers(delivery_id=headers["webhook-id"], secret=SECRET, timestamp=old, body=body)
    assert receiver.verify(headers | {k.lower(): v for k, v in resigned.items()}, body) == "too old"


def test_the_legacy_headers_stop_when_switched_off(world, receiver, settings):
    settings.WEBHOOK_LEGACY_SIGNATURE = False
    endpoint(receiver.url, "ticket.replied")
    services.ticket_reply(ticket=world.mine, author=world.agent, body="您好。")

    assert resweep() == {"delivered": 1}

    [request] = receiver.received
    assert request["verdict"] == "ok"
    assert {"webhook-id", "webhook-timestamp", "webhook-signature", "x-cs-desk-event"} <= set(request["headers"])
    assert not {"x-cs-desk-delivery", "x-cs-desk-timestamp", "x-cs-desk-signature"} & set(request["headers"])


def test_a_new_endpoint_gets_a_standard_secret_a_receiver_uses_as_shown(world, settings):
    settings.WEBHOOK_LEGACY_SIGNATURE = False  # a new integrator checks webhook-signature only
    new = WebhookEndpoint(name="ERP", url="https://erp.example.cn/hooks", events=["ticket.replied"])
    prefix, encoded = new.secret[:6], new.secret[6:]  # the default secret
    assert prefix == "whsec_" and len(base64.b64decode(encoded, validate=True)) == 32
    assert len({WebhookEndpoint().secret for _ in range(3)}) == 3  # random

    with Receiver(secret=new.secret) as integrator:  # the string the admin shows, as it is
        new.url = integrator.url
        new.save()
        services.ticket_reply(ticket=world.mine, author=world.agent, body="您好。")
        assert resweep() == {"delivered": 1}
    assert [r["verdict"] for r in integrator.received] == ["ok"]


def test_migrated_secrets_keep_their_key_for_old_receivers_and_serve_new_ones_as_shown(world, receiver):
    """An endpoint from before Standard Webhooks: migration 0002 stores its secret
    as whsec_ and the base64 of the old text. A receiver still checking
    X-CS-Desk-Signature with the old text keeps working; one that moved to the
    standardwebhooks package uses the text the admin shows now."""
    old_text = "whsec_Zq3-old_url-safe_secret-from-2025_x9"  # what _secret() made before, or what was typed
    old = WebhookEndpoint.objects.create(name="ERP", url=receiver.url, events=["ticket.replied"], secret=old_text)
    migration = importlib.import_module("integrations.migrations.0002_webhook_secret_standard_webhooks")

    migration.encode(apps, None)

    old.refresh_from_db()
    assert old.secret == "whsec_" + base64.b64encode(old_text.encode()).decode()
    receiver.secret, receiver.legacy_secret = old.secret, old_text
    services.ticket_reply(ticket=world.mine, author=world.agent, body="您好。")
    assert resweep() == {"delivered": 1}
    [request] = receiver.received
    assert request["verdict"] == "ok"  # both: webhook-signature with the new text, the legacy one with the old
    assert receiver.verify_legacy(request["headers"], request["body"]) == "ok"

    migration.decode(apps, None)  # reversed: the old text again
    old.refresh_from_db()
    assert old.secret == old_text


def test_a_secret_not_in_the_standard_form_fails_the_attempt_with_the_reason(world, receiver):
    WebhookEndpoint.objects.filter(pk=endpoint(receiver.url, "ticket.replied").pk).update(secret="not-whsec")
    services.ticket_reply(ticket=world.mine, author=world.agent, body="您好。")

    assert resweep() == {"pending": 1}

    assert (receiver.received, receiver.connections) == ([], 0)
    assert WebhookDelivery.objects.get().last_error == "Cannot sign: the signing secret does not start with whsec_."


# --- Fed from the ticket events ------------------------------------------------------


def test_an_event_becomes_one_delivery_per_endpoint_however_often_it_is_fanned_out(world, receiver):
    both = endpoint(receiver.url, "ticket.breached", "ticket.escalated")
    escalated = endpoint(receiver.url, "ticket.escalated")
    sla_sweep(now=MON_10 + timedelta(days=30))  # world.mine's merchant misses, the others breach
    breach = TicketEvent.objects.filter(kind="sla_breach").order_by("pk").first()

    ticket_events_fan_out([breach.pk])  # after the commit
    ticket_events_fan_out([breach.pk])  # a second time (a retried callback)
    with time_machine.travel(MON_10 + timedelta(days=30, minutes=1), tick=False):
        ticket_events_catch_up(now=timezone.now())  # and the catch-up over the same events

    # The breach stands for two webhook events: breached and escalated (level 1), once each.
    mine = WebhookDelivery.objects.filter(ticket_event=breach)
    assert sorted(mine.values_list("endpoint_id", "event")) == [
        (both.pk, "ticket.breached"),
        (both.pk, "ticket.escalated"),
        (escalated.pk, "ticket.escalated"),
    ]
    payload = mine.get(endpoint=escalated).payload
    assert (payload["level"], payload["reason"], payload["ticket"]["id"]) == (1, "sla_breach", breach.ticket_id)


def test_the_catch_up_writes_what_a_lost_fan_out_missed_once_and_its_cursor_settles(world, receiver, settings):
    settings.WEBHOOK_CATCH_UP_SETTLE_S = 300
    hook = endpoint(receiver.url, "ticket.replied")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        # The reply commits, and its process dies before the fan-out (no on-commit here).
        services.ticket_reply(ticket=world.mine, author=world.agent, body="您好。")
        reply = TicketEvent.objects.get(ticket=world.mine, kind="public_reply")

        assert ticket_events_catch_up(now=timezone.now()) == 1
        assert ticket_events_catch_up(now=timezone.now()) == 0  # written already
        [delivery] = WebhookDelivery.objects.all()
        assert (delivery.ticket_event_id, delivery.endpoint_id, delivery.event) == (reply.pk, hook.pk, "ticket.replied")
        # The events from before the endpoint (the world's, at MON_10) are not for it; the cursor
        # stays below the reply until its mark is 5 minutes old (lower ids might still commit).
        hook.refresh_from_db()
        newest = TicketEvent.objects.order_by("pk").last().pk
        assert (hook.caught_up_to < reply.pk, hook.catch_up_mark, hook.catch_up_mark_at) == (True, newest, start)

        clock.shift(timedelta(seconds=300))
        ticket_events_catch_up(now=timezone.now())
        hook.refresh_from_db()
        assert (hook.caught_up_to, hook.catch_up_mark) == (newest, None)
        assert WebhookDelivery.objects.count() == 1


def test_a_deactivated_endpoint_is_not_caught_up_when_turned_on_again(world, receiver, settings):
    settings.WEBHOOK_CATCH_UP_SETTLE_S = 300
    hook = endpoint(receiver.url, "ticket.replied", is_active=False)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        services.ticket_reply(ticket=world.mine, author=world.agent, body="您好。")
        ticket_events_catch_up(now=timezone.now())
        clock.shift(timedelta(seconds=300))
        ticket_events_catch_up(now=timezone.now())
        WebhookEndpoint.objects.filter(pk=hook.pk).update(is_active=True)
        ticket_events_catch_up(now=timezone.now())
    assert WebhookDelivery.objects.count() == 0
