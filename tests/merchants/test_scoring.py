"""Scoring arithmetic on a hand-computed fixture (the expected figures are
worked out in the comments, not by calling the code under test)."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from accounts.models import Merchant
from merchants.models import MerchantScore
from merchants.penalties import merchant_penalty_impose
from merchants.scoring import merchant_scores_compute
from merchants.selectors import awaiting_reply, scorecard_of
from tests.factories import UserFactory
from tests.merchants.helpers import SH, forwarded, shop
from tickets import services
from tickets.escalation import sla_sweep

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=SH)  # the window starts Tue 2026-11-03 10:00


def scorecard(merchant, *, now):
    """Score ``merchant`` at ``now`` and read its stored scorecard back."""
    merchant_scores_compute(now=now, merchant_ids=[merchant.pk])
    return scorecard_of(Merchant.objects.get(pk=merchant.pk))


@pytest.fixture
def history(category, agent):
    """Seven forwards of one shop:

    A  Nov 24 10:00, reply after 1 h           answered   3 600 s
    B  Nov 25 10:00, reply after 2 h           answered   7 200 s
    C  Nov 26 10:00, reply after 6 h           answered  21 600 s
    D  Nov 27 10:00, no reply, swept at +25 h  unanswered (a strike)
    E  Nov 28 10:00, reply after 26 h (late)   unanswered, replied  93 600 s
    F  Dec  3 08:00, no reply yet              pending (counts for nothing)
    G  Oct 20 10:00, no reply, swept           outside the window (its strike too)
    """
    merchant, user = shop()
    day = lambda d, h=10: datetime(2026, 11, d, h, 0, tzinfo=SH)  # noqa: E731
    for at, after in ((day(24), 1), (day(25), 2), (day(26), 6), (day(28), 26)):
        ticket = forwarded(category, merchant, agent, at=at)
        services.ticket_merchant_reply(ticket=ticket, author=user, body="已处理", now=at + timedelta(hours=after))
    forwarded(category, merchant, agent, at=day(27))
    sla_sweep(now=day(28, 11))
    forwarded(category, merchant, agent, at=datetime(2026, 12, 3, 8, 0, tzinfo=SH))
    forwarded(category, merchant, agent, at=datetime(2026, 10, 20, 10, 0, tzinfo=SH))
    sla_sweep(now=datetime(2026, 10, 21, 11, 0, tzinfo=SH))
    return merchant


def test_scorecard_figures(history):
    card = scorecard(history, now=NOW)
    assert (card.answered, card.unanswered, card.forwarded, awaiting_reply(history)) == (3, 2, 5, 1)
    assert card.reply_rate == Decimal("60.0")  # 3 / 5
    # Replies: 3 600, 7 200, 21 600, 93 600 s → median (7 200 + 21 600) / 2
    assert card.median_reply_seconds == 14_400
    assert card.strikes == 1  # D; G's strike is older than 30 days
    # 100 − 0.5 × 40 % unanswered
    assert card.score == Decimal("80.0")


def test_point_deduction_and_configurable_weight(history, settings):
    admin_user = UserFactory(username="root", is_superuser=True)
    merchant_penalty_impose(
        merchant=history, kind="point_deduction", points=Decimal("5"), reason="虚假发货", actor=admin_user, now=NOW
    )
    assert scorecard(history, now=NOW).score == Decimal("75.0")  # 100 − 20 − 5
    settings.MERCHANT_SCORE_UNANSWERED_WEIGHT = 1.0
    assert scorecard(history, now=NOW).score == Decimal("55.0")  # 100 − 40 − 5
    # 8 days: after Tue Nov 25 10:00 (B, forwarded at that very instant, is out): C, D, E
    settings.MERCHANT_SCORE_WINDOW_DAYS = 8
    card = scorecard(history, now=NOW)
    assert (card.answered, card.unanswered) == (1, 2)
    assert card.score == Decimal("28.3")  # 100 − 66.67 − 5, rounded to one decimal


def test_score_never_below_zero(category, agent):
    merchant, _user = shop()
    for d in (1, 2):
        forwarded(category, merchant, agent, at=datetime(2026, 12, d, 10, 0, tzinfo=SH))
    sla_sweep(now=NOW)
    admin_user = UserFactory(username="root", is_superuser=True)
    merchant_penalty_impose(
        merchant=merchant, kind="point_deduction", points=Decimal("60"), reason="严重违规", actor=admin_user, now=NOW
    )
    assert scorecard(merchant, now=NOW).score == Decimal("0.0")  # 100 − 50 − 60 → 0


def test_snapshots_only_on_days_the_figures_change(history):
    assert merchant_scores_compute(now=NOW) == 1
    assert merchant_scores_compute(now=NOW + timedelta(hours=3)) == 1  # same Shanghai day, same figures
    snapshot = MerchantScore.objects.get(merchant=history)
    assert (snapshot.day.isoformat(), snapshot.score, snapshot.reply_rate) == (
        "2026-12-03",
        Decimal("80.0"),
        Decimal("60.0"),
    )
    assert (snapshot.answered, snapshot.unanswered, snapshot.strikes, snapshot.median_reply_seconds) == (
        3,
        2,
        1,
        14_400,
    )
    assert Merchant.objects.get(pk=history.pk).score == Decimal("80.0")
    # Dec 4: the window still holds A–E, F is still awaiting its reply: nothing changed, nothing written.
    merchant_scores_compute(now=NOW + timedelta(days=1))
    assert MerchantScore.objects.filter(merchant=history).count() == 1
    # Dec 25 10:00: the window starts Nov 25 10:00, so A and B (forwarded at that very instant) are out:
    # C answered, D and E unanswered → 33.3 %, score 100 − 0.5 × 66.67 = 66.7; D's strike still in.
    merchant_scores_compute(now=datetime(2026, 12, 25, 10, 0, tzinfo=SH))
    days = list(MerchantScore.objects.filter(merchant=history).order_by("day").values_list("day", "score"))
    assert [(d.isoformat(), s) for d, s in days] == [("2026-12-03", Decimal("80.0")), ("2026-12-25", Decimal("66.7"))]
    card = scorecard_of(Merchant.objects.get(pk=history.pk))
    assert (card.score, card.reply_rate, card.strikes, card.computed_at) == (
        Decimal("66.7"),
        Decimal("33.3"),
        1,
        datetime(2026, 12, 25, 10, 0, tzinfo=SH),
    )


def test_a_shop_with_nothing_forwarded_scores_100(db):
    merchant, _ = shop()
    card = scorecard(merchant, now=NOW)
    assert (card.reply_rate, card.median_reply_seconds, card.score) == (None, None, Decimal("100.0"))


def test_a_computation_finishing_late_never_puts_older_figures_back(history):
    # Dec 24 10:00: the window starts Nov 24 10:00, so A (forwarded at that instant) is out:
    # B, C answered, D, E unanswered → 50 %, 75.0. At 09:00 A was still in: 3 of 5, 80.0.
    newer, older = datetime(2026, 12, 24, 10, 0, tzinfo=SH), datetime(2026, 12, 24, 9, 0, tzinfo=SH)
    merchant_scores_compute(now=newer)
    merchant_scores_compute(now=older)  # e.g. the daily job, begun before and committed after
    card = scorecard_of(Merchant.objects.get(pk=history.pk))
    assert (card.score, card.computed_at) == (Decimal("75.0"), newer)
    assert MerchantScore.objects.get(merchant=history).score == Decimal("75.0")
    assert Merchant.objects.get(pk=history.pk).score == Decimal("75.0")
