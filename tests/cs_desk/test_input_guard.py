"""Text PostgreSQL cannot store, from the outside. A NUL character (U+0000) or a
lone surrogate (U+D800–U+DFFF) in the path or the query is a 400 on every page
before any view runs (the API's error body under /api/, a page elsewhere); in a
form it is an error on the field, with the rest of what the person typed kept
and nothing stored.

Over HTTP a lone surrogate cannot reach a view: Django decodes an invalid UTF-8
sequence (``%ED%A0%80``) in the query or a form body as replacement characters
(U+FFFD), and leaves it percent-encoded in the path. The guard still checks for
one, for any server that would hand one over."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import LocalePrefixPattern, RoutePattern
from django.utils import timezone, translation
from django.utils.regex_helper import normalize

from cs_desk.middleware import InputGuardMiddleware
from feedback.models import Feedback
from feedback.services import feedback_submit
from merchants.models import MerchantApiToken, MerchantRiskSignal
from merchants.tokens import token_create
from tests.factories import UserFactory
from tests.merchants.helpers import forwarded, shop
from tickets import services
from tickets.models import Message, SLATarget, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

CANNOT_STORE = "The text holds characters that cannot be stored (NUL, lone surrogates)."


# --- Every URL pattern ------------------------------------------------------------------


@dataclass
class Route:
    """One URL pattern of the site: its name, a %-format of its path (without the
    leading slash) and its parameters, and whether it sits under the language prefix."""

    name: str
    path_format: str
    params: list[str]
    localised: bool


def _piece(pattern) -> tuple[str, list[str]]:
    """A pattern's piece of the path as a %-format string and its parameters."""
    if isinstance(pattern, LocalePrefixPattern):
        return "", []  # the prefix is added per language
    if isinstance(pattern, RoutePattern):
        route = str(pattern).replace("%", "%%")
        return re.sub(r"<(?:\w+:)?(\w+)>", r"%(\1)s", route), list(pattern.converters)
    path_format, params = normalize(pattern.regex.pattern)[0]
    return path_format, list(params)


def routes(patterns=None, prefix: str = "", params=(), namespaces=(), localised: bool = False) -> list[Route]:
    found = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        piece, names = _piece(pattern.pattern)
        here_localised = localised or isinstance(pattern.pattern, LocalePrefixPattern)
        if isinstance(pattern, URLResolver):
            inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            found += routes(pattern.url_patterns, prefix + piece, (*params, *names), inner, here_localised)
        elif isinstance(pattern, URLPattern):
            name = ":".join((*namespaces, pattern.name or "-"))
            found.append(Route(name, prefix + piece, [*params, *names], here_localised))
    return found


@dataclass
class World:
    superuser: object
    ticket: Ticket
    merchant: object
    merchant_user: object
    feedback: Feedback


@pytest.fixture
def world(category, agent) -> World:
    superuser = UserFactory(username="root", is_superuser=True)
    merchant, merchant_user = shop()
    ticket = forwarded(category, merchant, agent)
    feedback = feedback_submit(topic="other", body="页面很好用。", contact="", language="zh-hans")
    return World(superuser, ticket, merchant, merchant_user, feedback)


def _admin_object_id(route_name: str) -> str:
    """The first object of the model an admin URL is about (admin:tickets_ticket_change)."""
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        if route_name.startswith(prefix):
            first = model._default_manager.order_by("pk").first()
            return str(first.pk) if first else "1"
    return "1"


def fill(route: Route, world: World) -> dict:
    """Real objects' values for a route's parameters, so the page is really reached."""
    pk = {
        "merchant_reports:detail": world.merchant.pk,
        "merchant_reports:recompute": world.merchant.pk,
        "feedback_reports:mark": world.feedback.pk,
        "api:feedback-detail": world.feedback.pk,
    }.get(route.name, world.ticket.pk)
    values = {
        "pk": pk,
        "token": world.ticket.tracking_token,
        "attachment_id": 1,
        "shop_id": world.merchant.shop_id,
        "object_id": _admin_object_id(route.name),
        "content_type_id": ContentType.objects.get_for_model(Ticket).pk,
        "merchant_id": world.merchant.pk,
        "document_id": 1,
        "app_label": "tickets",
        "id": world.superuser.pk,
        "url": "no-such-page/",
    }
    if route.name == "admin:view_on_site":
        values["object_id"] = world.ticket.pk
    return {name: str(values[name]) for name in route.params}


def urls(route: Route, world: World) -> list[tuple[str, str | None]]:
    """The route's path in each language (/ and /en/), and its path with a NUL
    after its first parameter (None when it has none)."""
    values = fill(route, world)
    broken = {**values, route.params[0]: values[route.params[0]] + "%00"} if route.params else None
    found = []
    for prefix in ("/", "/en/") if route.localised else ("/",):
        found.append((prefix + route.path_format % values, broken and prefix + route.path_format % broken))
    return found


@pytest.mark.slow  # requests every page of the site
@pytest.mark.parametrize("who", ["anonymous", "superuser"])
def test_a_nul_in_the_path_or_the_query_is_a_400_on_every_page(client, world, who):
    client.raise_request_exception = False  # a 500 is counted, not raised: every page is tried
    if who == "superuser":
        client.force_login(world.superuser)
    all_routes = routes()
    names = {r.name for r in all_routes}
    # The walk reaches every part of the site.
    assert {"healthz", "api:ticket-list", "merchant_api:complaint-list", "admin:tickets_ticket_changelist"} <= names
    assert {"desk:ticket", "merchant:complaint", "complaints:tracking", "feedback:new", "reports:sla"} <= names
    problems, reached = [], {}
    for route in all_routes:
        for url, broken in urls(route, world):
            status = client.get(url).status_code
            reached[(route.name, url)] = status
            if status == 500:
                problems.append(f"{url} (no NUL): 500")
            for query in ("?q=a%00", "?a%00=1"):
                response = client.get(url + query)
                if response.status_code != 400:
                    problems.append(f"{url}{query}: {response.status_code}")
                elif url.startswith("/api/"):
                    body = response.json()
                    if body["code"] != "invalid_characters" or body["field"] != ("q" if "q=" in query else "a\x00"):
                        problems.append(f"{url}{query}: {body}")
                elif "complaints/bad_request.html" not in [t.name for t in response.templates]:
                    problems.append(f"{url}{query}: not the page that names the parameter")
            if broken is not None:
                status = client.get(broken).status_code
                if status not in (400, 404):
                    problems.append(f"{broken}: {status}")
    assert problems == []
    # The values filled in are real: the signed-in superuser reaches these pages.
    if who == "superuser":
        for name, url in [
            ("desk:ticket", f"/desk/tickets/{world.ticket.pk}/"),
            ("complaints:tracking", f"/en/t/{world.ticket.tracking_token}/"),
            ("admin:tickets_ticket_change", f"/admin/tickets/ticket/{world.ticket.pk}/change/"),
            ("api:ticket-detail", f"/api/v1/tickets/{world.ticket.pk}"),
            ("api:merchant-detail", f"/api/v1/merchants/{world.merchant.shop_id}"),
            ("merchant_reports:detail", f"/reports/merchants/{world.merchant.pk}/"),
        ]:
            assert reached[(name, url)] == 200, url


# --- The pages of the penetration test ------------------------------------------------------


def page(response) -> str:
    return response.content.decode()


def test_shop_search_with_a_nul_in_q_is_a_400_page_naming_it(client):
    response = client.get("/en/complaints/shops/?q=a%00")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "The parameter “q” holds a character that cannot be stored." in page(response)
    assert '<html lang="en">' in page(response)
    chinese = client.get("/complaints/shops/?q=a%00")
    assert chinese.status_code == 400 and '<html lang="zh-hans">' in page(chinese)


def test_complaint_form_with_a_nul_in_follows_is_a_400(client):
    response = client.get("/en/complaints/new/?follows=a%00")
    assert response.status_code == 400
    assert "“follows”" in page(response)


def test_a_nul_in_a_parameter_name_is_named_as_typed(client):
    response = client.get("/en/complaints/new/?fol%00lows=1")
    assert response.status_code == 400
    assert "“fol%00lows”" in page(response)
    assert "\x00" not in page(response)
    # A parameter called "path" is a parameter, not the address.
    named_path = page(client.get("/en/complaints/new/?path=%00"))
    assert "“path”" in named_path and "The page's address" not in named_path


def test_tracking_page_with_a_nul_in_the_token_is_a_400(client, world):
    response = client.get(f"/en/t/{world.ticket.tracking_token}%00/")
    assert response.status_code == 400
    assert "The page's address holds a character that cannot be stored." in page(response)
    assert client.get(f"/t/{world.ticket.tracking_token}%00/submitted/").status_code == 400


def test_api_keeps_its_error_body(client):
    response = client.get("/api/v1/categories?q=a%00&b=%00&ok=1")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_characters" and body["field"] == "q"
    assert set(body["errors"]) == {"q", "b"}
    assert body["errors"]["b"][0]["code"] == "invalid_characters"
    path = client.get("/api/v1/track/abc%00def").json()
    assert path["field"] == "path" and set(path["errors"]) == {"path"}


def test_admin_changelist_search_with_a_nul_is_a_400(client, world):
    client.force_login(world.superuser)
    before = client.get("/admin/tickets/ticket/?q=%E9%80%80")
    assert before.status_code == 200
    response = client.get("/en/admin/tickets/ticket/?q=%00")
    assert response.status_code == 400
    assert "“q”" in page(response)


@pytest.fixture
def desk(client, agent):
    client.force_login(agent)
    return client


def test_desk_reply_with_a_nul_keeps_the_draft_and_stores_nothing(desk, world):
    ticket = world.ticket
    messages = Message.objects.count()
    events = TicketEvent.objects.count()
    response = desk.post(f"/en/desk/tickets/{ticket.pk}/reply/", {"body": "已核实\x00退款", "kind": "note"})
    assert response.status_code == 400
    assert [str(m) for m in response.context["messages"]] == [f"Reply: {CANNOT_STORE}"]
    assert response.context["draft"] == "已核实\x00退款" and response.context["draft_kind"] == "note"
    html = page(response)
    assert "已核实" in html and "退款" in html
    assert '<input type="radio" name="kind" value="note" checked>' in html
    assert (Message.objects.count(), TicketEvent.objects.count()) == (messages, events)


def test_desk_reply_with_a_seen_id_that_is_no_number_is_refused(desk, world):
    """``"²".isdigit()`` is true, but ``int("²")`` fails."""
    response = desk.post(f"/desk/tickets/{world.ticket.pk}/reply/", {"body": "您好", "seen": "²"})
    assert response.status_code == 400
    assert not world.ticket.messages.filter(body="您好").exists()


def test_desk_merge_with_a_nul_is_a_message_and_merges_nothing(desk, world, category):
    duplicate = services.ticket_create(
        category=category, subject="重复", body="同一个问题。", requester_name="李娜", requester_phone="13812345678"
    )
    for data in ({"source": f"{duplicate.reference}\x00"}, {"source": f"{duplicate.reference}\x00", "confirm": "1"}):
        response = desk.post(f"/en/desk/tickets/{world.ticket.pk}/merge/", data, follow=True)
        assert response.redirect_chain == [(f"/en/desk/tickets/{world.ticket.pk}/", 302)]
        assert response.status_code == 200
        assert [str(m) for m in response.context["messages"]] == [f"Merge a duplicate into this ticket: {CANNOT_STORE}"]
    duplicate.refresh_from_db()
    assert duplicate.merged_into is None and duplicate.status == "new"
    assert not TicketEvent.objects.filter(kind__in=["merged", "merged_in"]).exists()


def test_desk_forward_with_a_nul_in_the_note_forwards_nothing(desk, category):
    merchant, _user = shop(name="另一家店", username="other-shop")
    ticket = services.ticket_create(
        category=category,
        subject="未发货",
        body="下单一周还没发货。",
        requester_name="王芳",
        requester_phone="13812345678",
        merchant=merchant,
    )
    response = desk.post(f"/en/desk/tickets/{ticket.pk}/forward/", {"note": "请\x00处理"}, follow=True)
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [f"Note to the merchant: {CANNOT_STORE}"]
    ticket.refresh_from_db()
    assert ticket.status == "new"
    assert not ticket.targets.filter(kind=SLATarget.Kind.MERCHANT_REPLY).exists()


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("assign", {"assignee": "²"}, "Assignee: Choose a member of the ticket's team."),
        ("status", {"status": "open\x00"}, f"Status: {CANNOT_STORE}"),
        ("priority", {"priority": "urgent\x00"}, f"Priority: {CANNOT_STORE}"),
    ],
)
def test_desk_side_panel_refuses_what_it_cannot_store(desk, world, action, data, message):
    ticket = Ticket.objects.get(pk=world.ticket.pk)
    before = (ticket.assignee_id, ticket.status, ticket.priority)
    response = desk.post(f"/en/desk/tickets/{ticket.pk}/{action}/", data, follow=True)
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [message]
    ticket.refresh_from_db()
    assert (ticket.assignee_id, ticket.status, ticket.priority) == before


def test_desk_bulk_refuses_what_it_cannot_store(desk, world):
    ticket = world.ticket
    response = desk.post(
        "/en/desk/bulk/", {"ticket": [ticket.pk], "action": "priority", "priority": "urgent\x00"}, follow=True
    )
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [f"Priority: {CANNOT_STORE}"]
    odd = desk.post("/en/desk/bulk/", {"ticket": ["²", ticket.pk], "action": "assign", "assign": "²"}, follow=True)
    assert odd.status_code == 200
    assert [str(m) for m in odd.context["messages"]] == ["Choose whom to assign the tickets to."]
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.assignee_id) == ("normal", None)


def test_desk_phone_call_with_a_nul_keeps_the_rest(desk, category):
    before = Ticket.objects.count()
    response = desk.post(
        "/en/desk/phone/",
        {
            "requester_name": "张伟",
            "requester_phone": "13812345678",
            "category": category.pk,
            "description": "快递\x00丢了，商家不理。",
            "order_number": "202611230042",
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["description"] == [CANNOT_STORE]
    html = page(response)
    assert 'value="张伟"' in html and 'value="13812345678"' in html and 'value="202611230042"' in html
    assert Ticket.objects.count() == before


def test_desk_profile_with_a_nul_in_the_alias(desk, agent):
    response = desk.post("/en/desk/profile/", {"alias": "小\x00王", "language": "zh-hans", "time_zone": "Asia/Tokyo"})
    assert response.status_code == 400
    assert response.context["form"].errors["alias"] == [CANNOT_STORE]
    assert 'value="Asia/Tokyo"' in page(response)
    assert not hasattr(agent, "staff_profile") or agent.staff_profile.alias != "小\x00王"


@pytest.fixture
def portal(client, world):
    client.force_login(world.merchant_user)
    return client


def test_merchant_reply_with_a_nul_keeps_the_draft_and_stores_nothing(portal, world):
    messages = Message.objects.count()
    response = portal.post(f"/en/merchant/complaints/{world.ticket.pk}/", {"body": "已补发\x00新的尺码"})
    assert response.status_code == 400
    html = page(response)
    assert "Your reply to the consumer" in html
    assert f'<p class="error" role="alert">{CANNOT_STORE}</p>' in html
    assert "已补发" in html and "新的尺码" in html
    assert Message.objects.count() == messages
    target = world.ticket.targets.get(kind=SLATarget.Kind.MERCHANT_REPLY)
    assert target.status == SLATarget.Status.RUNNING


def test_merchant_token_name_with_a_nul_keeps_the_name_and_makes_no_token(portal, world):
    response = portal.post("/en/merchant/tokens/", {"name": "我们的\x00ERP"})
    assert response.status_code == 400
    html = page(response)
    assert "New token&#x27;s name" in html or "New token's name" in html
    assert f'<p class="error" role="alert">{CANNOT_STORE}</p>' in html
    assert 'value="我们的' in html and 'ERP"' in html
    assert not MerchantApiToken.objects.exists()


def test_merchant_token_revoke_of_no_number_revokes_nothing(portal, world):
    """``"²".isdigit()`` is true, but ``int("²")`` fails."""
    token, _key = token_create(user=world.merchant_user, name="ERP")
    response = portal.post("/en/merchant/tokens/", {"revoke": "²"})
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is None


def test_risk_review_with_a_nul_in_the_note_changes_nothing(client, world):
    now = timezone.now()
    signal = MerchantRiskSignal.objects.create(
        kind=MerchantRiskSignal.Kind.SHARED_CONTACT, key="13812345678", detected_at=now, last_seen_at=now
    )
    client.force_login(world.superuser)
    response = client.post(
        f"/en/reports/merchants/risk/{signal.pk}/review/",
        {"verdict": "dismissed", "note": "已核实\x00", "status": "open", "kind": ""},
        follow=True,
    )
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [f"Note: {CANNOT_STORE}"]
    signal.refresh_from_db()
    assert (signal.status, signal.review_note) == ("open", "")


def test_feedback_with_a_nul_keeps_the_rest_and_stores_nothing(client):
    before = Feedback.objects.count()
    response = client.post(
        "/en/feedback/", {"topic": "other", "body": "建议\x00增加夜间客服。", "contact": "13812345678"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["body"] == [CANNOT_STORE]
    assert 'value="13812345678"' in page(response)
    assert Feedback.objects.count() == before


def test_marking_feedback_with_a_nul_in_next_marks_nothing(client, world):
    client.force_login(world.superuser)
    response = client.post(
        f"/en/reports/feedback/{world.feedback.pk}/mark/", {"handled": "1", "next": "/en/reports/feedback/\x00"}
    )
    assert response.status_code == 302 and response["Location"] == "/en/reports/feedback/"
    world.feedback.refresh_from_db()
    assert world.feedback.handled_at is None


def test_complaint_form_body_with_a_nul_in_follows_is_a_field_error(client, category):
    before = Ticket.objects.count()
    response = client.post(
        "/en/complaints/new/",
        {
            "follows": "a\x00",
            "requester_name": "张伟",
            "requester_phone": "13812345678",
            "category": category.pk,
            "description": "快递丢了，商家不理。",
        },
    )
    assert response.status_code == 400
    assert 'value="张伟"' in page(response)
    assert "The text holds characters that cannot be stored (NUL, lone surrogates)." in page(response)
    assert Ticket.objects.count() == before


# --- Lone surrogates --------------------------------------------------------------------


def test_a_lone_surrogate_in_the_query_arrives_as_replacement_characters(client, world):
    """%ED%A0%80 is U+D800 encoded as if it were a character; Django decodes the
    invalid UTF-8 as three U+FFFD, which PostgreSQL stores and searches fine."""
    response = client.get("/complaints/shops/?q=%ED%A0%80")
    assert response.status_code == 200 and response.json() == {"results": []}
    api = client.get("/api/v1/categories?q=%ED%A0%80")
    assert api.status_code == 200
    # In the path it stays percent-encoded: a token that opens nothing.
    assert client.get(f"/t/{world.ticket.tracking_token}%ED%A0%80/").status_code == 404
    # And in a form body, replacement characters too: the reply is stored as such.
    signed_in = Client()
    signed_in.force_login(world.merchant_user)
    sent = signed_in.post(
        f"/merchant/complaints/{world.ticket.pk}/",
        "body=%E5%B7%B2%ED%A0%80",
        content_type="application/x-www-form-urlencoded",
    )
    assert sent.status_code == 302
    assert world.ticket.messages.filter(body="已\ufffd\ufffd\ufffd").exists()


@pytest.mark.parametrize("where", ["path", "name", "value"])
def test_a_lone_surrogate_handed_over_by_a_server_is_refused(where):
    """No HTTP request can carry one to a view (above); a server that decoded the
    URL differently could, and the guard refuses it like a NUL."""
    request = RequestFactory().get("/en/complaints/shops/")
    if where == "path":
        request.path = request.path_info = "/en/complaints/shops/\ud800/"
    request.GET = request.GET.copy()
    request.GET.update({"q\ud800": "1"} if where == "name" else {"q": "a\ud800"} if where == "value" else {})
    request.LANGUAGE_CODE = "en"

    def view(request):
        raise AssertionError("the view must not run")

    with translation.override("en"):
        response = InputGuardMiddleware(view)(request)
    assert response.status_code == 400
    html = response.content.decode()
    if where == "path":
        assert "The page's address holds a character that cannot be stored." in html
    else:
        assert ("“q\\ud800”" if where == "name" else "“q”") in html


def test_a_lone_surrogate_in_an_api_path_is_the_api_body():
    request = RequestFactory().get("/api/v1/track/abc")
    request.path = request.path_info = "/api/v1/track/abc\udc80"
    response = InputGuardMiddleware(lambda request: None)(request)
    body = json.loads(response.content)
    assert response.status_code == 400
    assert (body["code"], body["field"], list(body["errors"])) == ("invalid_characters", "path", ["path"])
