"""One score, shown identically at every door: the portal's headline and trend,
the managers' scorecard list, page and CSV, the admin's merchant list and
page, the merchant API and the staff API (docs/merchants.md, "Merchant score").
The figures are worked out by hand in the fixture's docstring."""

import csv
import io
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Merchant
from integrations.tokens import staff_token_create
from merchants.models import MerchantScore
from merchants.selectors import score_trend
from merchants.tasks import merchant_ladder_task
from merchants.tokens import token_create
from tests.factories import UserFactory
from tests.merchants.helpers import SH, forwarded, shop
from tickets import services
from tickets.escalation import sla_sweep

pytestmark = pytest.mark.django_db
AT = datetime(2026, 11, 24, 15, 0, tzinfo=SH)  # when the doors are read


def day(d: int, h: int) -> datetime:
    return datetime(2026, 11, d, h, 0, tzinfo=SH)


@pytest.fixture
def worker(monkeypatch):
    """The worker that takes the ladder-and-score task, running it at once."""
    monkeypatch.setattr(merchant_ladder_task, "delay", lambda ids: merchant_ladder_task.run(ids))


@pytest.fixture
def scored(category, agent, worker, django_capture_on_commit_callbacks):
    """好运来's complaints, forwarded on Mon 23 Nov 2026 (Shanghai):

    C1 10:00, replied after 2 h            answered    7 200 s
    C2 11:00, replied after 5 h            answered   18 000 s
    C3 12:00, no reply, swept Tue 14:30    unanswered (strike 1)
    C4 13:00, no reply, swept Tue 14:30    unanswered (strike 2: warning)
    C5 14:00, no reply, swept Tue 14:30    unanswered (strike 3: point deduction, 5 points)
    C6 Tue 24 Nov 09:00, no reply yet      pending (counts for nothing)

    Forwarded with a known outcome 5; reply rate 2 / 5 = 40.0 %, 60.0 % left
    unanswered; median reply time (7 200 + 18 000) / 2 = 12 600 s (3 h 30 min);
    score 100 − 0.5 × 60 − 5 = 65.0. Nothing is scored by hand: each reply and
    the sweep's misses hand the shop to the task that moves the ladder and
    stores the score, as a worker would."""
    merchant, user = shop(name="好运来", username="haoyunlai")
    for hour, after in ((10, 2), (11, 5)):
        ticket = forwarded(category, merchant, agent, at=day(23, hour))
        replied = day(23, hour) + timedelta(hours=after)
        with time_machine.travel(replied, tick=False), django_capture_on_commit_callbacks(execute=True):
            services.ticket_merchant_reply(ticket=ticket, author=user, body="已处理", now=replied)
    for hour in (12, 13, 14):
        forwarded(category, merchant, agent, at=day(23, hour))
    forwarded(category, merchant, agent, at=day(24, 9))
    swept = day(24, 14) + timedelta(minutes=30)
    with time_machine.travel(swept, tick=False), django_capture_on_commit_callbacks(execute=True):
        sla_sweep(now=swept)
    return Merchant.objects.get(pk=merchant.pk), user


def test_every_door_shows_the_same_score(client, manager, scored):
    merchant, user = scored
    assert merchant.penalties.filter(status="active").count() == 2  # the warning and the 5-point deduction
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    staff_key = staff_token_create(user=manager, name="BI")[1]
    _token, merchant_key = token_create(user=user, name="ERP")

    with time_machine.travel(AT, tick=False):
        client.force_login(user)
        portal = client.get(reverse("merchant:scorecard"))
        merchant_api = client.get("/api/v1/merchant/scorecard", HTTP_AUTHORIZATION=f"Bearer {merchant_key}").json()
        client.force_login(manager)
        listed = client.get(reverse("merchant_reports:list"))
        page = client.get(reverse("merchant_reports:detail", args=[merchant.pk]))
        export = b"".join(client.get(reverse("merchant_reports:export")).streaming_content).decode("utf-8-sig")
        staff = {"HTTP_AUTHORIZATION": f"Bearer {staff_key}"}
        staff_list = client.get("/api/v1/merchants/", **staff).json()["results"]
        staff_detail = client.get(f"/api/v1/merchants/{merchant.shop_id}", **staff).json()
        client.force_login(root)
        changelist = client.get(reverse("admin:accounts_merchant_changelist")).content.decode()
        change = client.get(reverse("admin:accounts_merchant_change", args=[merchant.pk])).content.decode()
        trend = score_trend(merchant, now=AT)

    # The portal's headline: score, reply rate, answered of forwarded, median, strikes.
    card = portal.context["card"]
    figures = (card.score, card.reply_rate, card.answered, card.forwarded, card.median_reply_seconds, card.strikes)
    assert figures == (Decimal("65.0"), Decimal("40.0"), 2, 5, 12_600, 3)
    assert portal.context["pending"] == 1
    headline = portal.content.decode()
    assert "<dd>65.0<small>" in headline and "<dd>40.0%<small>" in headline and "3小时30分" in headline
    # When it last changed, in Chinese punctuation (it ended in an English full stop).
    assert re.search(r"最近变动：<time [^>]+>[^<]+</time>。</p>", headline)
    # The trend's latest point (today's), in the data and on the chart the portal draws.
    assert (trend[-1].day, trend[-1].score, trend[-1].reply_rate) == (AT.date(), Decimal("65.0"), Decimal("40.0"))
    assert re.findall(r"<title>[^<]* · ([0-9.]+)</title></circle>", headline)[-2:] == ["100.0", "65.0"]
    # The managers' list, the shop's page and the CSV.
    [row] = listed.context["page"]
    assert (row.card.score, row.card.reply_rate, row.open_complaints) == (Decimal("65.0"), Decimal("40.0"), 6)
    assert (page.context["card"].score, page.context["card"].reply_rate) == (Decimal("65.0"), Decimal("40.0"))
    assert page.context["trend"][-1].score == Decimal("65.0")
    [_header, line] = list(csv.reader(io.StringIO(export)))
    assert (line[4], line[5], line[6], line[7], line[9], line[10]) == ("65.0", "40.0", "2", "3", "12600", "3")
    # The admin: the merchants' list and the merchant's page.
    assert '<td class="field-card_score">65.0</td>' in changelist
    assert '<td class="field-card_reply_rate">40.0%</td>' in changelist
    assert ">65.0</div>" in change and ">40.0%</div>" in change and ">60.0% (3/5)</div>" in change
    # The merchant API and the staff API (list and detail).
    assert (merchant_api["score"], merchant_api["reply_rate"], merchant_api["unanswered_percent"]) == (65.0, 40.0, 60.0)
    assert (merchant_api["answered"], merchant_api["forwarded"], merchant_api["pending"]) == (2, 5, 1)
    assert [m["score"] for m in staff_list] == [65.0]
    assert staff_detail["score"] == staff_detail["scorecard"]["score"] == 65.0
    assert staff_detail["scorecard"]["reply_rate"] == 40.0
    # The merchant record's copy agrees.
    assert merchant.score == Decimal("65.0")


def test_a_reply_moves_the_score_at_every_door_without_waiting_for_the_daily_job(
    client, manager, scored, django_capture_on_commit_callbacks
):
    merchant, user = scored
    c6 = merchant.tickets.get(subject="商家一直不回复", targets__started_at=day(24, 9))
    # C6 answered at 16:00, within its deadline: 3 of 6 answered → 50.0 %, 100 − 0.5 × 50 − 5 = 70.0.
    with time_machine.travel(day(24, 16), tick=False), django_capture_on_commit_callbacks(execute=True):
        services.ticket_merchant_reply(ticket=c6, author=user, body="已补发", now=day(24, 16))
    with time_machine.travel(day(24, 17), tick=False):
        client.force_login(user)
        card = client.get(reverse("merchant:scorecard")).context["card"]
        client.force_login(manager)
        [row] = client.get(reverse("merchant_reports:list")).context["page"]
        trend = score_trend(merchant, now=day(24, 17))
    assert (card.score, card.reply_rate) == (row.card.score, row.card.reply_rate) == (Decimal("70.0"), Decimal("50.0"))
    assert [(p.day.day, p.score, p.reply_rate) for p in trend] == [
        (23, Decimal("100.0"), Decimal("100.0")),  # C1 and C2 answered, nothing missed yet
        (24, Decimal("70.0"), Decimal("50.0")),
    ]
    # A snapshot for each day the figures changed, the day's last figures in it.
    snapshots = MerchantScore.objects.filter(merchant=merchant).order_by("day").values_list("day", "score")
    assert [(d.day, s) for d, s in snapshots] == [(23, Decimal("100.0")), (24, Decimal("70.0"))]
