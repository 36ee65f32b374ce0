"""Migration merchants 0006_strike_reason_code: the English sentence "No reply
to CS-… within the deadline" becomes the code ``missed_reply`` with the
reference, any other sentence the code ``other`` with its words; and back.

The test migrates the test database back to before the migration, writes what
a database of that time holds through the models of that time, and migrates
forward and back again; the test's transaction then rolls it all back."""

from datetime import timedelta

import pytest
from django.utils import translation

from merchants.models import MerchantStrike
from tests.merchants.helpers import MON_10, forwarded, shop
from tests.migrating import migrate, migration_before

pytestmark = pytest.mark.django_db

MIGRATION = ("merchants", "0006_strike_reason_code")


def test_sentences_become_codes_and_come_back(category, agent):
    # given two complaints forwarded to a shop, and the database before the migration
    # with a strike on each: the sentence the sweep wrote, and one in other words
    merchant, _user = shop()
    first = forwarded(category, merchant, agent, at=MON_10)
    second = forwarded(category, merchant, agent, at=MON_10 + timedelta(hours=1))
    old = migrate(migration_before(*MIGRATION))
    OldStrike = old.get_model("merchants", "MerchantStrike")
    for ticket, reason in (
        (first, f"No reply to {first.reference} within the deadline"),
        (second, "No reply within 24 h"),
    ):
        OldStrike.objects.create(
            merchant_id=merchant.pk,
            ticket_id=ticket.pk,
            target_id=ticket.targets.get(kind="merchant_reply").pk,
            created_at=MON_10 + timedelta(days=1),
            reason=reason,
        )

    # when the migration runs
    migrate(None)

    # then the sweep's sentence is a code with the reference, read in either language,
    # and the other keeps its words
    missed = MerchantStrike.objects.get(ticket=first)
    assert (missed.reason, missed.params) == ("missed_reply", {"reference": first.reference})
    with translation.override("zh-hans"):
        assert missed.reason_text == f"投诉 {first.reference} 超时未回复"
    with translation.override("en"):
        assert missed.reason_text == f"No reply to {first.reference} within the deadline"
    other = MerchantStrike.objects.get(ticket=second)
    assert (other.reason, other.params) == ("other", {"text": "No reply within 24 h"})
    assert other.reason_text == "No reply within 24 h"

    # and migrating back gives the sentences back
    old = migrate(migration_before(*MIGRATION))
    reasons = dict(old.get_model("merchants", "MerchantStrike").objects.values_list("ticket_id", "reason"))
    assert reasons == {
        first.pk: f"No reply to {first.reference} within the deadline",
        second.pk: "No reply within 24 h",
    }
    migrate(None)
    assert MerchantStrike.objects.get(ticket=first).params == {"reference": first.reference}
