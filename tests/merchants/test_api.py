"""The merchant API with per-merchant tokens: the portal's rule, over HTTP."""

from datetime import timedelta

import pytest
import time_machine

from merchants.tokens import token_create
from tests.merchants.helpers import MON_10, complaint, forwarded, shop
from tickets import services
from tickets.models import Message, SLATarget

pytestmark = pytest.mark.django_db
API = "/api/v1/merchant"


@pytest.fixture
def setup(category, agent):
    merchant, user = shop()
    ticket = forwarded(category, merchant, agent)
    services.ticket_reply(ticket=ticket, author=agent, body="内部备注：不要告诉商家", public=False, now=MON_10)
    _token, key = token_create(user=user, name="ERP")
    return merchant, user, ticket, key


def bearer(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_list_retrieve_and_reply_with_a_token(client, setup):
    _merchant, user, ticket, key = setup
    listing = client.get(f"{API}/complaints/", **bearer(key))
    assert listing.status_code == 200
    [row] = listing.json()["results"]
    assert (row["id"], row["reference"], row["reply_state"]) == (ticket.pk, ticket.reference, "running")
    assert row["requester_phone"] == "138****5678"
    assert row["reply_due_at"] == "2026-11-24T10:00:00+08:00"  # 24 h after the forward, Shanghai time

    detail = client.get(f"{API}/complaints/{ticket.pk}/", **bearer(key)).json()
    bodies = [m["body"] for m in detail["messages"]]
    assert bodies == ["买的衣服尺码不对，联系商家两天没人回。"]
    assert "内部备注" not in str(detail)
    assert detail["platform_notes"][0]["note"] == "请 24 小时内答复"

    with time_machine.travel(MON_10 + timedelta(hours=2), tick=False):
        reply = client.post(
            f"{API}/complaints/{ticket.pk}/replies/", {"body": "已补发"}, content_type="application/json", **bearer(key)
        )
    assert reply.status_code == 201, reply.content
    assert reply.json()["author"] == "merchant"
    assert Message.objects.get(ticket=ticket, author_kind="merchant").author == user
    assert SLATarget.objects.get(ticket=ticket, kind="merchant_reply").status == "met"


def test_other_shops_and_unforwarded_complaints_answer_404(client, category, agent, setup):
    merchant, _user, _ticket, key = setup
    other_merchant, _ = shop(name="别家店", username="other")
    other = forwarded(category, other_merchant, agent)
    mine_not_forwarded = complaint(category, merchant)
    for pk in (other.pk, mine_not_forwarded.pk, 10**9):
        response = client.get(f"{API}/complaints/{pk}/", **bearer(key))
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        post = client.post(
            f"{API}/complaints/{pk}/replies/", {"body": "x"}, content_type="application/json", **bearer(key)
        )
        assert post.status_code == 404
    for ref in (other.reference, other.tracking_token):
        assert client.get(f"{API}/complaints/{ref}/", **bearer(key)).status_code == 404
    assert [r["id"] for r in client.get(f"{API}/complaints/", **bearer(key)).json()["results"]] == [_ticket.pk]
    assert not Message.objects.filter(author_kind="merchant").exists()


def test_bad_tokens_and_wrong_callers_are_refused(client, agent, setup):
    merchant, user, ticket, key = setup
    assert client.get(f"{API}/complaints/").status_code == 401
    assert client.get(f"{API}/complaints/", **bearer("csm_not-a-key")).status_code == 401
    assert client.get(f"{API}/complaints/", HTTP_AUTHORIZATION="Bearer").status_code == 401
    # Staff have their own API; here they are not a merchant.
    client.force_login(agent)
    assert client.get(f"{API}/complaints/").status_code == 403
    client.logout()
    # A merchant's token is no key to the staff API.
    assert client.get(f"/api/v1/tickets/{ticket.pk}/", **bearer(key)).status_code == 403
    # Revoked, or its user no longer with the shop: refused.
    merchant.api_keys.update(revoked_at=MON_10)
    assert client.get(f"{API}/complaints/", **bearer(key)).status_code == 401
    merchant.api_keys.update(revoked_at=None)
    user.merchant_link.delete()
    assert client.get(f"{API}/complaints/", **bearer(key)).status_code == 401


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "body"), ({"body": ""}, "body"), ({"body": "ok", "extra": 1}, "extra"), ({"body": ["a"]}, "body")],
)
def test_bad_reply_answers_400_naming_the_field(client, setup, payload, field):
    _merchant, _user, ticket, key = setup
    response = client.post(
        f"{API}/complaints/{ticket.pk}/replies/", payload, content_type="application/json", **bearer(key)
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Message.objects.filter(author_kind="merchant").exists()


def test_session_of_the_portal_works_too(client, setup):
    _merchant, user, ticket, _key = setup
    client.force_login(user)
    assert client.get(f"{API}/complaints/{ticket.pk}/").status_code == 200


def test_scorecard(client, setup):
    response = client.get(f"{API}/scorecard", **bearer(setup[3]))
    assert response.status_code == 200
    data = response.json()
    assert (data["score"], data["pending"], data["reply_rate"], data["window_days"]) == (100.0, 1, None, 30)
