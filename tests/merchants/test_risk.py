"""Risk signals on crafted data, and their review by managers."""

from datetime import datetime, timedelta

import pytest
from django.urls import reverse

from merchants.models import MerchantRiskSignal
from merchants.risk import risk_signals_detect
from tests.factories import MerchantFactory, UserFactory
from tests.merchants.helpers import SH, complaint, forwarded, shop
from tickets.models import Message

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=SH)


def signals(kind) -> dict[str, set[int]]:
    return {s.key: {m.pk for m in s.merchants.all()} for s in MerchantRiskSignal.objects.filter(kind=kind)}


def test_shared_phone_or_email(db):
    a = MerchantFactory(contact_phone="138-0013-8000", contact_email="Boss@Shop.example")
    b = MerchantFactory(contact_phone="13800138000", contact_email="other@shop.example")
    c = MerchantFactory(contact_phone="13900139000", contact_email="boss@shop.example")
    MerchantFactory(contact_phone="13700137000", contact_email="alone@shop.example")
    MerchantFactory(contact_phone="", contact_email="")
    MerchantFactory(contact_phone="", contact_email="")  # two blanks share nothing

    risk_signals_detect(now=NOW)

    assert signals("shared_contact") == {"phone:13800138000": {a.pk, b.pk}, "email:boss@shop.example": {a.pk, c.pk}}


def test_new_merchant_in_the_top_5_percent_of_complaints(category):
    old = [MerchantFactory(created_at=NOW - timedelta(days=400)) for _ in range(20)]
    for i, merchant in enumerate(old):
        for _ in range(1 + i % 2):  # 1 or 2 complaints each
            complaint(category, merchant, at=NOW - timedelta(days=3))
    newcomer = MerchantFactory(created_at=NOW - timedelta(days=10))
    busy_old = MerchantFactory(created_at=NOW - timedelta(days=400))
    quiet_new = MerchantFactory(created_at=NOW - timedelta(days=5))
    for _ in range(8):
        complaint(category, newcomer, at=NOW - timedelta(days=2))
        complaint(category, busy_old, at=NOW - timedelta(days=2))
    complaint(category, quiet_new, at=NOW - timedelta(days=2))

    risk_signals_detect(now=NOW)

    # 23 merchants with 1, 2, 8 complaints: the 95th percentile is 8; only the newcomer is new.
    [signal] = MerchantRiskSignal.objects.filter(kind="new_high_volume")
    assert {m.pk for m in signal.merchants.all()} == {newcomer.pk}
    assert signal.evidence["complaints"] == 8
    assert len(signal.evidence["tickets"]) == 8


def test_replies_at_odd_hours_and_in_bursts(category, agent):
    night_shop, night_user = shop(name="夜猫子店", username="night")
    burst_shop, burst_user = shop(name="刷单店", username="burst")
    day_shop, day_user = shop(name="正常店", username="day")
    tickets = {
        user.pk: forwarded(category, merchant, agent, at=NOW - timedelta(days=5))
        for merchant, user in ((night_shop, night_user), (burst_shop, burst_user), (day_shop, day_user))
    }

    def reply(user, at):
        Message.objects.create(ticket=tickets[user.pk], author_kind="merchant", author=user, body="好的", created_at=at)

    base = datetime(2026, 11, 30, 0, 0, tzinfo=SH)
    for i in range(6):  # 03:00 Shanghai on six nights, one reply at noon
        reply(night_user, base - timedelta(days=i) + timedelta(hours=3))
    reply(night_user, base + timedelta(hours=12))
    for i in range(10):  # ten replies in four and a half minutes
        reply(burst_user, base + timedelta(hours=14, seconds=30 * i))
    for i in range(10):  # ten replies, one every ten minutes, in the afternoon
        reply(day_user, base + timedelta(hours=14, minutes=10 * i))

    risk_signals_detect(now=NOW)

    assert signals("odd_hours") == {f"merchant:{night_shop.pk}": {night_shop.pk}}
    odd = MerchantRiskSignal.objects.get(kind="odd_hours")
    assert (odd.evidence["odd"], odd.evidence["replies"]) == (6, 7)
    assert signals("reply_burst") == {f"merchant:{burst_shop.pk}": {burst_shop.pk}}
    burst = MerchantRiskSignal.objects.get(kind="reply_burst")
    assert burst.evidence["replies"] == 10 and len(burst.evidence["messages"]) == 10


def test_found_again_updates_in_place_and_keeps_the_verdict(client, db):
    MerchantFactory(contact_phone="13800138000")
    MerchantFactory(contact_phone="13800138000")
    risk_signals_detect(now=NOW)
    signal = MerchantRiskSignal.objects.get()
    manager = UserFactory(username="boss", groups=["managers"])
    client.force_login(manager)
    response = client.post(
        reverse("merchant_reports:risk_review", args=[signal.pk]), {"verdict": "dismissed", "note": "同一集团的两家店"}
    )
    assert response.status_code == 302
    risk_signals_detect(now=NOW + timedelta(days=1))
    signal = MerchantRiskSignal.objects.get()
    assert (signal.status, signal.review_note, signal.reviewed_by) == ("dismissed", "同一集团的两家店", manager)
    assert signal.last_seen_at == NOW + timedelta(days=1)


def test_review_page_permissions(client, agent, supervisor):
    a = MerchantFactory(contact_phone="13800138000", name="<b>店</b>")
    MerchantFactory(contact_phone="13800138000")
    risk_signals_detect(now=NOW)
    signal = MerchantRiskSignal.objects.get()
    url = reverse("merchant_reports:risk")
    client.force_login(agent)
    assert client.get(url).status_code == 403
    client.force_login(supervisor)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("merchant_reports:detail", args=[a.pk]) in html and "&lt;b&gt;店&lt;/b&gt;" in html
    assert (
        client.post(reverse("merchant_reports:risk_review", args=[signal.pk]), {"verdict": "confirmed"}).status_code
        == 403
    )
    manager = UserFactory(username="boss", groups=["managers"])
    client.force_login(manager)
    client.post(reverse("merchant_reports:risk_review", args=[signal.pk]), {"verdict": "confirmed"})
    assert MerchantRiskSignal.objects.get().status == "confirmed"
    client.post(reverse("merchant_reports:risk_review", args=[signal.pk]), {"verdict": "bogus"})
    assert MerchantRiskSignal.objects.get().status == "confirmed"
