"""The penalty ladder, up and down: each step at its threshold, lifted when the
strikes age out, revoked on appeal (effects undone, not re-imposed without a
new strike), removal only on an administrator's confirmation."""

import threading
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connections

from accounts.models import Merchant
from cs_desk.exceptions import ApplicationError
from merchants.appeals import penalty_appeal_file
from merchants.models import MerchantPenalty
from merchants.penalties import (
    merchant_ladder_evaluate,
    merchant_penalty_impose,
    merchant_penalty_revoke,
    merchant_removal_confirm,
    merchants_daily,
)
from merchants.selectors import scorecard_of
from merchants.tasks import merchant_ladder_task
from tests.factories import UserFactory
from tests.merchants.helpers import SH, forwarded, shop
from tickets.escalation import sla_sweep
from tickets.models import Notification

START = datetime(2026, 11, 2, 10, 0, tzinfo=SH)


@pytest.fixture
def small_ladder(settings):
    settings.MERCHANT_PENALTY_LADDER = [
        {"kind": "warning", "strikes": 1},
        {"kind": "point_deduction", "strikes": 2, "points": 5},
        {"kind": "search_demotion", "strikes": 3},
        {"kind": "promotion_exclusion", "strikes": 4},
        {"kind": "removal", "strikes": 5},
    ]


def miss(category, merchant, agent, day: int):
    """A complaint forwarded on day ``day`` after START and left unanswered: the sweep strikes."""
    at = START + timedelta(days=day)
    ticket = forwarded(category, merchant, agent, at=at)
    sla_sweep(now=at + timedelta(hours=25))
    return ticket, at + timedelta(hours=25)


def in_force(merchant) -> dict[str, str]:
    return dict(merchant.penalties.filter(status__in=["active", "proposed"]).values_list("kind", "status"))


@pytest.mark.django_db
def test_ladder_up_step_by_step_then_removal_needs_confirmation(category, agent, small_ladder):
    merchant, _user = shop()
    expected = [
        ({"warning": "active"}, "warned", False, False),
        ({"warning": "active", "point_deduction": "active"}, "warned", False, False),
        ({"warning": "active", "point_deduction": "active", "search_demotion": "active"}, "restricted", True, False),
        (
            {
                "warning": "active",
                "point_deduction": "active",
                "search_demotion": "active",
                "promotion_exclusion": "active",
            },
            "restricted",
            True,
            True,
        ),
    ]
    tickets = []
    for day, (steps, status, demoted, excluded) in enumerate(expected):
        ticket, swept = miss(category, merchant, agent, day)
        tickets.append(ticket)
        merchant_ladder_evaluate(merchant=merchant, now=swept)
        merchant.refresh_from_db()
        assert in_force(merchant) == steps
        assert (merchant.status, merchant.search_demoted, merchant.promotions_excluded) == (status, demoted, excluded)
    deduction = merchant.penalties.get(kind="point_deduction")
    assert deduction.points == Decimal("5") and deduction.strike_count == 2 and deduction.threshold == 2
    assert set(deduction.tickets.all()) == set(tickets[:2])
    assert deduction.decided_by is None and deduction.decided_by_job == "penalty ladder"
    # Four misses of four: 100 − 0.5 × 100 − 5
    assert merchant.score == Decimal("45.0")

    _ticket, swept = miss(category, merchant, agent, 4)
    merchant_ladder_evaluate(merchant=merchant, now=swept)
    merchant.refresh_from_db()
    assert in_force(merchant)["removal"] == "proposed"
    assert merchant.status == "restricted"  # not removed until an administrator confirms
    admin_user = UserFactory(username="root", is_superuser=True)
    merchant_removal_confirm(penalty=merchant.penalties.get(kind="removal"), actor=admin_user, now=swept)
    merchant.refresh_from_db()
    assert merchant.status == "removed"
    # The merchant heard of every step.
    kinds = list(
        Notification.objects.filter(recipient=merchant.contact_email).values_list("kind", flat=True).order_by("id")
    )
    assert kinds.count("merchant_penalized") == 5 and kinds[-1] == "merchant_removed"


@pytest.mark.django_db
def test_ladder_comes_down_when_strikes_age_out(category, agent, small_ladder):
    merchant, _user = shop()
    for day in range(3):
        _t, swept = miss(category, merchant, agent, day)
    merchant_ladder_evaluate(merchant=merchant, now=swept)
    merchant.refresh_from_db()
    assert merchant.status == "restricted" and merchant.search_demoted

    # The merchant appeals the demotion; the ladder lifts it before anyone decides.
    demotion = merchant.penalties.get(kind="search_demotion")
    appeal = penalty_appeal_file(penalty=demotion, body="快递延误导致超时。", source="portal")

    # Strikes at Nov 3, 4 and 5, 11:00. On Dec 2 at 11:00 all three are within 30 days.
    assert merchant_ladder_evaluate(merchant=merchant, now=swept + timedelta(days=27)) == {"imposed": [], "lifted": []}
    # After Dec 3 11:00 the first strike is out: 2 left → demotion lifted.
    result = merchant_ladder_evaluate(merchant=merchant, now=START + timedelta(days=30, hours=25, minutes=1))
    assert result == {"imposed": [], "lifted": ["search_demotion"]}
    merchant.refresh_from_db()
    assert (merchant.status, merchant.search_demoted) == ("warned", False)
    # The appeal is closed with nothing left to decide, and no longer waits for anyone.
    appeal.refresh_from_db()
    assert (appeal.status, appeal.decided_by) == ("moot", None)
    # All three out: back to active and 100.
    later = START + timedelta(days=40)
    merchant_ladder_evaluate(merchant=merchant, now=later)
    merchant.refresh_from_db()
    assert (merchant.status, in_force(merchant)) == ("active", {})
    lifted = merchant.penalties.get(kind="warning")
    assert (lifted.status, lifted.end_reason) == ("lifted", "近 30 天的超时次数降至 0 次，低于 1 次。")
    assert scorecard_of(Merchant.objects.get(pk=merchant.pk)).score == Decimal("100.0")  # stored as it lifted
    assert Notification.objects.filter(kind="merchant_penalty_lifted", recipient=merchant.contact_email).count() == 3


@pytest.mark.django_db
def test_revocation_restores_and_is_not_undone_without_a_new_strike(category, agent, small_ladder):
    merchant, _user = shop()
    for day in range(3):
        _t, swept = miss(category, merchant, agent, day)
    merchant_ladder_evaluate(merchant=merchant, now=swept)
    admin_user = UserFactory(username="root", is_superuser=True)
    merchant.refresh_from_db()
    before = merchant.score
    for kind in ("search_demotion", "point_deduction"):
        merchant_penalty_revoke(
            penalty=merchant.penalties.get(kind=kind), actor=admin_user, reason="物流延误，非商家责任", now=swept
        )
    merchant.refresh_from_db()
    assert (merchant.status, merchant.search_demoted) == ("warned", False)
    assert merchant.score == before + 5  # the deducted points are back
    revoked = merchant.penalties.get(kind="point_deduction")
    assert (revoked.status, revoked.ended_by, revoked.end_reason) == ("revoked", admin_user, "物流延误，非商家责任")
    assert Notification.objects.filter(kind="merchant_penalty_revoked", recipient=merchant.contact_email).count() == 2

    # The daily job runs again on the same strikes: the appeal stands.
    assert merchant_ladder_evaluate(merchant=merchant, now=swept + timedelta(hours=1))["imposed"] == []
    # A new strike: the steps it reaches come back.
    _t, swept = miss(category, merchant, agent, 5)
    result = merchant_ladder_evaluate(merchant=merchant, now=swept)
    assert sorted(result["imposed"]) == ["point_deduction", "promotion_exclusion", "search_demotion"]

    with pytest.raises(ApplicationError) as refused:
        merchant_penalty_revoke(penalty=revoked, actor=admin_user, reason="再次申诉", now=swept)
    assert refused.value.code == "not_in_force"
    with pytest.raises(ApplicationError) as refused:
        merchant_penalty_revoke(penalty=merchant.penalties.get(kind="warning"), actor=admin_user, reason=" ")
    assert (refused.value.code, refused.value.field) == ("required", "reason")


@pytest.mark.django_db
def test_a_penalty_imposed_by_hand_is_not_lifted_by_the_ladder(small_ladder):
    merchant, _user = shop()
    admin_user = UserFactory(username="root", is_superuser=True)
    penalty = merchant_penalty_impose(
        merchant=merchant, kind="promotion_exclusion", reason="刷单", actor=admin_user, now=START
    )
    merchant_ladder_evaluate(merchant=merchant, now=START + timedelta(days=1))
    penalty.refresh_from_db()
    merchant.refresh_from_db()
    assert penalty.status == "active" and penalty.decided_by == admin_user
    assert (merchant.status, merchant.promotions_excluded) == ("restricted", True)


@pytest.mark.django_db
def test_the_task_the_sweep_dispatches_moves_the_ladder(
    category, agent, small_ladder, django_capture_on_commit_callbacks, monkeypatch
):
    merchant, _user = shop()
    at = START
    forwarded(category, merchant, agent, at=at)
    sent = []
    monkeypatch.setattr(merchant_ladder_task, "delay", lambda ids: sent.append(ids))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sla_sweep(now=at + timedelta(hours=25))
    assert sent == []  # nothing before the strikes are committed
    for callback in callbacks:
        callback()
    assert sent == [[merchant.pk]]  # once committed, the sweep asks for this merchant's ladder
    merchant_ladder_task.run(sent[0])  # what the worker then runs
    assert in_force(merchant) == {"warning": "active"}


@pytest.mark.django_db(transaction=True)
def test_concurrent_evaluations_impose_each_step_once(category, agent, small_ladder):
    merchant, _user = shop()
    for day in range(3):
        _t, swept = miss(category, merchant, agent, day)
    barrier = threading.Barrier(4)
    errors = []

    def evaluate():
        try:
            barrier.wait()
            merchant_ladder_evaluate(merchant=Merchant.objects.get(pk=merchant.pk), now=swept)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=evaluate) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(MerchantPenalty.objects.values_list("kind", flat=True)) == [
        "point_deduction",
        "search_demotion",
        "warning",
    ]


@pytest.mark.django_db
def test_the_daily_job_evaluates_only_the_merchants_the_ladder_would_move(category, agent, small_ladder):
    # Three shops, each with one strike (Nov 2, 11:00): A and B already warned by the ladder, C not yet
    # (its task was lost); D never missed anything.
    shops = [shop(name=name, username=name)[0] for name in ("A店", "B店", "C店", "D店")]
    for merchant in shops[:3]:
        _ticket, swept = miss(category, merchant, agent, 0)
    for merchant in shops[:2]:
        merchant_ladder_evaluate(merchant=merchant, now=swept)
    # Next day: only C needs a step (its warning); A and B stay as they are, D has nothing.
    result = merchants_daily(now=swept + timedelta(days=1))
    assert (result["evaluated"], result["imposed"], result["lifted"], result["scored"]) == (1, 1, 0, 4)
    assert [in_force(m) for m in shops] == [{"warning": "active"}] * 3 + [{}]
    # 31 days on every strike has left the window: the three warnings are lifted, D is still not looked at.
    result = merchants_daily(now=swept + timedelta(days=31))
    assert (result["evaluated"], result["imposed"], result["lifted"]) == (3, 0, 3)
    assert [in_force(m) for m in shops] == [{}] * 4
