"""Business time over a working calendar. Pure: no ORM, no clock.

The two functions everything else calls:

* :func:`deadline` — the instant at which ``duration`` of clock time has run
  from ``start``;
* :func:`elapsed` — its inverse, the clock time that runs between two instants.

Business time runs only inside the calendar's working periods on working days.
A working day is Monday–Friday, minus holidays, plus make-up working days (调休).
A year without the official schedule has provisional days off instead: the
statutory holidays the law fixes and the days given back for them (补假,
``tickets.sla.statutory``), less the dates entered by hand.
The walk goes period by period and day by day, never minute by minute: a
15-working-day target across a month of holidays visits about 45 days.
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

from tickets.sla import statutory
from tickets.sla.festivals import Festival

ZERO = timedelta(0)
ONE_DAY = timedelta(days=1)
_RESOLUTION = timedelta(microseconds=1)
# A calendar always has at least five working days in any week that holds no
# overrides, so a walk longer than this means the input was absurd (a duration
# of centuries), not that the calendar has no working time.
MAX_WALK_DAYS = 366 * 200
_NONE: Mapping[date, Festival] = MappingProxyType({})


class ClockKind(enum.StrEnum):
    CALENDAR = "calendar"
    BUSINESS = "business"


class CalendarError(ValueError):
    """The calendar cannot measure business time (no working hours, bad periods)."""


@dataclass(frozen=True)
class WorkingCalendar:
    """An immutable, hashable description of when business time runs.

    ``periods`` are local wall-clock ``(open, close)`` pairs, sorted and
    non-overlapping, e.g. ``((09:00, 12:00), (13:30, 18:00))``.
    ``holidays`` are days off; ``workdays`` are make-up working days. A date in
    both is a working day. ``official_years`` are the years whose official
    schedule is loaded. A year outside them but inside ``fallback_years`` (first,
    last; ``None``: no fallback, plain weekends) takes the statutory days off and
    the days given back for them (补假) as *provisional* days off
    (:meth:`is_provisional`); the dates in ``holidays`` and ``workdays`` win over
    them. The make-up working days of such a year cannot be known (see
    :meth:`missing_years`). Its statutory days are computed the first time a walk
    or a question reaches the year (about 7 ms, once per process), so a calendar
    is cheap to build however wide the span.
    """

    tz: ZoneInfo
    periods: tuple[tuple[time, time], ...]
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    official_years: frozenset[int] = frozenset()
    fallback_years: tuple[int, int] | None = None
    _overrides: tuple[date, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.periods:
            raise CalendarError("A calendar needs at least one working period a day.")
        previous_close: time | None = None
        for opens, closes in self.periods:
            if opens.tzinfo is not None or closes.tzinfo is not None:
                raise CalendarError("Working periods are local wall-clock times without a time zone.")
            if closes <= opens:
                raise CalendarError(f"The working period {opens:%H:%M}–{closes:%H:%M} closes before it opens.")
            if previous_close is not None and opens < previous_close:
                raise CalendarError("Working periods must be in order and must not overlap.")
            previous_close = closes
        if self.fallback_years is not None and self.fallback_years[0] < statutory.FIRST_YEAR:
            raise CalendarError(f"The statutory holidays are known from {statutory.FIRST_YEAR} on.")
        object.__setattr__(self, "_overrides", tuple(sorted(self.holidays | self.workdays)))
        # Working periods of each day as UTC instants, computed once per day: the
        # sweep asks for the same few weeks of days for thousands of targets.
        object.__setattr__(self, "_day_cache", {})

    # -- days ----------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays or day in self._statutory(day.year):
            return False
        return day.weekday() < 5

    def is_provisional(self, day: date) -> bool:
        """Whether ``day`` is off only by the statutory fallback: its year's official
        schedule is missing and nobody entered the date."""
        return day in self._statutory(day.year) and day not in self.holidays and day not in self.workdays

    def falls_back(self, year: int) -> bool:
        """Whether ``year`` counts the statutory days off, provisionally."""
        span = self.fallback_years
        return span is not None and span[0] <= year <= span[1] and year not in self.official_years

    def _statutory(self, year: int) -> Mapping[date, Festival]:
        return statutory.statutory_days(year) if self.falls_back(year) else _NONE

    def covers(self, year: int) -> bool:
        """Whether the official schedule of ``year`` is loaded."""
        return year in self.official_years

    def missing_years(self, start: datetime, end: datetime) -> list[int]:
        """Years touched by ``[start, end]`` without the official schedule: they fall
        back to the statutory holidays, and their make-up working days are unknown."""
        first = start.astimezone(self.tz).year
        last = end.astimezone(self.tz).year
        return [year for year in range(first, last + 1) if year not in self.official_years]

    def _has_override_between(self, first: date, last: date) -> bool:
        """Whether a day of ``first``–``last`` may differ from an ordinary weekday or
        weekend day: an entered date or a statutory day of a fallback year (the weekly
        fast path of :func:`deadline` and :func:`elapsed` walks such weeks day by day)."""
        i = bisect.bisect_left(self._overrides, first)
        if i < len(self._overrides) and self._overrides[i] <= last:
            return True
        return any(first <= day <= last for year in range(first.year, last.year + 1) for day in self._statutory(year))

    # -- periods -------------------------------------------------------------

    def day_periods(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The working periods of ``day`` as aware UTC instants (empty on a day off)."""
        cached = self._day_cache.get(day)
        if cached is None:
            if not self.is_working_day(day):
                cached = ()
            else:
                instants = ((self._instant(day, opens), self._instant(day, closes)) for opens, closes in self.periods)
                # A period wholly inside an hour skipped by a clock change is empty that day.
                cached = tuple((begin, end) for begin, end in instants if end > begin)
            if len(self._day_cache) > 20_000:  # a bound for long-lived processes
                self._day_cache.clear()
            self._day_cache[day] = cached
        return cached

    def _instant(self, day: date, wall: time) -> datetime:
        """The first instant at which the local clock on ``day`` reads ``wall`` or later.

        That is the ordinary conversion (the first occurrence of a repeated time), except
        for a time the clock skips when it goes forward: it means the jump itself, so a
        period loses the time that never happened and periods never overlap or invert.
        """
        local = datetime.combine(day, wall, self.tz)
        instant = local.astimezone(UTC)
        naive = local.replace(tzinfo=None)
        if instant.astimezone(self.tz).replace(tzinfo=None) == naive:
            return instant
        # ``wall`` lies in a gap: fold=1 converts it to an instant before the jump,
        # fold=0 to one after it. Bisect for the jump.
        before, after = local.replace(fold=1).astimezone(UTC), instant
        while after - before > _RESOLUTION:
            middle = before + (after - before) // 2
            if middle.astimezone(self.tz).replace(tzinfo=None) < naive:
                before = middle
            else:
                after = middle
        return after

    @property
    def daily_working_time(self) -> timedelta:
        """Working time of an ordinary working day (what "one working day" means)."""
        cached = self.__dict__.get("_daily_cache")
        if cached is None:
            anchor = date(2001, 1, 1)  # a Monday; wall-clock arithmetic, no DST involved
            cached = sum(
                (datetime.combine(anchor, closes) - datetime.combine(anchor, opens) for opens, closes in self.periods),
                ZERO,
            )
            object.__setattr__(self, "_daily_cache", cached)
        return cached

    def _is_plain_week(self, day: date) -> bool:
        """True when the 7 days from ``day`` hold no override and the zone has a fixed
        offset, so they hold exactly five ordinary working days."""
        return self._fixed_offset and not self._has_override_between(day, day + timedelta(days=6))

    @property
    def _fixed_offset(self) -> bool:
        cached = self.__dict__.get("_fixed_offset_cache")
        if cached is None:
            probe = [datetime(2001, month, 1, 12, tzinfo=self.tz).utcoffset() for month in (1, 4, 7, 10)]
            cached = len(set(probe)) == 1
            object.__setattr__(self, "_fixed_offset_cache", cached)
        return cached


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")


def deadline(
    start: datetime,
    duration: timedelta,
    calendar: WorkingCalendar,
    clock: ClockKind = ClockKind.BUSINESS,
) -> datetime:
    """The instant at which ``duration`` of ``clock`` time has run from ``start``.

    Calendar time simply adds. Business time runs only inside working periods; a
    clock started outside working hours starts at the next opening, and a
    deadline that uses up a period exactly falls on its closing instant (a reply
    at that instant meets it). The result is an aware UTC datetime.
    """
    _require_aware(start, "start")
    if duration < ZERO:
        raise ValueError("duration must not be negative")
    start = start.astimezone(UTC)
    if clock == ClockKind.CALENDAR:
        return start + duration

    remaining = duration
    day = start.astimezone(calendar.tz).date()
    first = True
    for _ in range(MAX_WALK_DAYS):
        if not first and remaining > ZERO:
            # Skip whole ordinary weeks at once when nothing special happens in them.
            week = 5 * calendar.daily_working_time
            while remaining > week and calendar._is_plain_week(day):
                remaining -= week
                day += timedelta(days=7)
        for opens, closes in calendar.day_periods(day):
            if closes < start:
                continue
            begin = max(opens, start)
            available = closes - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        first = False
        day += ONE_DAY
    raise CalendarError("The deadline lies too far ahead to compute.")


def elapsed(
    start: datetime,
    end: datetime,
    calendar: WorkingCalendar,
    clock: ClockKind = ClockKind.BUSINESS,
) -> timedelta:
    """``clock`` time that runs from ``start`` to ``end`` (zero if ``end`` is not later)."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    start = start.astimezone(UTC)
    end = end.astimezone(UTC)
    if end <= start:
        return ZERO
    if clock == ClockKind.CALENDAR:
        return end - start

    total = ZERO
    day = start.astimezone(calendar.tz).date()
    last_day = end.astimezone(calendar.tz).date()
    first = True
    while day <= last_day:
        if not first:
            week_end = day + timedelta(days=6)
            while week_end < last_day and calendar._is_plain_week(day):
                total += 5 * calendar.daily_working_time
                day += timedelta(days=7)
                week_end = day + timedelta(days=6)
        for opens, closes in calendar.day_periods(day):
            begin = max(opens, start)
            finish = min(closes, end)
            if finish > begin:
                total += finish - begin
        first = False
        day += ONE_DAY
    return total


def next_working_instant(at: datetime, calendar: WorkingCalendar) -> datetime:
    """``at`` itself if business time is running then, else the next opening."""
    _require_aware(at, "at")
    at = at.astimezone(UTC)
    day = at.astimezone(calendar.tz).date()
    for _ in range(MAX_WALK_DAYS):
        for opens, closes in calendar.day_periods(day):
            if closes >= at:  # the closing instant is still working time
                return max(opens, at)
        day += ONE_DAY
    raise CalendarError("No working time ahead.")


def is_working_instant(at: datetime, calendar: WorkingCalendar) -> bool:
    """Whether ``at`` lies inside a working period (closing instant included)."""
    at = at.astimezone(UTC)
    return any(opens <= at <= closes for opens, closes in calendar.day_periods(at.astimezone(calendar.tz).date()))
