"""Compiles a :class:`~tickets.models.BusinessCalendar` row into the pure
:class:`~tickets.sla.calendar.WorkingCalendar`, once per process and version.

A year outside the calendar's ``official_years`` falls back to the statutory
holidays and their 补假 (``tickets.sla.statutory``), provisionally, for the years
of :data:`FALLBACK_YEARS`; the dates an administrator entered win.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from tickets.models import BusinessCalendar, CalendarDay
from tickets.sla import statutory
from tickets.sla.calendar import WorkingCalendar
from tickets.sla.festivals import Festival

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_compiled: dict[int, tuple[int, WorkingCalendar]] = {}
_warned_years: set[tuple[int, int]] = set()

# The years in which a year without the official schedule falls back to the
# statutory holidays (beyond them: Monday–Friday plus the days entered). Each year
# costs about 7 ms of lunar calendar the first time a clock reaches it, once per
# process, not at compile time.
FALLBACK_YEARS = (2000, 2100)


def working_calendar(calendar: BusinessCalendar) -> WorkingCalendar:
    """The compiled calendar for ``calendar`` (two queries on a cache miss, none on a hit)."""
    hit = _compiled.get(calendar.pk)
    if hit is not None and hit[0] == calendar.version:
        return hit[1]
    compiled = compile_calendar(calendar, calendar.days.values_list("date", "kind"), calendar.official_years)
    with _lock:
        _compiled[calendar.pk] = (calendar.version, compiled)
    return compiled


def compile_calendar(
    calendar: BusinessCalendar, days: Iterable[tuple[date, str]], official_years: Iterable[int]
) -> WorkingCalendar:
    """``calendar``'s working periods with ``days`` (date, kind) and ``official_years``:
    the calendar as stored, or as an edit not yet saved would make it."""
    periods = tuple(calendar.periods.order_by("opens").values_list("opens", "closes"))
    holidays, workdays = set(), set()
    for day, kind in days:
        (workdays if kind == CalendarDay.Kind.WORKDAY else holidays).add(day)
    return WorkingCalendar(
        tz=ZoneInfo(calendar.time_zone),
        periods=periods,
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
        official_years=frozenset(official_years),
        fallback_years=FALLBACK_YEARS,
    )


def working_calendars(ids: Iterable[int]) -> dict[int, WorkingCalendar]:
    """Compiled calendars by id: one query to read the versions, more only for a
    calendar that changed since this process last compiled it."""
    return {cal.pk: working_calendar(cal) for cal in BusinessCalendar.objects.filter(pk__in=set(ids))}


def new_version() -> int:
    """A fresh random version stamp. Not a counter: a bump inside a transaction
    that rolls back must never be reused by a later edit, or a process that
    compiled the rolled-back contents would keep serving them."""
    return secrets.randbelow(2**31 - 2) + 1


def calendar_changed(calendar_id: int) -> None:
    """Record that a calendar, its periods or its days changed (invalidates caches)."""
    BusinessCalendar.objects.filter(pk=calendar_id).update(version=new_version())


def warn_if_uncovered(compiled: WorkingCalendar, name: str, start: datetime, end: datetime) -> list[int]:
    """Log, once per process and year, that a deadline relies on a year whose
    official schedule is missing (the calculator then counts the statutory
    holidays, provisionally, and knows no make-up working day)."""
    missing = compiled.missing_years(start, end)
    for year in missing:
        key = (id(compiled), year)
        if key not in _warned_years:
            _warned_years.add(key)
            logger.warning(
                "Calendar %r has no official schedule for %s: deadlines that year count the statutory "
                "holidays and their days in lieu (provisional) plus the days an administrator entered; "
                "that year's make-up working days are unknown.",
                name,
                year,
            )
    return missing


def calendars_missing_years(today) -> list[tuple[BusinessCalendar, list[int]]]:
    """Calendars whose official schedule is missing for this year or next, the
    years a running clock is likely to need (shown to administrators)."""
    wanted = {today.year, today.year + 1}
    result = []
    for calendar in BusinessCalendar.objects.order_by("name"):
        missing = sorted(wanted - set(calendar.official_years))
        if missing:
            result.append((calendar, missing))
    return result


def provisional_festivals(compiled: WorkingCalendar, year: int) -> list[tuple[Festival, list[date], list[date]]]:
    """The provisional days off of ``year`` by festival, in date order: the festival,
    its days and the days given back for it (补假). The dates an administrator
    entered are not provisional and are left out, and so is a festival with no
    day left. Empty for a year with the official schedule or beyond the fallback."""
    if not compiled.falls_back(year):
        return []
    in_lieu = statutory.days_in_lieu(year)
    result = []
    for festival, days in statutory.festival_days(year).items():
        own = [day for day in days if compiled.is_provisional(day)]
        given = [day for day, owed in in_lieu.items() if owed == festival and compiled.is_provisional(day)]
        if own or given:
            result.append((festival, own, given))
    return result
