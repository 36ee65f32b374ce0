"""The one way tests make tickets.

* ``ticket_filed``: a complaint filed through the real intake service
  (``tickets.services.ticket_create``), with its first message, targets, events
  and notifications, exactly as a consumer's filing leaves them. Every test that
  needs "a ticket" starts here, and says only what matters to it; ``picture``
  is a piece of evidence to file with it.
* ``ticket_row``, ``target_row``, ``event_row``: rows written directly, as the SLA
  engine would have left them, for the tests whose figures are worked out by hand
  from a history no sequence of service calls could produce cheaply (the reports).

Staff, teams, categories and merchants come from ``tests.factories``; many open
tickets at once from ``tests.bulk``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from tickets import services
from tickets.models import BusinessCalendar, Category, SLATarget, Ticket, TicketEvent
from tickets.uploads import CleanFile, evidence_clean

SH = ZoneInfo("Asia/Shanghai")

# What a consumer typically files: a refund that did not arrive, with a phone
# number to call back and no email address. Tests override what they test.
COMPLAINT = {
    "subject": "退款七天没到账",
    "body": "申请退款七天了还没有到账。",
    "requester_name": "李娜",
    "requester_phone": "13812345678",
}


# 王小明 left both a phone and an email address (the admin's and the evidence tests'
# complaint): ``ticket_filed(category, **WANG)``.
WANG = {
    "subject": "退款一直没有到账",
    "body": "订单 2026112312345 退款七天了还没到账。",
    "requester_name": "王小明",
    "requester_email": "wang@example.cn",
    "requester_phone": "13800138000",
}


def ticket_filed(category: Category, *, at: datetime | None = None, **fields) -> Ticket:
    """A ticket of ``category`` filed through the intake service, with the fields of
    ``COMPLAINT`` unless ``fields`` say otherwise (any argument of ``ticket_create``:
    ``merchant``, ``channel``, ``evidence``, ``requester_email`` …).

    ``at``: the instant of filing, the service's ``now`` (its reference, targets
    and events are dated then); by default, now."""
    return services.ticket_create(category=category, now=at, **(COMPLAINT | fields))


def hours_ago(hours: float) -> datetime:
    """An instant ``hours`` before now, for ``ticket_filed(at=…)``."""
    return timezone.now() - timedelta(hours=hours)


def picture(name: str = "截图.png") -> CleanFile:
    """A small PNG as the evidence checks pass it, for ``evidence=[…]``."""
    buffer = BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "PNG")
    return evidence_clean(SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png"))


# --- Rows as the SLA engine leaves them (hand-worked histories) ----------------------


def ticket_row(category: Category, reference: str, created: datetime, **fields) -> Ticket:
    """A ticket row and nothing else: no message, no target, no event. The test
    writes the targets and events it needs (``target_row``, ``event_row``)."""
    return Ticket.objects.create(
        reference=reference,
        subject=f"投诉 {reference}",
        requester_name="李雷",
        category=category,
        team=category.team,
        priority=fields.pop("priority", category.default_priority),
        status=fields.pop("status", Ticket.Status.OPEN),
        created_at=created,
        **fields,
    )


def target_row(ticket: Ticket, kind: str, *, started: datetime, hours: int, **state) -> SLATarget:
    """A business-clock target of ``hours`` on the default calendar, due ``hours``
    after ``started`` unless ``state`` gives ``due_at``; ``state`` sets the rest
    (status, steps taken, when met, the clock seconds recorded)."""
    return SLATarget.objects.create(
        ticket=ticket,
        kind=kind,
        clock="business",
        duration=timedelta(hours=hours),
        calendar=BusinessCalendar.objects.get(is_default=True),
        started_at=started,
        due_at=state.pop("due_at", started + timedelta(hours=hours)),
        **state,
    )


def event_row(ticket: Ticket, kind: str, when: datetime, target_kind: str, step: int) -> TicketEvent:
    """An escalation event (a ladder step of a first-cycle target) at ``when``."""
    return TicketEvent.objects.create(
        ticket=ticket, kind=kind, created_at=when, target_kind=target_kind, cycle=1, step=step
    )
