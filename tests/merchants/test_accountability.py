"""A merchant's miss becomes a strike from the ticket's own event, in the
transaction that writes the event: exactly once per missed target, never for a
sweep that did not commit, and the ladder is asked to move only after the
commit."""

from datetime import timedelta

import pytest

from merchants.models import MerchantStrike
from merchants.tasks import merchant_ladder_task
from tests.merchants.helpers import MON_10, forwarded, shop
from tickets import escalation, events
from tickets.escalation import sla_sweep
from tickets.events import EventRow, event_record, events_written

pytestmark = pytest.mark.django_db

# Forwarded Mon 10:00 with 24 calendar hours to reply: missed after Tue 10:00.
MISSED_AT = MON_10 + timedelta(hours=25)


@pytest.fixture
def ladder_asked(monkeypatch) -> list[list[int]]:
    """The merchants the ladder task was queued for, one list per dispatch."""
    sent: list[list[int]] = []
    monkeypatch.setattr(merchant_ladder_task, "delay", lambda ids: sent.append(ids))
    return sent


def test_the_same_miss_handed_twice_is_one_strike(category, agent, ladder_asked, django_capture_on_commit_callbacks):
    merchant, _user = shop()
    ticket = forwarded(category, merchant, agent, at=MON_10)
    target = ticket.targets.get(kind="merchant_reply")
    missed = EventRow.of(
        event_record(events.merchant_missed(target=target, merchant_id=merchant.pk), ticket=ticket, at=MISSED_AT)
    )

    with django_capture_on_commit_callbacks(execute=True):
        events_written([missed])
        events_written([missed, missed])  # again, and twice in one call

    strike = MerchantStrike.objects.get()
    assert (strike.merchant_id, strike.ticket, strike.target, strike.created_at) == (
        merchant.pk,
        ticket,
        target,
        MISSED_AT,
    )
    assert (strike.reason, strike.params) == ("missed_reply", {"reference": ticket.reference})
    assert ladder_asked == [[merchant.pk]]  # asked once, for the one new strike


def test_events_of_other_kinds_write_no_strike(category, agent, ladder_asked, django_capture_on_commit_callbacks):
    merchant, _user = shop()
    ticket = forwarded(category, merchant, agent, at=MON_10)
    target = ticket.targets.get(kind="merchant_reply")
    warning = EventRow.of(event_record(events.sla_warning(target=target), ticket=ticket, at=MISSED_AT))

    with django_capture_on_commit_callbacks(execute=True):
        events_written([warning])

    assert not MerchantStrike.objects.exists()
    assert ladder_asked == []


def test_a_sweep_rolled_back_writes_no_strike(
    category, agent, ladder_asked, django_capture_on_commit_callbacks, monkeypatch
):
    merchant, _user = shop()
    ticket = forwarded(category, merchant, agent, at=MON_10)
    written = escalation.notifications_insert

    def outbox_down(*args, **kwargs):
        raise RuntimeError("the outbox table is unwritable")

    # The batch's last write fails, after its events were handed to the merchants app.
    monkeypatch.setattr(escalation, "notifications_insert", outbox_down)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        sla_sweep(now=MISSED_AT)

    assert not MerchantStrike.objects.exists()
    assert not ticket.events.filter(kind="merchant_missed").exists()
    ticket.refresh_from_db()
    assert ticket.status == "awaiting_merchant"
    assert ladder_asked == []

    # The next sweep that commits takes the miss, and its strike, once.
    monkeypatch.setattr(escalation, "notifications_insert", written)
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_sweep(now=MISSED_AT)["merchant_missed"] == 1
        sla_sweep(now=MISSED_AT + timedelta(hours=1))
    assert MerchantStrike.objects.get().ticket == ticket
    assert ladder_asked == [[merchant.pk]]
