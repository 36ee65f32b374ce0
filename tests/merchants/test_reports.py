"""The managers' scorecards: ranking, filters, CSV, one merchant's page, on-demand scoring."""

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Merchant
from merchants.scoring import merchant_scores_compute
from tests.merchants.helpers import MON_10, forwarded, shop
from tickets import services
from tickets.escalation import sla_sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def shops(category, agent):
    """好店 answers its one complaint in 2 h; 差店 misses one of two (50 % → 75.0)."""
    good, good_user = shop(name="好店", username="good")
    bad, bad_user = shop(name="差店", username="bad", contact_phone="13800138000")
    ticket = forwarded(category, good, agent)
    services.ticket_merchant_reply(ticket=ticket, author=good_user, body="已处理", now=MON_10 + timedelta(hours=2))
    ticket = forwarded(category, bad, agent)
    services.ticket_merchant_reply(ticket=ticket, author=bad_user, body="已处理", now=MON_10 + timedelta(hours=4))
    forwarded(category, bad, agent, at=MON_10 + timedelta(hours=1), subject='=HYPERLINK("x")')
    sla_sweep(now=MON_10 + timedelta(hours=26))
    merchant_scores_compute(now=MON_10 + timedelta(hours=26))
    return good, bad


def test_ranked_lowest_score_first_with_figures(client, manager, shops):
    good, _bad = shops
    client.force_login(manager)
    with time_machine.travel(MON_10 + timedelta(hours=27), tick=False):
        page = client.get(reverse("merchant_reports:list"))
    rows = list(page.context["page"])
    assert [r.merchant.name for r in rows] == ["差店", "好店"]
    bad_row = rows[0]
    assert (str(bad_row.card.score), str(bad_row.card.reply_rate), bad_row.card.strikes) == ("75.0", "50.0", 1)
    assert bad_row.card.median_reply_seconds == 4 * 3600
    assert bad_row.card.open_complaints == 2
    html = page.content.decode()
    assert "差店" in html and "4小时00分" in html

    with time_machine.travel(MON_10 + timedelta(hours=27), tick=False):
        strikes = client.get(reverse("merchant_reports:list"), {"sort": "-score", "status": "active"})
        searched = client.get(reverse("merchant_reports:list"), {"q": good.shop_id})
        below = client.get(reverse("merchant_reports:list"), {"below": "80"})
        nonsense = client.get(reverse("merchant_reports:list"), {"below": "abc", "sort": "drop table"})
    assert [r.merchant.name for r in strikes.context["page"]] == ["好店", "差店"]
    assert [r.merchant.name for r in searched.context["page"]] == ["好店"]
    assert [r.merchant.name for r in below.context["page"]] == ["差店"]
    assert nonsense.status_code == 200 and len(nonsense.context["page"]) == 2


def test_csv_export(client, manager, shops):
    client.force_login(manager)
    with time_machine.travel(MON_10 + timedelta(hours=27), tick=False):
        response = client.get(reverse("merchant_reports:export"))
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:6] == ["店铺 ID", "店铺名称", "状态", "资质审核", "评分", "答复率 %"]
    body = {r[1]: r for r in rows[1:]}
    assert body["差店"][4:8] == ["75.0", "50.0", "1", "1"]
    assert body["好店"][4:8] == ["100.0", "100.0", "1", "0"]


def test_merchant_page_trend_and_recompute(client, manager, agent, shops):
    _good, bad = shops
    merchant_scores_compute(now=MON_10 - timedelta(days=1))
    client.force_login(manager)
    page = client.get(reverse("merchant_reports:detail", args=[bad.pk]))
    html = page.content.decode()
    assert html.count("<circle") == 2  # two daily scores on the trend line
    assert "<polyline" in html
    response = client.post(reverse("merchant_reports:recompute", args=[bad.pk]))
    assert response.status_code == 302
    assert Merchant.objects.get(pk=bad.pk).score_updated_at is not None

    client.force_login(agent)
    assert client.get(reverse("merchant_reports:detail", args=[bad.pk])).status_code == 403
    assert client.get(reverse("merchant_reports:export")).status_code == 403
    assert client.post(reverse("merchant_reports:recompute", args=[bad.pk])).status_code == 403
