"""A merchant appeals a penalty in force, from the penalty's page in the portal
or by email (the mail channel's call): one open appeal per penalty, a second
filing added to it, refused for another shop's penalty, a penalty no longer in
force and an empty or too long text; the merchant hears that it arrived and
those who decide, that there is one to decide."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connections
from django.urls import reverse
from django.utils import translation

from cs_desk.exceptions import ApplicationError
from merchants.appeals import penalty_appeal_file
from merchants.models import MerchantAppeal, MerchantPenalty
from merchants.penalties import merchant_ladder_evaluate, merchant_penalty_impose
from tests.factories import UserFactory
from tests.merchants.helpers import MON_10, forwarded, shop
from tickets.escalation import sla_sweep
from tickets.models import Notification, StaffProfile

CASE = "这两单都在 24 小时内电话联系了消费者，只是没有在平台上回复，请撤销扣分。"


def en(name: str, *args) -> str:
    """A portal URL in English, so that assertions on the new words do not wait for their translation."""
    with translation.override("en"):
        return reverse(name, args=args)


@pytest.fixture
def deciders(manager):
    """An administrator, a reviewer granted the merchant penalties (reads English), and a manager who is not."""
    root = UserFactory(username="root", is_superuser=True)
    reviewer = UserFactory(username="reviewer")
    reviewer.user_permissions.add(Permission.objects.get(codename="change_merchantpenalty"))
    StaffProfile.objects.create(user=reviewer, language="en")
    return root, reviewer


@pytest.fixture
def deduction(deciders):
    """快乐小店 with a 5-point deduction imposed by hand on Monday 23 November 2026 at 10:00 (Beijing)."""
    merchant, user = shop(name="快乐小店")
    penalty = merchant_penalty_impose(
        merchant=merchant, kind="point_deduction", points=5, reason="多次未按时答复", actor=deciders[0], now=MON_10
    )
    return merchant, user, penalty


def sent(kind: str) -> dict[str, Notification]:
    return {n.recipient: n for n in Notification.objects.filter(kind=kind)}


def test_a_merchant_appeals_from_the_penalty_page_and_is_told_it_arrived(client, deduction, deciders, manager):
    merchant, user, penalty = deduction
    client.force_login(user)

    # given the scorecard, which links to the penalty, and the penalty's page with its form
    scorecard = client.get(reverse("merchant:scorecard")).content.decode()
    assert f'href="{reverse("merchant:penalty", args=[penalty.pk])}"' in scorecard
    page = client.get(en("merchant:penalty", penalty.pk)).content.decode()
    assert "Appeal this penalty" in page and 'id="penalty-appeal"' in page and "csrfmiddlewaretoken" in page
    assert "You have not appealed this penalty." in page

    # when the shopkeeper sends the appeal on Monday at 11:00
    with time_machine.travel(MON_10 + timedelta(hours=1), tick=False):
        response = client.post(en("merchant:penalty", penalty.pk), {"body": CASE})

    # then it is one open appeal, from the portal, by them
    assert response.status_code == 302 and response.url == en("merchant:penalty", penalty.pk)
    appeal = MerchantAppeal.objects.get()
    assert (appeal.penalty, appeal.merchant, appeal.filed_by) == (penalty, merchant, user)
    assert (appeal.status, appeal.source, appeal.body) == ("open", "portal", CASE)
    assert appeal.created_at == MON_10 + timedelta(hours=1)
    # the shop (its contact address and its user) hears it arrived, in Chinese
    received = sent("merchant_appeal_received")
    assert set(received) == {merchant.contact_email, "shopkeeper@shop.example"}
    note = received[merchant.contact_email]
    assert note.language == "zh-hans"
    assert note.subject == "我们已收到您的申诉：店铺 快乐小店 的“扣分”"
    imposed = "2026年11月23日 10:00（北京时间）"
    assert f"我们已收到您对店铺 快乐小店 的处罚“扣分”（处罚时间 {imposed}）提出的申诉" in note.body
    assert CASE in note.body and f"/merchant/penalties/{penalty.pk}/" in note.body
    # those who may decide hear there is one to decide, with the link to it; the manager, who may not, does not
    filed = sent("merchant_appeal_filed")
    assert set(filed) == {"root@staff.example", "reviewer@staff.example"}
    assert f"/admin/merchants/merchantappeal/{appeal.pk}/change/" in filed["root@staff.example"].body
    assert CASE in filed["root@staff.example"].body and "多次未按时答复" in filed["root@staff.example"].body
    english = filed["reviewer@staff.example"]
    assert english.language == "en" and english.subject == "Appeal to decide: 快乐小店, Point deduction"
    assert f"/en/admin/merchants/merchantappeal/{appeal.pk}/change/" in english.body
    assert "imposed Nov. 23, 2026, 10 a.m. (Beijing time) (reason: 多次未按时答复), by Merchant portal" in english.body
    assert manager.email not in filed

    # and the page shows the appeal, open, and offers to add to it
    page = client.get(en("merchant:penalty", penalty.pk)).content.decode()
    assert "Open, awaiting a decision" in page and CASE in page and "Add to your appeal" in page


def test_a_second_filing_is_added_to_the_open_appeal(client, deduction):
    _merchant, user, penalty = deduction
    client.force_login(user)
    with time_machine.travel(MON_10 + timedelta(hours=1), tick=False):
        client.post(en("merchant:penalty", penalty.pk), {"body": CASE})
    with time_machine.travel(MON_10 + timedelta(hours=2, minutes=30), tick=False):
        response = client.post(en("merchant:penalty", penalty.pk), {"body": "补充：通话记录截图已发到客服邮箱。"})

    assert response.status_code == 302
    appeal = MerchantAppeal.objects.get()  # still one
    # Added at 12:30 Beijing time, after a line with that time.
    assert appeal.body == f"{CASE}\n\n——— 2026-11-23 12:30 (UTC+08:00) ———\n补充：通话记录截图已发到客服邮箱。"
    assert appeal.created_at == MON_10 + timedelta(hours=1)  # filed when it was first filed
    # each filing is acknowledged, with what was written then
    bodies = list(
        Notification.objects.filter(kind="merchant_appeal_received", recipient_user=user)
        .order_by("id")
        .values_list("body", flat=True)
    )
    assert len(bodies) == 2 and "补充：通话记录截图已发到客服邮箱。" in bodies[1] and CASE not in bodies[1]


def test_another_shops_user_finds_no_such_penalty(client, deduction):
    _merchant, _user, penalty = deduction
    _other, intruder = shop(name="别家店", username="other")
    client.force_login(intruder)

    assert client.get(reverse("merchant:penalty", args=[penalty.pk])).status_code == 404
    assert client.post(reverse("merchant:penalty", args=[penalty.pk]), {"body": CASE}).status_code == 404
    assert client.get(reverse("merchant:penalty", args=[penalty.pk + 1000])).status_code == 404
    # nor through the service, for a user who is not the shop's
    with pytest.raises(ApplicationError) as refused:
        penalty_appeal_file(penalty=penalty, body=CASE, source="portal", filed_by=intruder)
    assert refused.value.code == "not_found"
    assert not MerchantAppeal.objects.exists()


def test_staff_and_anonymous_stay_out(client, deduction, agent):
    penalty = deduction[2]
    assert client.get(reverse("merchant:penalty", args=[penalty.pk])).status_code == 302  # to the sign-in
    client.force_login(agent)
    assert client.get(reverse("merchant:penalty", args=[penalty.pk])).status_code == 403


@pytest.mark.parametrize(
    ("body", "error"),
    [("", "消息内容为空。"), ("   ", "消息内容为空。"), ("长" * 41, "一条消息最多 40 个字符（这条有 41 个）。")],
)
def test_an_empty_or_too_long_text_is_refused_and_kept_in_the_box(client, deduction, settings, body, error):
    settings.MESSAGE_MAX_CHARS = 40
    _merchant, user, penalty = deduction
    client.force_login(user)

    response = client.post(reverse("merchant:penalty", args=[penalty.pk]), {"body": body})

    assert response.status_code == 400
    html = response.content.decode()
    assert f'<p class="error" role="alert">{error}</p>' in html
    assert f">{body}</textarea>" in html and 'maxlength="40"' in html
    assert not MerchantAppeal.objects.exists()
    assert not Notification.objects.filter(kind__startswith="merchant_appeal").exists()


@pytest.fixture
def lifted(category, agent, settings):
    """A warning the ladder imposed on one missed deadline (Tue 24 Nov, 11:00) and lifted 30 days later."""
    settings.MERCHANT_PENALTY_LADDER = [{"kind": "warning", "strikes": 1}]
    merchant, user = shop()
    forwarded(category, merchant, agent, at=MON_10)
    sla_sweep(now=MON_10 + timedelta(hours=25))
    merchant_ladder_evaluate(merchant=merchant, now=MON_10 + timedelta(hours=25))
    merchant_ladder_evaluate(merchant=merchant, now=MON_10 + timedelta(days=31, hours=2))
    penalty = merchant.penalties.get()
    assert penalty.status == MerchantPenalty.Status.LIFTED
    return user, penalty


def test_a_lifted_penalty_cannot_be_appealed(client, lifted):
    user, penalty = lifted
    client.force_login(user)

    page = client.get(en("merchant:penalty", penalty.pk)).content.decode()
    assert 'id="penalty-appeal"' not in page
    assert "This penalty is no longer in force; it can no longer be appealed." in page
    response = client.post(en("merchant:penalty", penalty.pk), {"body": CASE})

    assert response.status_code == 400
    assert "Only a penalty in force can be appealed; this one is Lifted." in response.content.decode()
    assert not MerchantAppeal.objects.exists()


def test_an_appeal_by_email_is_acknowledged_to_the_address_it_came_from_too(deduction):
    merchant, _user, penalty = deduction

    # given a reply to the penalty email from the owner's own mailbox, which is no user's
    appeal = penalty_appeal_file(
        penalty=penalty, body=CASE, source="email", from_address="boss@example.cn", now=MON_10 + timedelta(hours=3)
    )

    assert (appeal.source, appeal.filed_by, appeal.from_address) == ("email", None, "boss@example.cn")
    told = {merchant.contact_email, "shopkeeper@shop.example", "boss@example.cn"}
    assert set(sent("merchant_appeal_received")) == told
    with pytest.raises(ApplicationError) as refused:
        penalty_appeal_file(penalty=penalty, body=CASE, source="fax")
    assert refused.value.code == "invalid_choice"


@pytest.mark.django_db(transaction=True)
def test_filings_at_once_make_one_appeal(deciders):
    merchant, _user = shop()
    penalty = merchant_penalty_impose(merchant=merchant, kind="warning", reason="多次未按时答复", actor=deciders[0])
    barrier = threading.Barrier(3)
    errors = []

    def file(text: str) -> None:
        try:
            barrier.wait()
            penalty_appeal_file(penalty=penalty, body=text, source="email", from_address="boss@example.cn")
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=file, args=(f"第 {n} 封邮件",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    appeal = MerchantAppeal.objects.get()
    assert sorted(part for part in ("第 0 封邮件", "第 1 封邮件", "第 2 封邮件") if part in appeal.body) == [
        "第 0 封邮件",
        "第 1 封邮件",
        "第 2 封邮件",
    ]
