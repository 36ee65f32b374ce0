"""The business-time calculator: properties (hypothesis) and China's 2026
schedule (table tests, expected instants derived by hand)."""

import io
import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tickets.calendars import calendar_changed, working_calendar
from tickets.models import BusinessCalendar, CalendarDay
from tickets.sla.calendar import (
    CalendarError,
    ClockKind,
    WorkingCalendar,
    deadline,
    elapsed,
    is_working_instant,
)

SH = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)

PLAIN = WorkingCalendar(
    tz=SH,
    periods=((time(9), time(18)),),
    holidays=frozenset({date(2026, 10, d) for d in range(1, 8)} | {date(2026, 9, 25)}),
    workdays=frozenset({date(2026, 9, 20), date(2026, 10, 10)}),
    official_years=frozenset({2026}),
)
LUNCH = WorkingCalendar(
    tz=SH,
    periods=((time(9), time(12)), (time(13, 30), time(18))),
    holidays=PLAIN.holidays,
    workdays=PLAIN.workdays,
)
BERLIN = WorkingCalendar(  # a zone with daylight saving time
    tz=ZoneInfo("Europe/Berlin"),
    periods=((time(8), time(12)), (time(13), time(17))),
    holidays=frozenset({date(2026, 12, 25), date(2026, 12, 26)}),
)
CALENDARS = [PLAIN, LUNCH, BERLIN]

starts = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 2, 1), timezones=st.just(UTC))
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40))
positive = st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=40))
calendars = st.sampled_from(CALENDARS)
FAST = settings(max_examples=150, deadline=None)


@FAST
@given(calendars, starts, starts, durations)
def test_monotonic_in_start(cal, a, b, d):
    first, second = sorted((a, b))
    assert deadline(first, d, cal) <= deadline(second, d, cal)


@FAST
@given(calendars, starts, durations, durations)
def test_monotonic_in_duration(cal, s, d1, d2):
    short, long = sorted((d1, d2))
    assert deadline(s, short, cal) <= deadline(s, long, cal)


@FAST
@given(calendars, starts, durations)
def test_elapsed_inverts_deadline(cal, s, d):
    assert elapsed(s, deadline(s, d, cal), cal) == d


@FAST
@given(calendars, starts, positive)
def test_business_deadlines_fall_inside_working_hours(cal, s, d):
    assert is_working_instant(deadline(s, d, cal), cal)


@FAST
@given(calendars, starts, durations, durations)
def test_chaining_two_durations_equals_their_sum(cal, s, a, b):
    assert deadline(deadline(s, a, cal), b, cal) == deadline(s, a + b, cal)


@FAST
@given(calendars, starts, starts, starts)
def test_elapsed_is_additive(cal, a, b, c):
    a, b, c = sorted((a, b, c))
    assert elapsed(a, b, cal) + elapsed(b, c, cal) == elapsed(a, c, cal)


@FAST
@given(starts, durations)
def test_calendar_clock_is_plain_addition(s, d):
    assert deadline(s, d, PLAIN, ClockKind.CALENDAR) == s + d
    assert elapsed(s, s + d, PLAIN, ClockKind.CALENDAR) == d


@pytest.mark.parametrize(
    "periods",
    [
        (),
        ((time(18), time(9)),),
        ((time(9), time(9)),),
        ((time(9), time(13)), (time(12), time(18))),
        ((time(9, tzinfo=UTC), time(18)),),
    ],
    ids=["no-hours", "closes-before-opens", "empty-period", "overlapping", "aware-times"],
)
def test_unusable_calendars_are_refused(periods):
    with pytest.raises(CalendarError):
        WorkingCalendar(tz=SH, periods=periods)


def test_bad_arguments():
    with pytest.raises(ValueError, match="aware"):
        deadline(datetime(2026, 1, 1, 9), H, PLAIN)
    with pytest.raises(ValueError, match="negative"):
        deadline(datetime(2026, 1, 1, 9, tzinfo=SH), -H, PLAIN)


# --- China 2026, on the seeded default calendar ---------------------------------------


def sh(month, day, hour=0, minute=0, year=2026):
    return datetime(year, month, day, hour, minute, tzinfo=SH)


@pytest.fixture
def china(db):
    return working_calendar(BusinessCalendar.objects.get(is_default=True))


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        # National Day: Wed 9/30 10:00 + 27 h (3 working days): 9/30 8 h; 10/1–10/7 off;
        # Thu 10/8 17 h; Fri 10/9 26 h; Sat 10/10 is a make-up working day → 10:00.
        (sh(9, 30, 10), 27, sh(10, 10, 10)),
        # Mid-Autumn Fri 9/25 off, Sun 9/20 a make-up working day:
        # Fri 9/18 17:00 + 9 h: 1 h on Friday, Sun 9/20 09:00 + 8 h → 17:00.
        (sh(9, 18, 17), 9, sh(9, 20, 17)),
        # Thu 9/24 10:00 + 9 h: 8 h on Thursday, Fri 9/25 off, Sat/Sun off, Mon 9/28 10:00.
        (sh(9, 24, 10), 9, sh(9, 28, 10)),
        # Spring Festival: Fri 2/13 10:00 + 27 h: 8 h Friday; Sat 2/14 make-up day 17 h;
        # 2/15–2/23 off; Tue 2/24 26 h; Wed 2/25 10:00.
        (sh(2, 13, 10), 27, sh(2, 25, 10)),
        # Sat 2/28 is a make-up working day: Fri 2/27 17:00 + 2 h → Sat 2/28 10:00.
        (sh(2, 27, 17), 2, sh(2, 28, 10)),
        # New Year: Wed 12/31/2025 16:00 + 4 h: 2 h Wed, 1/1–1/2 off, Sun 1/4 working → 11:00.
        (datetime(2025, 12, 31, 16, tzinfo=SH), 4, sh(1, 4, 11)),
        # Labour Day: Thu 4/30 17:00 + 5 h: 1 h Thu, 5/1–5/5 off, Wed 5/6 09:00 + 4 h → 13:00.
        (sh(4, 30, 17), 5, sh(5, 6, 13)),
        # Sat 5/9 is a make-up working day: Fri 5/8 18:00 (closing) + 1 h → Sat 10:00.
        (sh(5, 8, 18), 1, sh(5, 9, 10)),
        # Started outside hours: Friday 11/20 20:00 + 1 h → Monday 11/23 10:00.
        (sh(11, 20, 20), 1, sh(11, 23, 10)),
        # Started on a holiday: 10/3 12:00 + 3 h → Thu 10/8 12:00.
        (sh(10, 3, 12), 3, sh(10, 8, 12)),
        # Using up the day exactly ends at 18:00, not the next morning.
        (sh(11, 23, 9), 9, sh(11, 23, 18)),
        # 15 working days (135 h) across National Day from Sun 9/20 09:00 (a working day):
        # 9/20 9, 9/21–9/24 36 (45), 9/25 off, 9/28–9/30 27 (72), 10/8–10/10 27 (99),
        # 10/12–10/15 36 (135) → Thu 10/15 18:00.
        (sh(9, 20, 9), 135, sh(10, 15, 18)),
    ],
)
def test_china_2026_deadlines(china, start, hours, expected):
    assert deadline(start, hours * H, china) == expected
    assert elapsed(start, expected, china) == hours * H


def test_lunch_break_calendar():
    # 09:00–12:00 and 13:30–18:00 (7.5 h a day). Mon 11/23 11:00 + 2 h: 1 h before lunch,
    # 1 h after → 14:30. A deadline that fills the morning ends at 12:00.
    assert deadline(sh(11, 23, 11), 2 * H, LUNCH) == sh(11, 23, 14, 30)
    assert deadline(sh(11, 23, 9), 3 * H, LUNCH) == sh(11, 23, 12)
    assert LUNCH.daily_working_time == timedelta(hours=7, minutes=30)
    # Lunch time does not count.
    assert elapsed(sh(11, 23, 11), sh(11, 23, 14), LUNCH) == timedelta(hours=1, minutes=30)


def test_admin_entered_days_and_missing_year_fallback(db, caplog):
    cal = BusinessCalendar.objects.get(is_default=True)
    china = working_calendar(cal)
    assert 2026 in cal.official_years and 2027 not in cal.official_years
    assert not china.covers(2027)
    # 2027 falls back to Monday–Friday: Thu 12/31 10:00 + 45 h (5 working days):
    # 12/31 8 h, Fri 2027-01-01 (working in the fallback) 17, Mon 1/4 26, Tue 35, Wed 44,
    # Thu 1/7 10:00.
    assert deadline(sh(12, 31, 10), 45 * H, china) == sh(1, 7, 10, year=2027)

    CalendarDay.objects.create(calendar=cal, date=date(2027, 1, 1), kind="holiday", name="元旦", source="admin")
    calendar_changed(cal.pk)
    cal.refresh_from_db()
    with_new_year = working_calendar(cal)
    assert deadline(sh(12, 31, 10), 45 * H, with_new_year) == sh(1, 8, 10, year=2027)


def test_low_priority_ticket_filed_on_new_years_eve_gets_a_2027_deadline(low_category, caplog):
    from tickets import services

    with caplog.at_level(logging.WARNING, logger="tickets.calendars"):
        ticket = services.ticket_create(
            category=low_category,
            subject="建议",
            body="希望增加夜间客服。",
            requester_name="钱七",
            requester_phone="13700137000",
            now=sh(12, 31, 10),
        )
    first = ticket.targets.get(kind="first_response")
    assert first.due_at == sh(1, 7, 10, year=2027)
    assert any("2027" in record.getMessage() for record in caplog.records)


def test_seeding_is_idempotent_and_keeps_admin_days(db):
    from django.core.management import call_command

    cal = BusinessCalendar.objects.get(is_default=True)
    CalendarDay.objects.filter(calendar=cal, date=date(2026, 10, 8)).delete()
    CalendarDay.objects.create(calendar=cal, date=date(2026, 10, 8), kind="holiday", name="公司假", source="admin")
    before = CalendarDay.objects.filter(calendar=cal).count()
    out = io.StringIO()
    call_command("calendar_seed_china", stdout=out)
    call_command("calendar_seed_china", stdout=out)
    assert '"years": 23' in out.getvalue()  # 2004–2026
    assert CalendarDay.objects.filter(calendar=cal).count() == before
    assert CalendarDay.objects.get(calendar=cal, date=date(2026, 10, 8)).source == "admin"
    national = CalendarDay.objects.get(calendar=cal, date=date(2026, 10, 1))
    assert (national.kind, national.source) == ("holiday", "official")
    assert CalendarDay.objects.get(calendar=cal, date=date(2026, 10, 10)).kind == "workday"
