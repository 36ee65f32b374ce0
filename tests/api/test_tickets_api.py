"""The staff ticket API from the outside: who may see and change what, how bad
input is refused, files, and a cursor that holds while tickets are added."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from tests.api.conftest import MON_10, WANG, bearer, png
from tests.builders import ticket_filed
from tickets.models import Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db
API = "/api/v1/tickets"


def post(client, url, data, key=None, **extra):
    headers = bearer(key) if key else {}
    return client.post(url, json.dumps(data), content_type="application/json", **headers, **extra)


def patch(client, url, data, key=None):
    headers = bearer(key) if key else {}
    return client.patch(url, json.dumps(data), content_type="application/json", **headers)


NEW_TICKET = {
    "category": "refund",
    "subject": "聊天里投诉：退款没到账",
    "body": "客户在在线客服里说退货 5 天了还没退款。",
    "channel": "chat",
    "requester_name": "李先生",
    "requester_phone": "13900001111",
    "order_number": "A-7788",
    "merchant": "shop00042",
}


# --- Who may see what ----------------------------------------------------------------


def test_anonymous_callers_and_bad_tokens_get_401(client, world):
    for response in (
        client.get(f"{API}/"),
        client.get(f"{API}/{world.mine.pk}/"),
        post(client, f"{API}/", NEW_TICKET),
        client.get(f"{API}/", **bearer("css_not-a-real-key")),
        # A consumer's tracking token is not an API key: it opens /api/v1/track/{token} only.
        client.get(f"{API}/{world.mine.pk}/", **bearer(world.mine.tracking_token)),
    ):
        assert response.status_code == 401
        assert response.json()["code"] in ("not_authenticated", "invalid_token")
        assert response["WWW-Authenticate"] == "Bearer"


def test_merchants_are_refused_whether_or_not_the_ticket_exists(client, world):
    key = world.keys["merchant"]
    assert client.get(f"{API}/", **bearer(key)).status_code == 403
    mine, missing = client.get(f"{API}/{world.mine.pk}/", **bearer(key)), client.get(f"{API}/99999999/", **bearer(key))
    assert mine.status_code == missing.status_code == 403
    assert mine.json() == missing.json()
    assert post(client, f"{API}/", NEW_TICKET, world.keys["merchant"]).status_code == 403


def test_an_agent_of_another_team_cannot_tell_a_ticket_exists(client, world):
    key = world.keys["other_agent"]
    listed = {row["reference"] for row in client.get(f"{API}/", **bearer(key)).json()["results"]}
    assert listed == {world.theirs.reference}
    missing_id = 99999999
    for suffix in ("/", "/messages", "/attachments", f"/attachments/{world.mine.attachments.get().pk}/download"):
        theirs = client.get(f"{API}/{world.mine.pk}{suffix}", **bearer(key))
        missing = client.get(f"{API}/{missing_id}{suffix}", **bearer(key))
        assert theirs.status_code == missing.status_code == 404, suffix
        assert theirs.json() == missing.json() == {"code": "not_found", "message": theirs.json()["message"]}
    assert patch(client, f"{API}/{world.mine.pk}/", {"priority": "urgent"}, key).status_code == 404
    assert post(client, f"{API}/{world.mine.pk}/messages", {"body": "x"}, key).status_code == 404
    world.mine.refresh_from_db()
    assert world.mine.priority == "normal"


def test_the_list_has_the_queue_filters_and_a_token_or_a_session(client, world):
    key = world.keys["agent"]
    open_now = client.get(f"{API}/", **bearer(key)).json()["results"]
    assert [row["reference"] for row in open_now] == [world.mine.reference]  # open ones: not the resolved one
    assert open_now[0]["requester"] == "138****5678"  # masked in lists
    resolved = client.get(f"{API}/?status=resolved", **bearer(key)).json()["results"]
    assert [row["reference"] for row in resolved] == [world.resolved.reference]
    assert client.get(f"{API}/?q=20269001", **bearer(key)).json()["results"][0]["order_number"] == "20269001"
    client.force_login(world.agent)
    assert client.get(f"{API}/?merchant=SHOP00042").json()["results"][0]["merchant"] == "SHOP00042"


def test_bad_filters_are_400_naming_the_parameter(client, world):
    key = world.keys["agent"]
    for query, name in (
        ("status=lost", "status"),
        ("overdue=maybe", "overdue"),
        ("priority=", "priority"),
        ("category=abc", "category"),
        ("page_size=0", "page_size"),
        ("page_size=500", "page_size"),
    ):
        response = client.get(f"{API}/?{query}", **bearer(key))
        assert response.status_code == 400, query
        assert response.json()["code"] == "invalid"
        assert list(response.json()["errors"]) == [name], query
    assert client.get(f"{API}/?cursor=garbage", **bearer(key)).json()["code"] == "not_found"


def test_category_and_team_filters_take_what_the_tickets_show(client, world):
    key = world.keys["manager"]  # sees every team
    shown = {
        row["reference"]: (row["category"], row["team"])
        for row in client.get(f"{API}/", **bearer(key)).json()["results"]
    }
    assert shown == {world.mine.reference: ("refund", "Orders"), world.theirs.reference: ("exchange", "Returns")}
    by_category = client.get(f"{API}/?category=exchange", **bearer(key)).json()["results"]
    by_team = client.get(f"{API}/?team=Orders", **bearer(key)).json()["results"]
    assert [r["reference"] for r in by_category] == [world.theirs.reference]
    assert [r["reference"] for r in by_team] == [world.mine.reference]
    # Ids, which no endpoint shows, are not taken; nor is a team the agent is not in.
    for query, name, who in (
        (f"category={world.exchange.pk}", "category", "manager"),
        (f"team={world.orders.pk}", "team", "manager"),
        ("team=Returns", "team", "agent"),
    ):
        response = client.get(f"{API}/?{query}", **bearer(world.keys[who]))
        assert (response.status_code, list(response.json()["errors"])) == (400, [name]), query


def test_the_detail_shows_the_contact_and_the_targets(client, world):
    detail = client.get(f"{API}/{world.mine.pk}/", **bearer(world.keys["agent"])).json()
    assert (detail["requester_phone"], detail["requester_email"]) == ("+8613812345678", "wang@example.cn")
    kinds = {(t["kind"], t["status"]) for t in detail["targets"]}
    assert ("merchant_reply", "running") in kinds and ("first_response", "running") in kinds


# --- Filing from another channel ---------------------------------------------------------


def test_an_agent_files_a_chat_complaint(client, world):
    response = post(client, f"{API}/", NEW_TICKET, world.keys["agent"])
    assert response.status_code == 201, response.json()
    body = response.json()
    ticket = Ticket.objects.get(pk=body["id"])
    assert (ticket.channel, ticket.merchant, ticket.team) == ("chat", world.merchant, world.orders)
    assert body["reference"] == ticket.reference and body["status"] == "new"
    assert {t["kind"] for t in body["targets"]} == {"first_response", "resolution"}
    created = ticket.events.get(kind=TicketEvent.Kind.CREATED)
    assert created.actor == world.agent and created.data["channel"] == "chat"
    assert Message.objects.get(ticket=ticket).body == NEW_TICKET["body"]


def test_managers_read_but_do_not_change(client, world):
    key = world.keys["manager"]
    assert client.get(f"{API}/{world.theirs.pk}/", **bearer(key)).status_code == 200
    refused = post(client, f"{API}/", NEW_TICKET, key)
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert patch(client, f"{API}/{world.theirs.pk}/", {"status": "pending"}, key).status_code == 403


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"priorty": "urgent"}, "priorty", "unknown_field"),
        ({"reference": "CS-1"}, "reference", "unknown_field"),
        ({"subject": 5}, "subject", "invalid_type"),
        ({"category": "no-such"}, "category", "does_not_exist"),
        ({"channel": "web"}, "channel", "invalid_choice"),
        ({"requester_email": "not-an-email"}, "requester_email", "invalid"),
        ({"merchant": "NOPE"}, "merchant", "does_not_exist"),
        ({"subject": None}, "subject", "null"),
        ({"subject": ""}, "subject", "blank"),
    ],
)
def test_filing_refuses_bad_input_naming_the_field(client, world, change, field, code):
    before = Ticket.objects.count()
    response = post(client, f"{API}/", {**NEW_TICKET, **change}, world.keys["agent"])
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and body["message"]
    assert [p["code"] for p in body["errors"][field]] == [code]
    assert Ticket.objects.count() == before


def test_missing_fields_domain_rules_and_broken_json(client, world):
    key = world.keys["agent"]
    missing = post(client, f"{API}/", {"channel": "app"}, key).json()
    assert {"category", "subject", "body", "requester_name"} <= set(missing["errors"])
    assert missing["errors"]["subject"][0]["code"] == "required"
    no_contact = {**NEW_TICKET, "requester_phone": ""}
    refused = post(client, f"{API}/", no_contact, key).json()
    assert refused["code"] == "contact_required"
    broken = client.post(f"{API}/", "{not json", content_type="application/json", **bearer(key))
    assert broken.status_code == 400 and broken.json()["code"] == "parse_error"
    as_list = post(client, f"{API}/", [NEW_TICKET], key)
    assert as_list.status_code == 400 and "non_field_errors" in as_list.json()["errors"]
    # Text PostgreSQL cannot store is refused, not a 500 (found by the conformance run).
    nul = post(client, f"{API}/", {**NEW_TICKET, "category": "re\u0000fund"}, key).json()
    assert nul["errors"]["category"][0]["code"] == "invalid_characters"
    surrogate = client.post(
        f"{API}/",
        json.dumps(NEW_TICKET, ensure_ascii=False).replace("李先生", "\\udac7"),
        content_type="application/json",
        **bearer(key),
    )
    assert surrogate.json()["errors"]["requester_name"][0]["code"] == "invalid_characters"
    assert client.get(f"{API}/?q=%00", **bearer(key)).json()["code"] == "invalid_characters"
    assert client.get("/api/v1/track/abc%00def").status_code == 400
    unknown_path = client.get("/api/v1/no-such-thing", **bearer(key))
    assert unknown_path.status_code == 404 and unknown_path.json()["code"] == "not_found"


# --- Changing a ticket -----------------------------------------------------------------


def test_status_priority_and_assignee_change_through_the_services(client, world):
    url, key = f"{API}/{world.mine.pk}/", world.keys["agent"]
    response = patch(client, url, {"priority": "urgent", "assignee": "agent", "status": "open"}, key)
    assert response.status_code == 200, response.json()
    assert (response.json()["priority"], response.json()["assignee"], response.json()["status"]) == (
        "urgent",
        "agent",
        "open",
    )
    kinds = set(world.mine.events.values_list("kind", flat=True))
    assert {"priority_changed", "assigned", "status_changed"} <= kinds
    assert patch(client, url, {"assignee": None}, key).json()["assignee"] is None


def test_a_change_is_all_or_nothing(client, world):
    url, key = f"{API}/{world.resolved.pk}/", world.keys["agent"]
    assert patch(client, url, {"status": "closed"}, key).status_code == 200
    refused = patch(client, url, {"priority": "urgent", "status": "open"}, key)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_transition"
    world.resolved.refresh_from_db()
    assert (world.resolved.priority, world.resolved.status) == ("normal", "closed")


def test_update_validation(client, world):
    url, key = f"{API}/{world.mine.pk}/", world.keys["agent"]
    for change, field, code in (
        ({}, "non_field_errors", "empty"),
        ({"status": "lost"}, "status", "invalid_choice"),
        ({"assignee": "returns-agent"}, "assignee", "invalid"),
        ({"priority": 3}, "priority", "invalid_type"),
        ({"team": 1}, "team", "unknown_field"),
    ):
        response = patch(client, url, change, key)
        assert response.status_code == 400, change
        assert response.json()["errors"][field][0]["code"] == code, change
    assert client.put(url, "{}", content_type="application/json", **bearer(key)).status_code == 405


# --- Messages and files ---------------------------------------------------------------


def test_a_reply_meets_the_first_response_and_a_note_stays_internal(client, world):
    url, key = f"{API}/{world.mine.pk}/messages", world.keys["agent"]
    reply = post(client, url, {"body": "您好，已催促商家。"}, key)
    assert reply.status_code == 201
    assert (reply.json()["author"], reply.json()["internal"]) == ("agent", False)
    note = post(client, url, {"body": "商家上次也拖了", "internal": True}, key)
    assert note.json()["internal"] is True
    world.mine.refresh_from_db()
    assert world.mine.first_responded_at is not None
    conversation = client.get(url, **bearer(key)).json()["results"]
    assert [m["body"] for m in conversation][-2:] == ["您好，已催促商家。", "商家上次也拖了"]
    public = client.get(f"/api/v1/track/{world.mine.tracking_token}").json()["messages"]
    assert "商家上次也拖了" not in [m["body"] for m in public]
    assert post(client, url, {"body": "  "}, key).json()["errors"]["body"][0]["code"] == "blank"


def test_files_come_with_a_message_and_are_served_to_the_team_only(client, world):
    url, key = f"{API}/{world.mine.pk}/messages", world.keys["agent"]
    sent = client.post(
        url, {"body": "客户在聊天里发来的截图", "internal": "true", "files": [png("chat.png")]}, **bearer(key)
    )
    assert sent.status_code == 201, sent.json()
    [attachment] = sent.json()["attachments"]
    assert (attachment["original_name"], attachment["content_type"]) == ("chat.png", "image/png")
    files = client.get(f"{API}/{world.mine.pk}/attachments", **bearer(key)).json()["results"]
    assert [f["original_name"] for f in files] == ["receipt.png", "chat.png"]
    download = client.get(attachment["download_url"], **bearer(key))
    assert download.status_code == 200 and download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content).startswith(b"\x89PNG")
    assert client.get(attachment["download_url"], **bearer(world.keys["other_agent"])).status_code == 404

    text = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    fake = client.post(url, {"body": "x", "files": [text]}, **bearer(key))
    assert fake.status_code == 400 and "files.0" in fake.json()["errors"]


# --- Paging ----------------------------------------------------------------------------


def test_the_cursor_neither_skips_nor_repeats_while_tickets_are_added(client, world):
    key = world.keys["agent"]
    earlier = [ticket_filed(world.refund, at=MON_10, **(WANG | {"subject": f"早先的投诉 {n}"})) for n in range(5)]
    # Newest first: the five just filed, last one first, then the world's open ticket (the resolved one is not open).
    expected = [t.reference for t in reversed(earlier)] + [world.mine.reference]

    seen = []
    page = client.get(f"{API}/?page_size=2", **bearer(key)).json()
    seen += [row["reference"] for row in page["results"]]
    for n in range(3):  # newer tickets arrive while the client pages
        ticket_filed(world.refund, **(WANG | {"subject": f"新来的投诉 {n}"}))
    while page["next"]:
        page = client.get(page["next"], **bearer(key)).json()
        seen += [row["reference"] for row in page["results"]]
    assert seen == expected


# --- Throttling -------------------------------------------------------------------------


def test_callers_are_throttled_per_user_and_per_address(client, world, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api_user": (3, 60), "api_anon": (2, 60)}
    key = world.keys["agent"]
    assert [client.get(f"{API}/", **bearer(key)).status_code for _ in range(3)] == [200] * 3
    throttled = client.get(f"{API}/", **bearer(key))
    assert throttled.status_code == 429 and throttled.json()["code"] == "throttled"
    assert int(throttled["Retry-After"]) >= 1
    # Another user has their own allowance; anonymous callers theirs, per address.
    assert client.get(f"{API}/", **bearer(world.keys["manager"])).status_code == 200
    assert [client.get("/api/v1/categories").status_code for _ in range(3)] == [200, 200, 429]


@override_settings(LANGUAGE_CODE="zh-hans")
def test_categories_are_public_and_speak_the_callers_language(client, world):
    zh = client.get("/api/v1/categories").json()
    en = client.get("/api/v1/categories", HTTP_ACCEPT_LANGUAGE="en").json()
    assert {c["code"]: c["name"] for c in zh}["refund"] == "退款"
    assert {c["code"]: c["name"] for c in en}["refund"] == "Refund"
    assert {c["code"]: c["team"] for c in en}["exchange"] == "Returns"
    assert all(c["promise"] for c in en)
