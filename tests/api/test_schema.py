"""The OpenAPI schema as a client generator reads it (cs_desk.api.schema), and
the server doing what it says: English whatever the caller's language, one
description per operation, integer ids, typed instants, named choice sets,
request bodies that refuse what they do not declare, the CSRF header of the
session, error headers, and a download a generator can take as bytes."""

import json
import re

import pytest
import yaml
from django.test import Client
from django.utils.crypto import get_random_string

from tests.api.conftest import bearer, png
from tickets.models import Message

pytestmark = pytest.mark.django_db
REF = "#/components/schemas/"


@pytest.fixture
def schema(client) -> dict:
    return yaml.safe_load(client.get("/api/schema/").content)


def operations(schema):
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def component(schema, ref: str) -> dict:
    return schema["components"]["schemas"][ref.removeprefix(REF)]


def test_the_schema_is_english_whatever_the_callers_language(client, category):
    chinese = client.get("/api/schema/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    english = client.get("/api/schema/", HTTP_ACCEPT_LANGUAGE="en")
    default = client.get("/api/schema/")
    assert chinese.content == english.content == default.content
    text = chinese.content.decode()
    assert not re.search(r"[\u4e00-\u9fff]", text)  # not one Chinese character
    assert "* `chat_left` - Chat, left as a message" in text
    assert "Where the page starts: the next_cursor" in text
    # The API's answers still speak the caller's language (Chinese by default).
    assert [c["name"] for c in client.get("/api/v1/categories").json() if c["code"] == "refund"] == ["退款"]
    english = client.get("/api/v1/categories", HTTP_ACCEPT_LANGUAGE="en").json()
    assert [c["name"] for c in english if c["code"] == "refund"] == ["Refund"]


def test_every_operation_has_a_description_of_its_own(schema):
    described = {}
    for path, method, op in operations(schema):
        assert op.get("description", "").strip(), (path, method)
        described.setdefault(op["description"], []).append(op["operationId"])
    assert {text[:60]: ids for text, ids in described.items() if len(ids) > 1} == {}


def test_ids_in_paths_are_integers(schema):
    ids = {
        (path, p["name"]): p["schema"]
        for path, _method, op in operations(schema)
        for p in op.get("parameters", [])
        if p["in"] == "path" and (p["name"] == "id" or p["name"].endswith("_id")) and p["name"] != "shop_id"
    }
    assert ("/api/v1/tickets/{id}/attachments/{attachment_id}/download/", "attachment_id") in ids
    assert {json.dumps(s) for s in ids.values()} == {'{"type": "integer"}'}


def test_every_instant_returned_is_typed_as_one(schema):
    """Any property named like an instant (…_at, …_due, at) is a date-time, so a
    generated client parses it into a datetime."""
    instants = {
        (name, prop): spec
        for name, c in schema["components"]["schemas"].items()
        for prop, spec in c.get("properties", {}).items()
        if re.fullmatch(r"at|.*_at|.*_due", prop)
    }
    assert ("SLAPreview", "first_response_due") in instants and ("PlatformNote", "at") in instants
    assert {key for key, spec in instants.items() if spec.get("format") != "date-time"} == set()


def test_fixed_sets_are_named_enums(schema):
    schemas = schema["components"]["schemas"]

    def enum_of(name, prop):
        spec = schemas[name]["properties"][prop]
        return (spec.get("allOf") or [spec])[0]["$ref"].removeprefix(REF)

    assert enum_of("Complaint", "reply_state") == "TargetStatusEnum"
    assert enum_of("Scorecard", "status") == "MerchantStatusEnum"
    assert enum_of("SLAReport", "group_by") == "GroupByEnum"
    assert enum_of("OverdueTicket", "priority") == enum_of("SLAPreview", "priority") == "PriorityEnum"
    assert enum_of("SLAPreview", "channel") == "ChannelEnum"
    assert enum_of("PublicMessage", "author") == "PublicAuthorEnum"
    assert schemas["GroupByEnum"]["enum"] == ["priority", "category", "team", "agent", "merchant", "channel"]
    # The ticket list's filters take the same sets the tickets carry.
    listing = schema["paths"]["/api/v1/tickets/"]["get"]
    params = {p["name"]: p["schema"] for p in listing["parameters"]}
    assert params["status"] == {"$ref": f"{REF}TicketStatusEnum"}
    assert params["priority"] == {"$ref": f"{REF}PriorityEnum"}
    assert params["channel"] == {"$ref": f"{REF}ChannelEnum"}
    assert params["category"] == params["team"] == {"type": "string"}


def test_request_bodies_declare_that_they_refuse_extra_properties(schema):
    bodies = {
        (path, method, media): component(schema, spec["schema"]["$ref"])
        for path, method, op in operations(schema)
        for media, spec in op.get("requestBody", {}).get("content", {}).items()
    }
    assert len(bodies) == 9
    assert {key for key, body in bodies.items() if body.get("additionalProperties") is not False} == set()
    reply = schema["paths"]["/api/v1/tickets/{id}/messages/"]["post"]["requestBody"]["content"]
    as_json = component(schema, reply["application/json"]["schema"]["$ref"])
    as_form = component(schema, reply["multipart/form-data"]["schema"]["$ref"])
    assert set(as_json["properties"]) == {"body", "internal"}
    assert set(as_form["properties"]) == {"body", "internal", "files"}
    assert as_form["properties"]["files"]["items"] == {"type": "string", "format": "binary"}


def test_the_server_refuses_the_extra_properties_the_schema_refuses(client, world):
    url, key = f"/api/v1/tickets/{world.mine.pk}/messages", world.keys["agent"]
    # Files never come as JSON: the JSON body has no such property.
    as_json = client.post(url, json.dumps({"body": "x", "files": []}), content_type="application/json", **bearer(key))
    assert as_json.status_code == 400 and as_json.json()["errors"]["files"][0]["code"] == "unknown_field"
    as_form = client.post(url, {"body": "x", "files": [png()], "priority": "urgent"}, **bearer(key))
    assert as_form.status_code == 400 and as_form.json()["errors"]["priority"][0]["code"] == "unknown_field"
    assert not Message.objects.filter(ticket=world.mine, body="x").exists()


def test_errors_document_the_headers_they_carry(schema):
    for path, method, op in operations(schema):
        responses = op["responses"]
        assert responses["429"]["headers"]["Retry-After"]["required"] is True, (path, method)
        if "401" in responses:
            assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True, (path, method)


def test_the_session_needs_its_csrf_token_to_change_anything(schema, world):
    for path, method, op in operations(schema):
        if {"cookieAuth": []} not in op["security"] and {"cookieAuth": [], "csrfToken": []} not in op["security"]:
            continue  # the consumer's token endpoints: no session at all
        header = [p for p in op.get("parameters", []) if p["in"] == "header"]
        if method in ("get", "head"):
            assert {"cookieAuth": []} in op["security"] and header == [], (path, method)
        else:
            assert {"cookieAuth": [], "csrfToken": []} in op["security"], (path, method)
            assert [(p["name"], p.get("required", False)) for p in header] == [("X-CSRFToken", False)], (path, method)
    assert schema["components"]["securitySchemes"]["csrfToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRFToken",
        "description": "With the session cookie, on every POST and PATCH: the value of the csrftoken cookie "
        "(else 403). Not needed with a Bearer token.",
    }

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.agent)
    browser.cookies["csrftoken"] = token = get_random_string(32)
    url, note = f"/api/v1/tickets/{world.mine.pk}/messages", json.dumps({"body": "会话里写的备注", "internal": True})
    refused = browser.post(url, note, content_type="application/json")
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert browser.post(url, note, content_type="application/json", HTTP_X_CSRFTOKEN=token).status_code == 201
    assert browser.get(url).status_code == 200  # reading needs no token


def test_a_download_is_the_file_in_its_type_or_bytes_on_request(schema, client, world):
    download = schema["paths"]["/api/v1/tickets/{id}/attachments/{attachment_id}/download/"]["get"]
    assert list(download["responses"]["200"]["content"]) == [
        "application/octet-stream", "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf",
    ]  # fmt: skip
    attachment, key = world.mine.attachments.get(), world.keys["agent"]
    url = f"/api/v1/tickets/{world.mine.pk}/attachments/{attachment.pk}/download"
    as_is = client.get(url, **bearer(key))
    assert (as_is["Content-Type"], as_is["Content-Disposition"]) == ("image/png", 'inline; filename="receipt.png"')
    as_png = client.get(url, HTTP_ACCEPT="image/png", **bearer(key))
    assert as_png.status_code == 200 and as_png["Content-Type"] == "image/png"
    as_bytes = client.get(url, HTTP_ACCEPT="application/octet-stream", **bearer(key))
    assert (as_bytes["Content-Type"], as_bytes["Content-Disposition"]) == (
        "application/octet-stream",
        'attachment; filename="receipt.png"',
    )
    assert b"".join(as_bytes.streaming_content) == b"".join(as_is.streaming_content)
    # An error is JSON whatever Accept asked for.
    missing = client.get(
        url.replace(str(attachment.pk), "99999999"), HTTP_ACCEPT="application/octet-stream", **bearer(key)
    )
    assert (missing.status_code, missing["Content-Type"], missing.json()["code"]) == (
        404,
        "application/json",
        "not_found",
    )
