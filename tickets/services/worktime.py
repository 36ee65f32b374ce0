"""Agents' working time on tickets (``WorkTime``): the seconds each spent writing
on a ticket, per day in the site's time zone. The desk's reply box reports it
(``desk.presence.presence_beat``); the volume report's staffing reads it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection


def work_time_add(*, ticket_id: int, user_id: int, seconds: int, now: datetime) -> None:
    """Add ``seconds`` of ``user_id``'s work on ``ticket_id`` to the day of ``now``
    (Asia/Shanghai, ``settings.TIME_ZONE``). One atomic upsert: two beats at once
    both count, and neither is lost. Nothing is written for no time (a first beat
    records nothing, so that a ticket only opened counts no work)."""
    if seconds <= 0:
        return
    day = now.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO tickets_worktime (ticket_id, user_id, day, seconds) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (ticket_id, user_id, day) DO UPDATE SET seconds = tickets_worktime.seconds + EXCLUDED.seconds",
            [ticket_id, user_id, day, seconds],
        )
