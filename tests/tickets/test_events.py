"""The event builders: one per kind, each the one place that spells its payload.
The keys asserted here are read by the desk's timeline, the webhooks, the
merchant portal, the reports and the merchants app: they must not change."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tickets import events
from tickets.events import Event, EventRow, event_record, event_values
from tickets.models import Message, SLATarget, Ticket, TicketEvent

SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
TUE_10 = datetime(2026, 11, 24, 10, 0, tzinfo=SH)

# Unsaved objects with the ids a builder reads: the builders touch no database.
TICKET = Ticket(pk=41, reference="CS-20261123-000041")
KEPT = Ticket(pk=7, reference="CS-20261120-000007")
MESSAGE = Message(pk=301)
TARGET = SLATarget(pk=90, kind="first_response", cycle=1, due_at=TUE_10)
MERCHANT_TARGET = SLATarget(pk=91, kind="merchant_reply", cycle=2, due_at=TUE_10)
PAUSED = SLATarget(pk=92, kind="resolution", cycle=1, due_at=None)


BUILT = {
    "created": (
        events.created(channel="web", priority="normal"),
        Event("created", {"channel": "web", "priority": "normal"}),
    ),
    "created, a follow-up": (
        events.created(channel="phone", priority="high", follows=KEPT),
        Event("created", {"channel": "phone", "priority": "high", "follows": "CS-20261120-000007"}),
    ),
    "consumer_message": (
        events.consumer_message(message=MESSAGE, files=2),
        Event("consumer_message", {"message": 301, "files": 2}),
    ),
    "public_reply": (events.public_reply(message=MESSAGE), Event("public_reply", {"message": 301})),
    "internal_note": (events.internal_note(message=MESSAGE), Event("internal_note", {"message": 301})),
    "forwarded_to_merchant": (
        events.forwarded_to_merchant(target=MERCHANT_TARGET, merchant_id=5, note="请回复"),
        Event("forwarded_to_merchant", {"note": "请回复", "merchant": 5}, MERCHANT_TARGET),
    ),
    "merchant_replied": (events.merchant_replied(message=MESSAGE), Event("merchant_replied", {"message": 301})),
    "status_changed, by a person": (
        events.status_changed(old="new", new="open"),
        Event("status_changed", {"from": "new", "to": "open"}),
    ),
    "status_changed, by the sweep": (
        events.status_changed(old="awaiting_merchant", new="open", reason="merchant_missed"),
        Event("status_changed", {"from": "awaiting_merchant", "to": "open", "reason": "merchant_missed"}),
    ),
    "priority_changed": (
        events.priority_changed(old="low", new="normal", reason="sla_breach"),
        Event("priority_changed", {"from": "low", "to": "normal", "reason": "sla_breach"}),
    ),
    "assigned, by a person": (events.assigned(old=None, new=12), Event("assigned", {"from": None, "to": 12})),
    "assigned, by the sweep": (
        events.assigned(old=12, new=3, reason="sla_breach"),
        Event("assigned", {"from": 12, "to": 3, "reason": "sla_breach"}),
    ),
    "reopened": (events.reopened(old="resolved"), Event("reopened", {"from": "resolved"})),
    "keyword_alert": (events.keyword_alert(words=["投诉", "315"]), Event("keyword_alert", {"words": ["投诉", "315"]})),
    "keyword_alert, with the keywords' ids": (
        events.keyword_alert(words=["投诉"], keyword_ids=[4]),
        Event("keyword_alert", {"words": ["投诉"], "keyword_ids": [4]}),
    ),
    "survey_answered": (
        events.survey_answered(rating=4, resolution=2),
        Event("survey_answered", {"rating": 4, "resolution": 2}),
    ),
    "merged": (
        events.merged(into=KEPT),
        Event("merged", {"into": "CS-20261120-000007", "into_id": 7}),
    ),
    "merged_in": (
        events.merged_in(source=TICKET, messages=3, also=["CS-20261122-000002"]),
        Event(
            "merged_in",
            {"source": "CS-20261123-000041", "source_id": 41, "messages": 3, "also": ["CS-20261122-000002"]},
        ),
    ),
    "target_opened": (
        events.target_opened(target=TARGET),
        Event("target_opened", {"due_at": "2026-11-24T10:00:00+08:00"}, TARGET),
    ),
    "target_met, late": (
        events.target_met(target=TARGET, late=True),
        Event("target_met", {"due_at": "2026-11-24T10:00:00+08:00", "late": True}, TARGET),
    ),
    "target_met, paused when met": (
        events.target_met(target=PAUSED, late=False),
        Event("target_met", {"due_at": None, "late": False}, PAUSED),
    ),
    "target_cancelled": (
        events.target_cancelled(target=TARGET),
        Event("target_cancelled", {"due_at": "2026-11-24T10:00:00+08:00", "late": False}, TARGET),
    ),
    "target_paused": (events.target_paused(target=PAUSED), Event("target_paused", {}, PAUSED)),
    "target_resumed": (
        events.target_resumed(target=TARGET),
        Event("target_resumed", {"due_at": "2026-11-24T10:00:00+08:00"}, TARGET),
    ),
    "target_recomputed": (
        events.target_recomputed(target=TARGET, before=MON_10, reason="priority_changed"),
        Event(
            "target_recomputed",
            {"from": "2026-11-23T10:00:00+08:00", "to": "2026-11-24T10:00:00+08:00", "reason": "priority_changed"},
            TARGET,
        ),
    ),
    "sla_warning": (events.sla_warning(target=TARGET), Event("sla_warning", {}, TARGET, 1)),
    "sla_breach": (
        events.sla_breach(target=TARGET),
        Event("sla_breach", {"due_at": "2026-11-24T10:00:00+08:00"}, TARGET, 2),
    ),
    "sla_level2": (events.sla_level2(target=TARGET), Event("sla_level2", {}, TARGET, 3)),
    "merchant_missed": (
        events.merchant_missed(target=MERCHANT_TARGET, merchant_id=5),
        Event("merchant_missed", {"merchant": 5}, MERCHANT_TARGET, 2),
    ),
    "chat_offered": (
        events.chat_offered(agent_id=7, expires_at=MON_10),
        Event("chat_offered", {"agent": 7, "expires_at": "2026-11-23T10:00:00+08:00"}),
    ),
    "chat_passed": (
        events.chat_passed(agent_id=7, reason="lapsed"),
        Event("chat_passed", {"agent": 7, "reason": "lapsed"}),
    ),
    "chat_accepted": (events.chat_accepted(agent_id=7), Event("chat_accepted", {"agent": 7})),
    "chat_queued": (
        events.chat_queued(reason="nobody_available"),
        Event("chat_queued", {"reason": "nobody_available"}),
    ),
    "chat_ended": (events.chat_ended(), Event("chat_ended", {})),
}


@pytest.mark.parametrize(("built", "expected"), BUILT.values(), ids=BUILT.keys())
def test_builder_spells_its_payload(built, expected):
    assert built == expected


def test_every_kind_has_its_builder():
    assert {kind for kind in TicketEvent.Kind.values if callable(getattr(events, kind, None))} == set(
        TicketEvent.Kind.values
    )
    assert {name.split(",")[0] for name in BUILT} == set(TicketEvent.Kind.values)


def test_an_event_is_stamped_with_its_ticket_instant_and_actor():
    values = event_values(events.sla_breach(target=MERCHANT_TARGET), ticket=TICKET, at=MON_10)
    assert values._asdict() == {
        "ticket_id": 41,
        "kind": "sla_breach",
        "created_at": MON_10,
        "actor_id": None,
        "target_id": 91,
        "target_kind": "merchant_reply",
        "cycle": 2,
        "step": 2,
        "data": {"due_at": "2026-11-24T10:00:00+08:00"},
    }
    assert EventRow.written(8, values) == EventRow(8, *values)


@pytest.mark.django_db
def test_a_stored_event_reads_back_as_built(category, agent):
    from tickets import services

    ticket = services.ticket_create(
        category=category, subject="没收到货", body="快递显示签收但我没有收到。", requester_name="王五",
        requester_phone="13700137000", now=MON_10,
    )  # fmt: skip
    target = ticket.targets.get(kind="first_response")

    stored = event_record(
        events.status_changed(old=Ticket.Status.NEW, new=Ticket.Status.OPEN, reason="merchant_missed"),
        ticket=ticket,
        at=TUE_10,
        actor=agent,
    )
    breach = event_record(events.sla_breach(target=target), ticket=ticket, at=TUE_10)

    stored.refresh_from_db()
    breach.refresh_from_db()
    assert (stored.kind, stored.actor, stored.data) == (
        "status_changed",
        agent,
        {"from": "new", "to": "open", "reason": "merchant_missed"},
    )
    # Three working days from Mon 10:00: Thu 10:00 in Shanghai, 02:00 UTC (the target was read from the database).
    assert (breach.target, breach.target_kind, breach.cycle, breach.step) == (target, "first_response", 1, 2)
    assert breach.data == {"due_at": "2026-11-26T02:00:00+00:00"}
    assert EventRow.of(breach).data == breach.data
