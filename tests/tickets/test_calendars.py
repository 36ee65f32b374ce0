"""Business calendars in the database and the compiled calendar the SLA engine
uses (tickets.calendars): what a row compiles to, that it is compiled once per
version and again after an edit is announced, the one-query read of many, and
the warnings about years without the official schedule.

The calendars here are made by hand (a Shenzhen office with a lunch break), not
the seeded China calendar (tests/tickets/test_calendar_seed.py)."""

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tickets import calendars
from tickets.calendars import (
    calendar_changed,
    calendars_missing_years,
    new_version,
    warn_if_uncovered,
    working_calendar,
    working_calendars,
)
from tickets.models import BusinessCalendar, CalendarDay, WorkingPeriod

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch):
    """As a process that has compiled nothing and warned about nothing yet."""
    monkeypatch.setattr(calendars, "_compiled", {})
    monkeypatch.setattr(calendars, "_warned_years", set())


def office(name: str = "深圳办公室", *, official_years=(2026,), time_zone: str = "Asia/Shanghai") -> BusinessCalendar:
    """09:00–12:00 and 13:30–18:00 (entered afternoon first); National Day 10/1 off,
    Sat 10/10 a make-up working day."""
    calendar = BusinessCalendar.objects.create(name=name, time_zone=time_zone, official_years=list(official_years))
    WorkingPeriod.objects.create(calendar=calendar, opens=time(13, 30), closes=time(18))
    WorkingPeriod.objects.create(calendar=calendar, opens=time(9), closes=time(12))
    CalendarDay.objects.create(calendar=calendar, date=date(2026, 10, 1), kind=CalendarDay.Kind.HOLIDAY)
    CalendarDay.objects.create(calendar=calendar, date=date(2026, 10, 10), kind=CalendarDay.Kind.WORKDAY)
    return calendar


def test_a_row_compiles_to_its_zone_periods_in_order_and_days():
    compiled = working_calendar(office())

    assert compiled.tz == SH
    assert compiled.periods == ((time(9), time(12)), (time(13, 30), time(18)))
    assert compiled.daily_working_time == timedelta(hours=7, minutes=30)  # 3 h + 4.5 h
    assert (compiled.holidays, compiled.workdays) == (frozenset({date(2026, 10, 1)}), frozenset({date(2026, 10, 10)}))
    assert compiled.official_years == frozenset({2026})
    # Thu 10/1 is off, Sat 10/10 is worked, Sun 10/11 is an ordinary Sunday
    assert [compiled.is_working_day(date(2026, 10, d)) for d in (1, 10, 11)] == [False, True, False]


def test_compiled_once_per_version_and_again_after_an_announced_edit():
    calendar = office()
    with CaptureQueriesContext(connection) as first:
        compiled = working_calendar(calendar)
    with CaptureQueriesContext(connection) as again:
        assert working_calendar(calendar) is compiled
    assert (len(first), len(again)) == (2, 0)  # the periods and the days, then nothing

    # An edit nobody announced is not seen: the version is what processes compare.
    WorkingPeriod.objects.filter(calendar=calendar, opens=time(13, 30)).update(closes=time(17))
    calendar.refresh_from_db()
    assert working_calendar(calendar) is compiled

    # Announced, every process recompiles on its next read of the row.
    calendar_changed(calendar.pk)
    calendar.refresh_from_db()
    assert working_calendar(calendar).periods == ((time(9), time(12)), (time(13, 30), time(17)))


def test_many_calendars_cost_one_query_once_compiled():
    a, b = office("A 办公室"), office("B 办公室")
    compiled = {a.pk: working_calendar(a), b.pk: working_calendar(b)}

    with CaptureQueriesContext(connection) as queries:
        result = working_calendars([a.pk, b.pk, a.pk])

    assert len(queries) == 1  # the versions
    assert result == compiled and all(result[pk] is compiled[pk] for pk in compiled)


def test_a_version_is_a_fresh_random_stamp_not_a_counter():
    # A counter would hand a rolled-back bump's number to the next edit, and a process
    # that compiled the rolled-back contents would keep them.
    stamps = [new_version() for _ in range(50)]
    assert all(1 <= s < 2**31 for s in stamps)  # fits the PositiveIntegerField
    assert len(set(stamps)) == 50


class TestYearsWithoutTheOfficialSchedule:
    def test_a_deadline_into_an_unknown_year_is_logged_once_per_process_and_year(self, caplog):
        compiled = working_calendar(office())
        start, end = datetime(2026, 12, 30, 10, tzinfo=SH), datetime(2027, 1, 6, 10, tzinfo=SH)

        with caplog.at_level(logging.WARNING, logger="tickets.calendars"):
            assert warn_if_uncovered(compiled, "深圳办公室", start, end) == [2027]
            assert warn_if_uncovered(compiled, "深圳办公室", start, end) == [2027]
            assert warn_if_uncovered(compiled, "深圳办公室", start, start) == []

        [record] = [r for r in caplog.records if r.name == "tickets.calendars"]
        assert "'深圳办公室' has no official schedule for 2027" in record.getMessage()

    def test_a_year_is_read_in_the_calendars_zone(self):
        # 2026-12-31 17:00 UTC is already 2027-01-01 01:00 in Shanghai
        compiled = working_calendar(office())
        late = datetime(2026, 12, 31, 17, tzinfo=ZoneInfo("UTC"))
        assert warn_if_uncovered(compiled, "深圳办公室", late, late) == [2027]

    def test_calendars_missing_this_year_or_next_are_listed_by_name(self):
        office("B 办公室", official_years=(2026,))
        office("A 办公室", official_years=())
        office("C 办公室", official_years=(2026, 2027))

        missing = calendars_missing_years(date(2026, 6, 1))

        ours = [(calendar.name, years) for calendar, years in missing if calendar.name.endswith("办公室")]
        assert ours == [("A 办公室", [2026, 2027]), ("B 办公室", [2027])]
