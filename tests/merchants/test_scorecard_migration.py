"""Migration merchants 0009_merchant_scorecard: every merchant gets its
scorecard, the figures of its latest daily snapshot (what its trend and the
admin showed), or an empty one, never computed, for a merchant without any.

The test migrates the test database back to before the migration, writes what
a database of that time holds, and migrates forward; the test's transaction
then rolls it all back."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from merchants.models import MerchantScore, MerchantScorecard
from tests.merchants.helpers import SH, shop
from tests.migrating import migrate, migration_before

pytestmark = pytest.mark.django_db

MIGRATION = ("merchants", "0009_merchant_scorecard")


def test_each_merchant_gets_the_figures_of_its_latest_snapshot():
    # given, before the migration, a shop scored daily on 22 and 23 Nov, and a shop never scored
    scored, _ = shop(name="老店", username="old")
    new, _ = shop(name="新店", username="new")
    old = migrate(migration_before(*MIGRATION))
    Snapshot = old.get_model("merchants", "MerchantScore")
    for d, score, rate, answered, unanswered in ((22, "90.0", "80.0", 4, 1), (23, "75.0", "50.0", 2, 2)):
        Snapshot.objects.create(
            merchant_id=scored.pk,
            day=date(2026, 11, d),
            computed_at=datetime(2026, 11, d, 2, 0, tzinfo=SH),
            forwarded=answered + unanswered,
            answered=answered,
            unanswered=unanswered,
            reply_rate=Decimal(rate),
            median_reply_seconds=3600,
            strikes=unanswered,
            score=Decimal(score),
        )

    # when the migration runs
    migrate(None)

    # then the scored shop's scorecard holds its 23 Nov figures, and the new shop's is empty, never computed
    card = MerchantScorecard.objects.get(merchant=scored)
    assert (card.score, card.reply_rate, card.answered, card.unanswered, card.strikes, card.computed_at) == (
        Decimal("75.0"),
        Decimal("50.0"),
        2,
        2,
        2,
        datetime(2026, 11, 23, 2, 0, tzinfo=SH),
    )
    empty = MerchantScorecard.objects.get(merchant=new)
    assert (empty.score, empty.reply_rate, empty.forwarded, empty.computed_at) == (Decimal("100.0"), None, 0, None)
    assert MerchantScore.objects.filter(merchant=new).count() == 0
