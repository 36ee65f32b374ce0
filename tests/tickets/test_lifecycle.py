"""The SLA lifecycle (DESIGN.md, "SLA semantics"), driven through the services
with the clock moved by time-machine. Every expected instant is derived by hand
in the comments, on China's 2026 calendar (working hours 09:00–18:00, so one
working day is 9 h)."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cs_desk.exceptions import ApplicationError, InvalidTransition
from tests.builders import ticket_filed
from tests.factories import MerchantFactory, MerchantUserFactory
from tickets import services
from tickets.escalation import sla_sweep
from tickets.models import SLAPolicy, SLATarget, Ticket, TicketEvent

SH = ZoneInfo("Asia/Shanghai")
# Monday 2026-11-23 10:00 in Shanghai: an ordinary working week follows.
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)

pytestmark = pytest.mark.django_db


def at(day: int, hour: int, minute: int = 0, month: int = 11, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def target(ticket: Ticket, kind: str, cycle: int = 1) -> SLATarget:
    return SLATarget.objects.get(ticket=ticket, kind=kind, cycle=cycle)


def kinds(ticket: Ticket) -> list[str]:
    return list(ticket.events.order_by("created_at", "id").values_list("kind", flat=True))


def test_create_opens_first_response_and_resolution_targets(category):
    ticket = ticket_filed(category, at=MON_10)

    assert re.fullmatch(r"CS-20261123-\d{6}", ticket.reference)
    assert len(ticket.tracking_token) >= 40
    assert ticket.status == Ticket.Status.NEW
    assert ticket.priority == "normal"
    # First response, 3 working days = 27 h: Mon 10–18 (8 h), Tue (17 h), Wed (26 h), Thu 09–10 → Thu 10:00.
    assert target(ticket, "first_response").due_at == at(26, 10)
    # Resolution, 10 working days = 90 h: Mon 8 h, then Tue..Fri and Mon..Fri of the next
    # week (9 × 9 h = 81 h → 89 h by Fri 2026-12-04 18:00), 1 h more → Mon 2026-12-07 10:00.
    assert target(ticket, "resolution").due_at == at(7, 10, month=12)
    ticket.refresh_from_db()
    assert ticket.due_at == at(26, 10)
    assert kinds(ticket) == ["created", "target_opened", "target_opened"]


def test_references_are_sequential_per_day(category):
    first = ticket_filed(category, at=MON_10)
    second = ticket_filed(category, at=MON_10 + timedelta(minutes=1))
    n1 = int(first.reference.rsplit("-", 1)[1])
    assert second.reference == f"CS-20261123-{n1 + 1:06d}"


def test_contact_is_required(category):
    with pytest.raises(ApplicationError) as excinfo:
        services.ticket_create(category=category, subject="s", body="b", requester_name="x")
    assert excinfo.value.code == "contact_required"
    assert Ticket.objects.count() == 0


def test_internal_note_does_not_meet_first_response_public_reply_does(category, agent):
    ticket = ticket_filed(category, at=MON_10)

    with time_machine.travel(at(23, 11), tick=False):
        services.ticket_reply(ticket=ticket, author=agent, body="查一下支付渠道", public=False)
    assert target(ticket, "first_response").status == SLATarget.Status.RUNNING
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW
    assert ticket.first_responded_at is None

    with time_machine.travel(at(23, 15), tick=False):
        services.ticket_reply(ticket=ticket, author=agent, body="您好，我们正在核实退款。")
    first = target(ticket, "first_response")
    assert first.status == SLATarget.Status.MET
    assert first.met_at == at(23, 15)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.first_responded_at == at(23, 15)
    # Only the resolution clock runs now.
    assert ticket.due_at == at(7, 10, month=12)
    assert kinds(ticket)[-4:] == ["internal_note", "public_reply", "target_met", "status_changed"]


def test_reply_exactly_at_the_deadline_meets_it(category, agent):
    ticket = ticket_filed(category, at=MON_10)
    due = at(26, 10)
    # A sweep at the very instant of the deadline takes the warning but not the breach.
    assert sla_sweep(now=due)["breach"] == 0
    with time_machine.travel(due, tick=False):
        services.ticket_reply(ticket=ticket, author=agent, body="您好")
    first = target(ticket, "first_response")
    assert first.status == SLATarget.Status.MET
    assert first.is_breached is False
    met = TicketEvent.objects.get(ticket=ticket, kind="target_met", target_kind="first_response")
    assert met.data["late"] is False
    assert sla_sweep(now=due + timedelta(hours=1))["breach"] == 0


def test_consumer_message_after_answer_opens_next_response(category, agent):
    ticket = ticket_filed(category, at=MON_10)
    with time_machine.travel(at(23, 11), tick=False):
        services.ticket_reply(ticket=ticket, author=agent, body="请提供付款截图")
    assert not SLATarget.objects.filter(ticket=ticket, kind="next_response").exists()

    # Tue 16:00: next response, 3 working days = 27 h: Tue 2 h, Wed 11, Thu 20, Fri 09–16 → Fri 16:00.
    with time_machine.travel(at(24, 16), tick=False):
        services.ticket_consumer_message(ticket=ticket, body="截图已上传")
    following = target(ticket, "next_response")
    assert following.cycle == 1
    assert following.started_at == at(24, 16)
    assert following.due_at == at(27, 16)
    # A second message while the reply is owed opens nothing more.
    with time_machine.travel(at(24, 17), tick=False):
        services.ticket_consumer_message(ticket=ticket, body="还有问题吗？")
    assert SLATarget.objects.filter(ticket=ticket, kind="next_response").count() == 1

    with time_machine.travel(at(25, 9), tick=False):
        services.ticket_reply(ticket=ticket, author=agent, body="已收到")
    assert target(ticket, "next_response").status == SLATarget.Status.MET
    # The next message after that answer opens cycle 2.
    with time_machine.travel(at(25, 10), tick=False):
        services.ticket_consumer_message(ticket=ticket, body="谢谢，什么时候到账？")
    assert target(ticket, "next_response", cycle=2).due_at == at(30, 10)


def test_messages_on_a_new_ticket_do_not_open_a_second_response_target(category):
    ticket = ticket_filed(category, at=MON_10)
    with time_machine.travel(at(23, 12), tick=False):
        services.ticket_consumer_message(ticket=ticket, body="补充说明")
    assert list(ticket.targets.values_list("kind", flat=True).order_by("id")) == ["first_response", "resolution"]


def test_pending_pauses_resolution_and_owes_no_response_consumer_reply_resumes(category, agent):
    ticket = ticket_filed(category, at=MON_10)
    with time_machine.travel(at(23, 11), tick=False):
        services.ticket_reply(ticket=ticket, author=agent, body="请提供订单截图")
    with time_machine.travel(at(23, 12), tick=False):
        services.ticket_change_status(ticket=ticket, status="pending", actor=agent)

    resolution = target(ticket, "resolution")
    assert resolution.status == SLATarget.Status.PAUSED
    assert resolution.due_at is None
    assert resolution.next_step_at is None
    ticket.refresh_from_db()
    assert ticket.due_at is None  # nothing is owed while we wait on the consumer

    # Two days later nothing escalates.
    assert sla_sweep(now=at(25, 12)) == {
        "warning": 0, "breach": 0, "level2": 0, "merchant_warning": 0, "merchant_missed": 0,
        "tickets": 0, "batches": 0,
    }  # fmt: skip

    # Wed 15:00 the consumer replies. Resolution used 2 h (Mon 10–12); 88 h remain:
    # Wed 3 h, then Thu..Tue 2026-12-08 (9 working days, 81 h) → 84 h, Wed 2026-12-09 09–13 → 13:00.
    with time_machine.travel(at(25, 15), tick=False):
        services.ticket_consumer_message(ticket=ticket, body="截图在这里")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    resolution.refresh_from_db()
    assert resolution.status == SLATarget.Status.RUNNING
    assert resolution.due_at == at(9, 13, month=12)
    # And a reply is owed again: 27 h from Wed 15:00 → Wed 3, Thu 12, Fri 21, Mon 09–15 → Mon 15:00.
    assert target(ticket, "next_response").due_at == at(30, 15)
    assert "target_paused" in kinds(ticket) and "target_resumed" in kinds(ticket)


def test_pending_without_reply_cancels_the_owed_response(category, agent):
    ticket = ticket_filed(category, at=MON_10)
    with time_machine.travel(at(23, 12), tick=False):
        services.ticket_change_status(ticket=ticket, status="pending", actor=agent)
    assert target(ticket, "first_response").status == SLATarget.Status.CANCELLED


def test_resolve_then_consumer_reply_reopens_with_new_resolution_cycle(category, agent):
    ticket = ticket_filed(category, at=MON_10)
    with time_machine.travel(at(23, 11), tick=False):
        services.ticket_reply(ticket=ticket, author=agent, body="退款已处理")
    with time_machine.travel(at(23, 12), tick=False):
        services.ticket_change_status(ticket=ticket, status="resolved", actor=agent)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    assert ticket.resolved_at == at(23, 12)
    assert target(ticket, "resolution").status == SLATarget.Status.MET
    assert ticket.due_at is None

    with time_machine.travel(at(24, 9), tick=False):
        services.ticket_consumer_message(ticket=ticket, body="还是没有到账")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.resolved_at is None
    # New resolution cycle from Tue 09:00: 90 h = Tue..Fri (36 h) + Mon..Fri (45 h) = 81 h,
    # Mon 2026-12-07 9 h → 90 h at 18:00.
    assert target(ticket, "resolution", cycle=2).due_at == at(7, 18, month=12)
    assert "reopened" in kinds(ticket)


def test_closed_ticket_refuses_messages(category, agent):
    ticket = ticket_filed(category, at=MON_10)
    services.ticket_change_status(ticket=ticket, status="closed", actor=agent, now=at(23, 12))
    with pytest.raises(InvalidTransition):
        services.ticket_consumer_message(ticket=ticket, body="?", now=at(23, 13))
    with pytest.raises(InvalidTransition):
        services.ticket_change_status(ticket=ticket, status="open", actor=agent, now=at(23, 13))
    assert not ticket.targets.filter(status__in=["running", "paused"]).exists()


def test_priority_change_recomputes_open_targets_from_clock_start(category, agent):
    ticket = ticket_filed(category, at=MON_10)
    with time_machine.travel(at(23, 14), tick=False):
        services.ticket_change_priority(ticket=ticket, priority="urgent", actor=agent)
    # Urgent: 24 h and 72 h of calendar time from the clock's start (Mon 10:00), not from 14:00.
    assert target(ticket, "first_response").due_at == at(24, 10)
    assert target(ticket, "resolution").due_at == at(26, 10)
    assert target(ticket, "first_response").clock == "calendar"
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"
    assert ticket.due_at == at(24, 10)
    assert kinds(ticket)[-3:] == ["priority_changed", "target_recomputed", "target_recomputed"]


def test_priority_change_never_repeats_a_step_already_taken(low_category, agent):
    ticket = ticket_filed(low_category, at=MON_10)
    # Low: first response 45 h; warning at 75 % = 33.75 h: Mon 8, Tue 17, Wed 26, Thu 09–16:45.
    assert sla_sweep(now=at(26, 16, 45))["warning"] == 0
    result = sla_sweep(now=at(26, 16, 46))
    assert result["warning"] == 1
    with time_machine.travel(at(26, 17), tick=False):
        services.ticket_change_priority(ticket=ticket, priority="normal", actor=agent)
    # Normal first response: 27 h from Mon 10:00 → Thu 10:00 — already past: the breach is
    # due at once, the warning is not taken again.
    first = target(ticket, "first_response")
    assert first.due_at == at(26, 10)
    assert first.steps_taken == 1
    sla_sweep(now=at(26, 17, 1))
    assert ticket.events.filter(kind="sla_warning", target_kind="first_response").count() == 1
    # The breach is taken once, naming the person's priority change as its cause.
    breach = ticket.events.get(kind="sla_breach", target_kind="first_response")
    assert breach.data["cause"] == "priority_changed"
    # The person's change re-dated the resolution to normal's 90 h from Mon 10:00 → Mon
    # 2026-12-07 10:00. The breach then raised the priority to urgent, which re-dates
    # nothing: no resolution step is taken.
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"
    assert target(ticket, "resolution").due_at == datetime(2026, 12, 7, 10, tzinfo=SH)
    assert not ticket.events.filter(target_kind="resolution", step__isnull=False).exists()
    assert sla_sweep(now=at(26, 17, 2))["tickets"] == 0


def test_policy_edit_applies_to_targets_opened_after_it(category):
    before = ticket_filed(category, at=MON_10)
    SLAPolicy.objects.filter(priority="normal").update(first_response_amount=1)
    after = ticket_filed(category, at=MON_10 + timedelta(minutes=5))
    assert target(before, "first_response").due_at == at(26, 10)
    # 1 working day = 9 h from Mon 10:05: Mon 7 h 55 m, Tue 09:00 + 1 h 05 m → Tue 10:05.
    assert target(after, "first_response").due_at == at(24, 10, 5)


def test_forward_to_merchant_and_merchant_reply(category, agent):
    merchant = MerchantFactory(name="好运来旗舰店")
    merchant_user = MerchantUserFactory(merchant=merchant).user
    ticket = ticket_filed(category, at=MON_10, merchant=merchant)

    with time_machine.travel(at(23, 11), tick=False):
        services.ticket_forward_to_merchant(ticket=ticket, actor=agent, note="请尽快处理退款")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.AWAITING_MERCHANT
    reply_target = target(ticket, "merchant_reply")
    # 24 calendar hours, weekends and evenings included.
    assert reply_target.clock == "calendar"
    assert reply_target.due_at == at(24, 11)
    assert ticket.notifications.filter(kind="merchant_forwarded", recipient=merchant.contact_email).exists()

    other = MerchantUserFactory().user
    with pytest.raises(ApplicationError):
        services.ticket_merchant_reply(ticket=ticket, author=other, body="不是我们店", now=at(23, 12))

    with time_machine.travel(at(23, 20), tick=False):
        services.ticket_merchant_reply(ticket=ticket, author=merchant_user, body="已为您退款")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert target(ticket, "merchant_reply").status == SLATarget.Status.MET
    # A merchant's reply is not the platform's answer: the first response is still owed.
    assert target(ticket, "first_response").status == SLATarget.Status.RUNNING
    assert ticket.messages.filter(author_kind="merchant", is_public=True).count() == 1


def test_every_change_writes_an_event(category, agent, supervisor):
    ticket = ticket_filed(category, at=MON_10)
    steps = [
        lambda now: services.ticket_assign(ticket=ticket, assignee=agent, actor=supervisor, now=now),
        lambda now: services.ticket_reply(ticket=ticket, author=agent, body="note", public=False, now=now),
        lambda now: services.ticket_reply(ticket=ticket, author=agent, body="reply", now=now),
        lambda now: services.ticket_change_priority(ticket=ticket, priority="low", actor=agent, now=now),
        lambda now: services.ticket_change_status(ticket=ticket, status="pending", actor=agent, now=now),
        lambda now: services.ticket_consumer_message(ticket=ticket, body="more", now=now),
        lambda now: services.ticket_change_status(ticket=ticket, status="resolved", actor=agent, now=now),
    ]
    for minutes, step in enumerate(steps, start=1):
        count = ticket.events.count()
        step(MON_10 + timedelta(minutes=minutes))
        assert ticket.events.count() > count
    assert {
        "assigned",
        "internal_note",
        "public_reply",
        "priority_changed",
        "status_changed",
        "consumer_message",
    } <= set(kinds(ticket))
