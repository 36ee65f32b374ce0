"""The managers' daily digest: yesterday's compliance, the breaches, and the
oldest open tickets, emailed through the outbox once per day (beat runs
``reports.tasks.daily_digest_task`` every morning; a re-run sends nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from reports.selectors import Period, TargetFigures, escalation_counts, sla_decided
from tickets.models import OPEN_STATUSES, Notification, ReportDigest, Ticket, TicketEvent
from tickets.notifications import notifications_queue
from tickets.recipients import managers, user_language

OLDEST = 10
BREACHES = 20


@dataclass
class Digest:
    day: date
    targets: list[TargetFigures]
    warnings: int
    level1: int
    level2: int
    breaches: list[TicketEvent]
    breach_count: int
    oldest: list[Ticket]
    open_count: int
    overdue_count: int

    @property
    def total(self) -> TargetFigures:
        return TargetFigures.total(self.targets)


def digest_day(now: datetime) -> date:
    """The day a digest sent at ``now`` reports on: yesterday, in the site's time zone."""
    return now.astimezone(ZoneInfo(settings.TIME_ZONE)).date() - timedelta(days=1)


def digest_build(*, day: date) -> Digest:
    """Every ticket (the digest goes to managers, who see everything)."""
    period = Period(day, day, ZoneInfo(settings.TIME_ZONE))
    counts = escalation_counts(period=period, reader=None)
    breach_events = TicketEvent.objects.filter(
        kind__in=(TicketEvent.Kind.SLA_BREACH, TicketEvent.Kind.MERCHANT_MISSED),
        created_at__gte=period.start,
        created_at__lt=period.end,
    )
    open_tickets = Ticket.objects.filter(status__in=OPEN_STATUSES)
    return Digest(
        day=day,
        targets=sla_decided(period=period, reader=None),
        warnings=counts["warnings"],
        level1=counts["level1"],
        level2=counts["level2"],
        breaches=list(breach_events.select_related("ticket", "ticket__team").order_by("created_at", "id")[:BREACHES]),
        breach_count=breach_events.count(),
        oldest=list(open_tickets.select_related("team", "assignee").order_by("created_at", "id")[:OLDEST]),
        open_count=open_tickets.count(),
        overdue_count=open_tickets.filter(is_overdue=True).count(),
    )


def digest_render(digest: Digest, *, now: datetime) -> tuple[str, str]:
    """Subject and plain-text body in the active language."""
    site = settings.SITE_URL.rstrip("/")
    body = render_to_string(
        "reports/digest.txt",
        {
            "digest": digest,
            "now": now,
            "desk_url": site + reverse("desk:queue"),
            "report_url": site + reverse("reports:sla"),
        },
    )
    compliance = "—" if digest.total.compliance is None else f"{digest.total.compliance}%"
    subject = translation.gettext("Daily SLA digest for %(day)s: %(compliance)s met, %(breaches)s breaches") % {
        "day": date_format(digest.day, "SHORT_DATE_FORMAT"),
        "compliance": compliance,
        "breaches": digest.breach_count,
    }
    return subject[:255], body


def daily_digest_send(*, now: datetime | None = None) -> int | None:
    """Email yesterday's digest to every manager, once: the ReportDigest row for
    the day is the guard (a second run, or a second worker, finds it and sends
    nothing). Returns the number of emails queued, None when already sent."""
    now = now or timezone.now()
    day = digest_day(now)
    with transaction.atomic():
        record, created = ReportDigest.objects.get_or_create(day=day, defaults={"created_at": now})
        if not created:
            return None
        digest = digest_build(day=day)
        notifications = []
        for manager in managers():
            language = user_language(manager)
            with translation.override(language), timezone.override(ZoneInfo(settings.TIME_ZONE)):
                subject, body = digest_render(digest, now=now)
            notifications.append(
                Notification(
                    kind="daily_digest",
                    recipient=manager.email,
                    recipient_user=manager,
                    language=language,
                    subject=subject,
                    body=body,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        notifications_queue(notifications)
        record.recipients = len(notifications)
        record.save(update_fields=["recipients"])
    return len(notifications)
