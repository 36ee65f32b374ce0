"""The managers' scorecards: ranking, filters, CSV, one merchant's page, on-demand scoring."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Merchant
from merchants.scoring import merchant_scores_compute
from merchants.selectors import scorecard_rows
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
    assert bad_row.open_complaints == 2
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
    merchant_scores_compute(now=MON_10 - timedelta(days=1))  # Sun 22 Nov: nothing forwarded yet, 100.0
    client.force_login(manager)
    with time_machine.travel(MON_10 + timedelta(hours=27), tick=False):
        page = client.get(reverse("merchant_reports:detail", args=[bad.pk]))
    html = page.content.decode()
    # A point a day from the first snapshot: 22 Nov (100.0), 23 Nov (no snapshot: still 100.0),
    # 24 Nov (75.0, the scorecard's).
    assert html.count("<circle") == 3
    assert [p.score for p in page.context["trend"]] == [Decimal("100.0"), Decimal("100.0"), Decimal("75.0")]
    assert "<polyline" in html
    response = client.post(reverse("merchant_reports:recompute", args=[bad.pk]))
    assert response.status_code == 302
    assert Merchant.objects.get(pk=bad.pk).score_updated_at is not None

    client.force_login(agent)
    assert client.get(reverse("merchant_reports:detail", args=[bad.pk])).status_code == 403
    assert client.get(reverse("merchant_reports:export")).status_code == 403
    assert client.post(reverse("merchant_reports:recompute", args=[bad.pk])).status_code == 403


def test_most_open_complaints_first_pages_across_those_without(client, manager, shops):
    good, bad = shops
    quiet, _ = shop(name="安静店", username="quiet")  # never a complaint
    merchant_scores_compute(now=MON_10 + timedelta(hours=26))
    client.force_login(manager)
    page = client.get(reverse("merchant_reports:list"), {"sort": "open"})
    # 差店 has two open complaints, 好店 one (answered, still open), 安静店 none.
    assert [(r.merchant.name, r.open_complaints) for r in page.context["page"]] == [
        ("差店", 2),
        ("好店", 1),
        ("安静店", 0),
    ]
    rows = scorecard_rows(sort="open")
    assert rows.count() == 3
    # A page may end inside those with open complaints, or start after them.
    assert [c.merchant_id for c in rows[0:1]] == [bad.pk]
    assert [c.merchant_id for c in rows[1:3]] == [good.pk, quiet.pk]
    assert [c.merchant_id for c in rows[2:3]] == [quiet.pk]
    assert [c.merchant_id for c in rows] == [bad.pk, good.pk, quiet.pk]  # the export's order
    export = b"".join(client.get(reverse("merchant_reports:export"), {"sort": "open"}).streaming_content)
    names = [r[1] for r in csv.reader(io.StringIO(export.decode("utf-8-sig")))][1:]
    assert names == ["差店", "好店", "安静店"]


def test_the_scorecards_carry_the_reports_tab_bar_with_merchants_current(client, manager, shops):
    good, _bad = shops
    client.force_login(manager)
    for url in (
        reverse("merchant_reports:list"),
        reverse("merchant_reports:detail", args=[good.pk]),
        reverse("merchant_reports:risk"),
    ):
        html = client.get(url).content.decode()
        tabs = html[html.index('<nav class="report-tabs"') : html.index("</nav>", html.index("report-tabs"))]
        assert f'<a href="{reverse("reports:sla")}">SLA</a>' in tabs, url
        assert f'<a href="{reverse("merchant_reports:list")}" class="current" aria-current="page">商家</a>' in tabs, url
        assert "排序方式" in html or url != reverse("merchant_reports:list")
