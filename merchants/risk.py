"""Risk signals: patterns that may mean bought or shared merchant accounts,
found by a daily job and reviewed by managers.

* **shared contact**: several merchants with one contact phone (digits only)
  or one contact email (case ignored);
* **new, high volume**: a merchant registered within ``MERCHANT_RISK_NEW_DAYS``
  whose complaints over the window are at or above the
  ``MERCHANT_RISK_VOLUME_PERCENTILE`` (95th) of every merchant with complaints;
* **odd hours**: at least ``MERCHANT_RISK_ODD_SHARE`` of a merchant's portal
  replies in the window written at odd local hours (01:00–06:00 by default);
* **burst**: ``MERCHANT_RISK_BURST_COUNT`` replies or more within
  ``MERCHANT_RISK_BURST_MINUTES`` minutes.

A signal found again is updated in place (one row per kind and key), keeping
a manager's verdict; each carries the evidence it rests on (merchants,
tickets, messages) for the review page to link.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection, transaction
from django.db.models import Count, F, Func, Q, Value
from django.db.models.functions import ExtractHour, Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Merchant
from cs_desk.exceptions import ApplicationError
from merchants.models import MerchantRiskSignal
from merchants.scoring import window_start
from tickets.models import Message, Ticket

Kind = MerchantRiskSignal.Kind
EVIDENCE_LIMIT = 50


class _Digits(Func):
    function = "REGEXP_REPLACE"

    def __init__(self, expression):
        super().__init__(expression, Value(r"[^0-9]"), Value(""), Value("g"))


def _shared_contacts(now: datetime) -> list[tuple[str, list[int], dict]]:
    """Groups of merchants sharing a contact as the records stand (``now`` is not needed)."""
    found = []
    for label, expression, source in (
        ("phone", _Digits(F("contact_phone")), "contact_phone"),
        ("email", Lower(F("contact_email")), "contact_email"),
    ):
        rows = (
            Merchant.objects.exclude(**{source: ""})
            .annotate(value=expression)
            .exclude(value="")
            .values("value")
            .annotate(n=Count("pk"), ids=ArrayAgg("pk", order_by="pk"))
            .filter(n__gte=2)
        )
        for row in rows:
            found.append((f"{label}:{row['value']}", row["ids"], {"field": label, "value": row["value"]}))
    return found


_HIGH_VOLUME = f"""
WITH volume AS (
    SELECT merchant_id, count(*) AS n FROM {Ticket._meta.db_table}
    WHERE merchant_id IS NOT NULL AND created_at > %(start)s AND created_at <= %(now)s
    GROUP BY merchant_id
), cut AS (
    SELECT percentile_cont(%(percentile)s) WITHIN GROUP (ORDER BY n) AS threshold FROM volume
)
SELECT v.merchant_id, v.n, cut.threshold, m.created_at
FROM volume v CROSS JOIN cut JOIN {Merchant._meta.db_table} m ON m.id = v.merchant_id
WHERE m.created_at > %(new_since)s AND v.n >= cut.threshold AND v.n >= %(minimum)s
"""


def _new_high_volume(now: datetime) -> list[tuple[str, list[int], dict]]:
    params = {
        "start": window_start(now),
        "now": now,
        "percentile": settings.MERCHANT_RISK_VOLUME_PERCENTILE,
        "new_since": now - timedelta(days=settings.MERCHANT_RISK_NEW_DAYS),
        "minimum": settings.MERCHANT_RISK_VOLUME_MIN,
    }
    with connection.cursor() as cursor:
        cursor.execute(_HIGH_VOLUME, params)
        rows = cursor.fetchall()
    found = []
    for merchant_id, n, threshold, registered in rows:
        tickets = list(
            Ticket.objects.filter(merchant_id=merchant_id, created_at__gt=params["start"], created_at__lte=now)
            .order_by("-created_at")
            .values_list("pk", flat=True)[:EVIDENCE_LIMIT]
        )
        evidence = {
            "complaints": n,
            "threshold": round(threshold, 1),
            "registered": registered.isoformat(),
            "tickets": tickets,
        }
        found.append((f"merchant:{merchant_id}", [merchant_id], evidence))
    return found


def _merchant_replies(now: datetime):
    return Message.objects.filter(
        author_kind=Message.AuthorKind.MERCHANT,
        created_at__gt=window_start(now),
        created_at__lte=now,
        ticket__merchant_id__isnull=False,
    )


def _odd_hours(now: datetime) -> list[tuple[str, list[int], dict]]:
    start, end = settings.MERCHANT_RISK_ODD_HOURS
    odd = Q(hour__gte=start, hour__lt=end)
    replies = _merchant_replies(now).annotate(hour=ExtractHour("created_at", tzinfo=ZoneInfo(settings.TIME_ZONE)))
    rows = (
        replies.values("ticket__merchant_id")
        .annotate(total=Count("pk"), odd=Count("pk", filter=odd))
        .filter(total__gte=settings.MERCHANT_RISK_ODD_MIN)
    )
    found = []
    for row in rows:
        if row["odd"] < settings.MERCHANT_RISK_ODD_SHARE * row["total"]:
            continue
        merchant_id = row["ticket__merchant_id"]
        messages = list(
            replies.filter(odd, ticket__merchant_id=merchant_id)
            .order_by("-created_at")
            .values_list("pk", "ticket_id")[:EVIDENCE_LIMIT]
        )
        evidence = {
            "replies": row["total"],
            "odd": row["odd"],
            "hours": [start, end],
            "messages": [list(m) for m in messages],
        }
        found.append((f"merchant:{merchant_id}", [merchant_id], evidence))
    return found


_BURSTS = f"""
SELECT merchant_id, created_at, n FROM (
    SELECT t.merchant_id, m.created_at,
           count(*) OVER (
               PARTITION BY t.merchant_id ORDER BY m.created_at
               RANGE BETWEEN %(span)s PRECEDING AND CURRENT ROW
           ) AS n
    FROM {Message._meta.db_table} m JOIN {Ticket._meta.db_table} t ON t.id = m.ticket_id
    WHERE m.author_kind = 'merchant' AND m.created_at > %(start)s AND m.created_at <= %(now)s
      AND t.merchant_id IS NOT NULL
) replies
WHERE n >= %(count)s
ORDER BY merchant_id, n DESC, created_at
"""


def _bursts(now: datetime) -> list[tuple[str, list[int], dict]]:
    span = timedelta(minutes=settings.MERCHANT_RISK_BURST_MINUTES)
    with connection.cursor() as cursor:
        cursor.execute(
            _BURSTS, {"span": span, "start": window_start(now), "now": now, "count": settings.MERCHANT_RISK_BURST_COUNT}
        )
        rows = cursor.fetchall()
    densest: dict[int, tuple[datetime, int]] = {}
    for merchant_id, at, n in rows:
        densest.setdefault(merchant_id, (at, n))  # ordered densest first
    found = []
    for merchant_id, (end, n) in densest.items():
        messages = list(
            _merchant_replies(now)
            .filter(ticket__merchant_id=merchant_id, created_at__gte=end - span, created_at__lte=end)
            .order_by("created_at")
            .values_list("pk", "ticket_id")[:EVIDENCE_LIMIT]
        )
        evidence = {
            "replies": n,
            "minutes": settings.MERCHANT_RISK_BURST_MINUTES,
            "from": (end - span).isoformat(),
            "to": end.isoformat(),
            "messages": [list(m) for m in messages],
        }
        found.append((f"merchant:{merchant_id}", [merchant_id], evidence))
    return found


def risk_signals_detect(*, now: datetime | None = None) -> dict[str, int]:
    """Run every detector; record each finding (new, or updated in place).
    Returns the number found per kind."""
    now = now or timezone.now()
    detectors = {
        Kind.SHARED_CONTACT: _shared_contacts,
        Kind.NEW_HIGH_VOLUME: _new_high_volume,
        Kind.ODD_HOURS: _odd_hours,
        Kind.REPLY_BURST: _bursts,
    }
    counts = {}
    for kind, detect in detectors.items():
        findings = detect(now)
        counts[str(kind)] = len(findings)
        for key, merchant_ids, evidence in findings:
            with transaction.atomic():
                signal, created = MerchantRiskSignal.objects.select_for_update().get_or_create(
                    kind=kind,
                    key=key,
                    defaults={"evidence": evidence, "detected_at": now, "last_seen_at": now},
                )
                if not created:
                    signal.evidence = evidence
                    signal.last_seen_at = now
                    signal.save(update_fields=["evidence", "last_seen_at"])
                signal.merchants.set(merchant_ids)
    return counts


def risk_signal_review(*, signal: MerchantRiskSignal, actor, verdict: str, note: str = "", now=None):
    """A manager confirms or dismisses a signal (or reopens it), with a note."""
    if verdict not in MerchantRiskSignal.Status.values:
        raise ApplicationError(_("Choose confirm, dismiss or reopen."), code="invalid", field="verdict")
    now = now or timezone.now()
    with transaction.atomic():
        signal = MerchantRiskSignal.objects.select_for_update().get(pk=signal.pk)
        signal.status = verdict
        signal.review_note = note.strip()
        signal.reviewed_by = actor if verdict != MerchantRiskSignal.Status.OPEN else None
        signal.reviewed_at = now if verdict != MerchantRiskSignal.Status.OPEN else None
        signal.save(update_fields=["status", "review_note", "reviewed_by", "reviewed_at"])
    return signal
