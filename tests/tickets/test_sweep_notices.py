"""The sweep's notices are written as their values and rendered when delivered
(tickets.notifications, ``notifications_insert(deferred=True)``; issue 21): what a
reader gets is the text the same notice rendered at once would have been, in the
language the reader had when the step was taken, with the ticket as it was then."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from tests.builders import ticket_filed
from tickets import services
from tickets.escalation import sla_sweep
from tickets.models import Notification, SLATarget, StaffProfile, Ticket
from tickets.notifications import notification_build
from tickets.outbox import EMAIL, outbox_deliver

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
# Normal: first response 3 working days = 27 h from Mon 10:00 → Thu 2026-11-26 10:00.
THU_DUE = datetime(2026, 11, 26, 10, 0, tzinfo=SH)


def test_a_breach_notice_reads_as_if_rendered_at_once_in_its_readers_language(category, supervisor, agent):
    # given a normal complaint of the agent's, and a supervisor who reads English
    StaffProfile.objects.create(user=supervisor, language="en")
    ticket = ticket_filed(category, at=MON_10, subject="退款七天没到账")
    services.ticket_assign(ticket=ticket, assignee=agent, now=MON_10)

    # when the sweep takes its first response's warning and breach
    sla_sweep(now=THU_DUE + timedelta(minutes=1))

    # then the notices are written unrendered, with the values they say
    breach = Notification.objects.get(ticket=ticket, kind="sla_breach")
    warning = Notification.objects.get(ticket=ticket, kind="sla_warning")
    assert (breach.subject, breach.body, breach.language) == ("", "", "en")
    assert breach.context == {
        "reference": ticket.reference,
        "subject": "退款七天没到账",
        "target": "first_response",
        "due": "2026-11-26T02:00:00+00:00",
        "priority": "urgent",  # raised by the breach, before the notice
        "merchant": "",
    }
    # and each, once delivered, is what rendering it at once would have given
    for notice, reader_language, extra in ((breach, "en", {}), (warning, "zh-hans", {"percent": 75})):
        at_once = notification_build(
            kind=notice.kind,
            recipient=notice.recipient,
            language=reader_language,
            context={
                "reference": ticket.reference,
                "subject": "退款七天没到账",
                "target": SLATarget.Kind.FIRST_RESPONSE.label,
                "due": THU_DUE,
                "priority": Ticket.Priority.URGENT.label
                if notice.kind == "sla_breach"
                else Ticket.Priority.NORMAL.label,
                "merchant": "",
                **extra,
            },
            at=notice.created_at,
        )
        with time_machine.travel(THU_DUE + timedelta(minutes=2), tick=False):
            assert outbox_deliver(channel=EMAIL, ids=[notice.pk]) == {"sent": 1}
        sent = mail.outbox[-1]
        assert (sent.subject, sent.body) == (at_once.subject, at_once.body)
        notice.refresh_from_db()
        assert (notice.subject, notice.body) == (at_once.subject, at_once.body)  # kept: the admin shows it
    assert "First response on" in mail.outbox[0].body and "The ticket is now Urgent" in mail.outbox[0].body
    assert "2026年11月26日 10:00（北京时间）" in mail.outbox[1].body


def test_a_notice_says_what_was_true_when_the_step_was_taken(category, supervisor, agent):
    # given a breach swept, then, before its notice goes out, a person lowers the
    # priority and the supervisor switches the desk to English
    ticket = ticket_filed(category, at=MON_10)
    sla_sweep(now=THU_DUE + timedelta(minutes=1))
    services.ticket_change_priority(ticket=ticket, priority="low", actor=supervisor, now=THU_DUE + timedelta(minutes=2))
    StaffProfile.objects.create(user=supervisor, language="en")
    breach = Notification.objects.get(ticket=ticket, kind="sla_breach")

    # when it is delivered
    with time_machine.travel(THU_DUE + timedelta(minutes=3), tick=False):
        outbox_deliver(channel=EMAIL, ids=[breach.pk])

    # then it says what the breach did (urgent), in the language read then (Chinese)
    [sent] = mail.outbox
    assert "紧急" in sent.body and "低" not in sent.body
    assert sent.subject == f"[{ticket.reference}] 首次响应已超时，已升级给您"
