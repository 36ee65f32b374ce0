"""Appeals are decided in one place, the admin, by whoever may change merchant
penalties: open ones listed first; "Uphold the penalty" keeps it, "Revoke the
penalty" (with its reason) revokes it through the penalty service, points and
all; the merchant is told in Chinese either way, and an appeal is decided once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cs_desk.exceptions import ApplicationError
from merchants.appeals import penalty_appeal_decide, penalty_appeal_file
from merchants.penalties import merchant_penalty_impose
from tests.factories import UserFactory
from tests.merchants.helpers import MON_10, shop
from tests.tickets.admin_pages import url
from tickets.models import Notification

pytestmark = pytest.mark.django_db

CASE = "这两单都在 24 小时内电话联系了消费者，只是没有在平台上回复，请撤销扣分。"
UPHOLD = {"_decision": "upheld", "note": "平台记录显示两单均未在 24 小时内答复。"}
REVOKE = {"_decision": "revoked", "note": "已核实电话记录，商家已及时联系消费者。"}


def allowed(username: str, *codenames: str):
    user = UserFactory(username=username)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="merchants", codename__in=codenames))
    return user


@pytest.fixture
def root():
    return UserFactory(username="root", is_superuser=True)


@pytest.fixture
def appealed(root):
    """快乐小店: a 5-point deduction imposed on Monday 23 November 2026 at 10:00, appealed at 11:00.
    Nothing forwarded to the shop, so its score is 100 − 5 = 95."""
    merchant, user = shop(name="快乐小店")
    penalty = merchant_penalty_impose(
        merchant=merchant, kind="point_deduction", points=5, reason="多次未按时答复", actor=root, now=MON_10
    )
    appeal = penalty_appeal_file(
        penalty=penalty, body=CASE, source="portal", filed_by=user, now=MON_10 + timedelta(hours=1)
    )
    merchant.refresh_from_db()
    assert merchant.score == Decimal("95.0")
    return merchant, penalty, appeal


def outcome(kind: str) -> dict[str, Notification]:
    return {n.recipient: n for n in Notification.objects.filter(kind=kind)}


def test_open_appeals_come_first_and_the_page_shows_the_case(client, root, appealed):
    merchant, deduction, open_one = appealed
    # given a warning appealed later (Monday 13:00) and already decided
    warning = merchant_penalty_impose(merchant=merchant, kind="warning", reason="超时", actor=root, now=MON_10)
    decided = penalty_appeal_file(penalty=warning, body="请撤销预警。", source="email", now=MON_10 + timedelta(hours=3))
    penalty_appeal_decide(appeal=decided, decision="upheld", note="", actor=root, now=MON_10 + timedelta(hours=4))
    client.force_login(root)

    listing = client.get(url("merchants_merchantappeal_changelist"))
    filtered = client.get(url("merchants_merchantappeal_changelist") + "?status__exact=open")
    page = client.get(url("merchants_merchantappeal_change", open_one.pk)).content.decode()

    # then the open one comes first although filed earlier, and the filter keeps only it
    assert list(listing.context["cl"].result_list) == [open_one, decided]
    assert list(filtered.context["cl"].result_list) == [open_one]
    # and its page shows the penalty, the shop, the case and the two decisions
    assert CASE in page and "快乐小店" in page and "多次未按时答复" in page
    assert "&lt;p&gt;" not in page and "&lt;br" not in page  # the case as text, its markup not shown
    assert url("merchants_merchantpenalty_change", deduction.pk) in page
    assert '<button type="submit" class="default" name="_decision" value="upheld">Uphold the penalty</button>' in page
    assert '<button type="submit" name="_decision" value="revoked">Revoke the penalty</button>' in page
    assert 'name="body"' not in page  # the merchant's text is read, not edited


def test_upholding_keeps_the_penalty_and_tells_the_merchant_in_chinese(client, root, appealed):
    merchant, penalty, appeal = appealed
    client.force_login(root)

    response = client.post(url("merchants_merchantappeal_change", appeal.pk), UPHOLD)

    assert response.status_code == 302 and response.url == url("merchants_merchantappeal_changelist")
    appeal.refresh_from_db()
    penalty.refresh_from_db()
    merchant.refresh_from_db()
    assert (appeal.status, appeal.decided_by, appeal.decision_note) == ("upheld", root, UPHOLD["note"])
    assert appeal.decided_at is not None
    assert (penalty.status, merchant.score) == ("active", Decimal("95.0"))
    told = outcome("merchant_appeal_upheld")
    assert set(told) == {merchant.contact_email, "shopkeeper@shop.example"}
    email = told[merchant.contact_email]
    assert email.language == "zh-hans"
    assert email.subject == "申诉结果：店铺 快乐小店 的处罚“扣分”维持不变"
    imposed = "2026年11月23日 10:00（北京时间）"
    assert email.body.startswith(
        f"我们已审核您对店铺 快乐小店 的处罚“扣分”（处罚时间 {imposed}）提出的申诉，决定维持原处罚。\n"
        f"理由：{UPHOLD['note']}\n"
    )
    assert not Notification.objects.filter(kind="merchant_penalty_revoked").exists()

    # decided once: the page is read-only now, and a second decision is refused
    page = client.get(url("merchants_merchantappeal_change", appeal.pk)).content.decode()
    assert 'name="_decision"' not in page and "Penalty upheld" in page
    assert client.post(url("merchants_merchantappeal_change", appeal.pk), REVOKE).status_code == 403
    with pytest.raises(ApplicationError) as refused:
        penalty_appeal_decide(appeal=appeal, decision="revoked", note="再议", actor=root)
    assert refused.value.code == "already_decided"
    penalty.refresh_from_db()
    assert penalty.status == "active"


def test_revoking_needs_a_reason_then_revokes_the_penalty_and_its_points(client, root, appealed):
    merchant, penalty, appeal = appealed
    client.force_login(root)

    # without a reason: refused on the field, nothing decided
    refused = client.post(url("merchants_merchantappeal_change", appeal.pk), REVOKE | {"note": "  "})
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors == {"note": ["Give the reason for revoking the penalty."]}
    appeal.refresh_from_db()
    assert appeal.status == "open"

    # with one: the appeal is revoked, and so is the penalty, through its service
    response = client.post(url("merchants_merchantappeal_change", appeal.pk), REVOKE)

    assert response.status_code == 302
    appeal.refresh_from_db()
    penalty.refresh_from_db()
    merchant.refresh_from_db()
    assert (appeal.status, appeal.decided_by, appeal.decision_note) == ("revoked", root, REVOKE["note"])
    assert (penalty.status, penalty.ended_by, penalty.end_reason) == ("revoked", root, REVOKE["note"])
    assert (merchant.status, merchant.score) == ("active", Decimal("100.0"))  # the 5 points are back
    # the merchant is told once, by the revocation's notice, in Chinese
    told = outcome("merchant_penalty_revoked")
    assert set(told) == {merchant.contact_email, "shopkeeper@shop.example"}
    assert told[merchant.contact_email].body == (
        f"您的申诉成立：店铺 快乐小店 的处罚“扣分”已撤销，其影响已全部撤回。\n理由：{REVOKE['note']}\n"
    )
    assert not Notification.objects.filter(kind="merchant_appeal_upheld").exists()


def test_only_those_who_may_change_penalties_decide(client, appealed):
    _merchant, penalty, appeal = appealed
    change = url("merchants_merchantappeal_change", appeal.pk)

    # a staff member with no permission sees nothing and decides nothing
    client.force_login(UserFactory(username="clerk"))
    assert client.get(change).status_code == 403
    assert client.post(change, REVOKE).status_code == 403
    # one who may read appeals reads it, without the buttons, and cannot decide
    client.force_login(allowed("reader", "view_merchantappeal"))
    assert 'name="_decision"' not in client.get(change).content.decode()
    assert client.post(change, REVOKE).status_code == 403
    appeal.refresh_from_db()
    assert appeal.status == "open"
    with pytest.raises(ApplicationError) as refused:
        penalty_appeal_decide(appeal=appeal, decision="revoked", note="x", actor=UserFactory(username="clerk"))
    assert refused.value.code == "forbidden"

    # one who may change merchant penalties (no superuser) decides
    reviewer = allowed("reviewer", "change_merchantpenalty")
    client.force_login(reviewer)
    assert client.post(change, REVOKE).status_code == 302
    appeal.refresh_from_db()
    penalty.refresh_from_db()
    assert (appeal.status, appeal.decided_by, penalty.status) == ("revoked", reviewer, "revoked")


def test_revoking_on_the_penalty_page_decides_its_open_appeal(client, root, appealed):
    _merchant, penalty, appeal = appealed
    client.force_login(root)

    response = client.post(url("merchants_merchantpenalty_change", penalty.pk), {"revoke_reason": REVOKE["note"]})

    assert response.status_code == 302
    appeal.refresh_from_db()
    penalty.refresh_from_db()
    assert (appeal.status, appeal.decided_by, appeal.decision_note) == ("revoked", root, REVOKE["note"])
    assert penalty.status == "revoked"
    assert Notification.objects.filter(kind="merchant_penalty_revoked").count() == 2  # contact and user, once


def test_the_list_does_not_query_per_appeal(client, root, appealed):
    merchant = appealed[0]
    client.force_login(root)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url("merchants_merchantappeal_changelist")).status_code == 200
    for kind in ("warning", "search_demotion"):
        penalty = merchant_penalty_impose(merchant=merchant, kind=kind, reason="超时", actor=root, now=MON_10)
        penalty_appeal_file(penalty=penalty, body=CASE, source="portal", now=MON_10 + timedelta(hours=1))
    with CaptureQueriesContext(connection) as three:
        assert client.get(url("merchants_merchantappeal_changelist")).status_code == 200
    assert len(three.captured_queries) == len(one.captured_queries)
