"""Webhooks, received by a real HTTP receiver written here: it checks each
request's signature and timestamp the way the README tells integrators to."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from integrations import tasks
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.webhooks import webhook_redeliver
from merchants.penalties import merchant_penalty_impose
from tests.api.conftest import MON_10, bearer
from tests.api.receiver import SECRET
from tickets import services
from tickets.escalation import sla_sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(webhook_receiver):
    return webhook_receiver


def endpoint(url: str, *events: str, **extra) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(name="ERP", url=url, events=list(events), secret=SECRET, **extra)


def resweep():
    """What the beat's webhooks-resweep does, run here, now."""
    return tasks.webhooks_resweep_task()


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
    assert (headers["x-cs-desk-event"], headers["x-cs-desk-delivery"]) == ("ticket.created", str(delivery.uuid))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code, delivery.attempts) == ("delivered", 200, 1)
    [attempt] = delivery.attempt_log.all()
    assert (attempt.number, attempt.status_code, attempt.error) == (1, 200, "")
    assert resweep() == {}  # delivered once, not again

    # The signature covers the timestamp: a replayed request cannot be passed off as new.
    replayed = dict(headers, **{"x-cs-desk-timestamp": str(int(headers["x-cs-desk-timestamp"]) + 60)})
    assert receiver.verify(replayed, request["body"]) == "bad signature"
    assert receiver.verify(headers, request["body"] + b" ") == "bad signature"
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert receiver.verify(headers, request["body"]) == "too old"


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


def test_failures_are_retried_with_growing_gaps_then_given_up(world, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 4
    endpoint(receiver.url, "ticket.replied")
    receiver.statuses = [503] * 4
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
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
    assert resweep() == {}  # given up: never again by itself

    webhook_redeliver(delivery=delivery)  # an administrator sends it again
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


def test_each_event_reaches_the_endpoints_subscribed_to_it(world, receiver, category):
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
