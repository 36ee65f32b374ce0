"""The business-time calculator (tickets.sla.calendar).

Properties (hypothesis) on calendars built here: China-like, China-like with a
lunch break, and two in Europe/Berlin (daylight saving time), one of them with
working periods that straddle the hour the clocks skip or repeat. Then China's
2026 official schedule on the calendar the migration seeded, each expected
instant derived by hand in a comment.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tickets.calendars import working_calendar
from tickets.models import BusinessCalendar
from tickets.sla.calendar import (
    CalendarError,
    ClockKind,
    WorkingCalendar,
    deadline,
    elapsed,
    is_working_instant,
    next_working_instant,
)

SH = ZoneInfo("Asia/Shanghai")
BER = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
M = timedelta(minutes=1)


def days(first: date, last: date) -> set[date]:
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


# A handful of China's days over three years (not the full official lists).
CN_HOLIDAYS = frozenset(
    days(date(2025, 1, 28), date(2025, 2, 4))  # Spring Festival 2025
    | days(date(2026, 1, 1), date(2026, 1, 3))  # New Year 2026
    | days(date(2026, 2, 15), date(2026, 2, 23))  # Spring Festival 2026
    | days(date(2026, 5, 1), date(2026, 5, 5))  # Labour Day 2026
    | days(date(2026, 9, 25), date(2026, 9, 27))  # Mid-Autumn 2026
    | days(date(2026, 10, 1), date(2026, 10, 7))  # National Day 2026
    | {date(2027, 1, 1)}
)
CN_WORKDAYS = frozenset(
    {
        date(2025, 1, 26),  # Sun
        date(2025, 2, 8),  # Sat
        date(2026, 1, 4),  # Sun
        date(2026, 2, 14),  # Sat
        date(2026, 2, 28),  # Sat
        date(2026, 5, 9),  # Sat
        date(2026, 9, 20),  # Sun
        date(2026, 10, 10),  # Sat
    }
)
# The Sundays on which Berlin's clocks change, declared working days so that the
# changes happen on days with working time.
BER_DST_SUNDAYS = frozenset(
    {date(2025, 3, 30), date(2025, 10, 26), date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28)}
)

PLAIN = WorkingCalendar(tz=SH, periods=((time(9), time(18)),), holidays=CN_HOLIDAYS, workdays=CN_WORKDAYS)
LUNCH = WorkingCalendar(
    tz=SH, periods=((time(9), time(12)), (time(13, 30), time(18))), holidays=CN_HOLIDAYS, workdays=CN_WORKDAYS
)
BERLIN = WorkingCalendar(
    tz=BER,
    periods=((time(8), time(12)), (time(13), time(17))),
    holidays=frozenset({date(2025, 12, 25), date(2025, 12, 26), date(2026, 12, 25), date(2026, 12, 26)}),
    workdays=BER_DST_SUNDAYS,
)
# A night shift whose periods close and open inside the skipped hour (02:00–03:00
# in March) and the repeated hour (02:00–03:00 in October).
BERLIN_NIGHT = WorkingCalendar(
    tz=BER,
    periods=((time(0, 30), time(2, 15)), (time(2, 30), time(3, 10)), (time(3, 20), time(4))),
    workdays=BER_DST_SUNDAYS,
)
CALENDARS = [PLAIN, LUNCH, BERLIN, BERLIN_NIGHT]

# Instants where things happen: holidays, make-up days, clock changes.
SPECIAL_DAYS = sorted(CN_HOLIDAYS | CN_WORKDAYS | BER_DST_SUNDAYS)

uniform_starts = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.sampled_from([UTC, SH, BER])
)
# Whole local hours and half hours land exactly on openings, closings and lunch breaks.
round_starts = st.builds(
    lambda day, minutes, tz: datetime.combine(day, time(0), tz) + minutes * M,
    st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 12, 31)),
    st.integers(0, 47).map(lambda n: n * 30),
    st.sampled_from([SH, BER]),
)
near_special = st.builds(
    lambda day, offset: datetime.combine(day, time(0), UTC) + offset,
    st.sampled_from(SPECIAL_DAYS),
    st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=3)),
)
starts = st.one_of(uniform_starts, round_starts, near_special)

micro_durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40))
minute_durations = st.integers(0, 60 * 9 * 60).map(lambda n: n * M)  # up to 60 working days
hour_durations = st.integers(0, 9 * 40).map(lambda n: n * H)  # hits closings exactly
durations = st.one_of(micro_durations, minute_durations, hour_durations)
positive = durations.filter(lambda d: d > timedelta(0))
calendars = st.sampled_from(CALENDARS)

PROPERTY = settings(max_examples=250, deadline=None)


@PROPERTY
@given(calendars, starts, starts, durations)
def test_deadline_is_monotonic_in_start(cal, a, b, d):
    first, second = sorted((a, b))
    assert deadline(first, d, cal) <= deadline(second, d, cal)


@PROPERTY
@given(calendars, starts, durations, durations)
def test_deadline_is_monotonic_in_duration(cal, s, d1, d2):
    short, long = sorted((d1, d2))
    assert deadline(s, short, cal) <= deadline(s, long, cal)


@PROPERTY
@given(calendars, starts, durations)
def test_elapsed_inverts_deadline(cal, s, d):
    assert elapsed(s, deadline(s, d, cal), cal) == d


@PROPERTY
@given(calendars, starts, positive)
def test_business_deadlines_fall_inside_working_hours(cal, s, d):
    due = deadline(s, d, cal)
    assert due > s
    assert is_working_instant(due, cal)


@PROPERTY
@given(calendars, starts)
def test_zero_duration_is_the_next_working_instant(cal, s):
    due = deadline(s, timedelta(0), cal)
    assert due == next_working_instant(s, cal)
    assert is_working_instant(due, cal)
    assert elapsed(s, due, cal) == timedelta(0)
    if is_working_instant(s, cal):
        assert due == s.astimezone(UTC)  # (== with a skipped wall time in another zone is always False)


@PROPERTY
@given(calendars, starts, durations, durations)
def test_chaining_two_durations_equals_their_sum(cal, s, a, b):
    assert deadline(deadline(s, a, cal), b, cal) == deadline(s, a + b, cal)


@PROPERTY
@given(calendars, starts, starts, starts)
def test_elapsed_is_additive(cal, a, b, c):
    a, b, c = sorted((a, b, c))
    assert elapsed(a, b, cal) + elapsed(b, c, cal) == elapsed(a, c, cal)


@PROPERTY
@given(calendars, starts, durations)
def test_calendar_clock_is_plain_addition(cal, s, d):
    # Absolute time, not wall-clock arithmetic in the start's zone (which an aware
    # datetime's + does): across a clock change the two differ by an hour.
    s = s.astimezone(UTC)
    assert deadline(s, d, cal, ClockKind.CALENDAR) == s + d
    assert elapsed(s, s + d, cal, ClockKind.CALENDAR) == d


@PROPERTY
@given(calendars, starts, durations)
def test_results_are_aware_utc_whatever_the_zone_of_the_start(cal, s, d):
    due = deadline(s, d, cal)
    assert due.tzinfo is UTC
    assert deadline(s.astimezone(SH), d, cal) == due == deadline(s.astimezone(BER), d, cal)


# --- refusals ------------------------------------------------------------------


@pytest.mark.parametrize(
    "periods",
    [
        (),
        ((time(18), time(9)),),
        ((time(9), time(9)),),
        ((time(9), time(13)), (time(12), time(18))),
        ((time(13), time(18)), (time(9), time(12))),
        ((time(9, tzinfo=UTC), time(18)),),
        ((time(9), time(18, tzinfo=SH)),),
    ],
    ids=[
        "no-periods",
        "closes-before-opens",
        "closes-at-opening",
        "overlapping",
        "out-of-order",
        "aware-opens",
        "aware-closes",
    ],
)
def test_unusable_calendars_are_refused(periods):
    with pytest.raises(CalendarError):
        WorkingCalendar(tz=SH, periods=periods)


def test_naive_datetimes_are_refused():
    naive = datetime(2026, 9, 30, 10)
    aware = datetime(2026, 9, 30, 10, tzinfo=SH)
    with pytest.raises(ValueError, match="aware"):
        deadline(naive, H, PLAIN)
    with pytest.raises(ValueError, match="aware"):
        deadline(naive, H, PLAIN, ClockKind.CALENDAR)
    with pytest.raises(ValueError, match="aware"):
        elapsed(naive, aware, PLAIN)
    with pytest.raises(ValueError, match="aware"):
        elapsed(aware, naive, PLAIN)
    with pytest.raises(ValueError, match="aware"):
        next_working_instant(naive, PLAIN)


def test_negative_durations_are_refused():
    with pytest.raises(ValueError, match="negative"):
        deadline(datetime(2026, 9, 30, 10, tzinfo=SH), -timedelta(microseconds=1), PLAIN)
    with pytest.raises(ValueError, match="negative"):
        deadline(datetime(2026, 9, 30, 10, tzinfo=SH), -H, PLAIN, ClockKind.CALENDAR)


def test_elapsed_backwards_is_zero():
    assert elapsed(sh(9, 30, 12), sh(9, 30, 10), PLAIN) == timedelta(0)


# --- China 2026 on the seeded default calendar -----------------------------------------


def sh(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


@pytest.fixture
def china(db):
    return working_calendar(BusinessCalendar.objects.get(is_default=True))


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        # National Day. Normal first response, 3 working days = 27 h, from Wed 9/30 10:00:
        # 9/30 10–18 8 h; Thu 10/1–Wed 10/7 off; Thu 10/8 9 h (17); Fri 10/9 9 h (26);
        # Sat 10/10 is a make-up working day: 1 h more → Sat 10/10 10:00.
        pytest.param(sh(9, 30, 10), 27, sh(10, 10, 10), id="national-day-3wd"),
        # Mid-Autumn Fri 9/25 off, Sun 9/20 a make-up working day. Fri 9/18 17:00 + 9 h:
        # 1 h on Friday, Sat 9/19 off, Sun 9/20 09:00 + 8 h → Sun 9/20 17:00.
        pytest.param(sh(9, 18, 17), 9, sh(9, 20, 17), id="sunday-make-up-day"),
        # Thu 9/24 10:00 + 9 h: 8 h Thursday; Fri 9/25 (Mid-Autumn), Sat, Sun off;
        # Mon 9/28 09:00 + 1 h → 10:00.
        pytest.param(sh(9, 24, 10), 9, sh(9, 28, 10), id="mid-autumn-friday-off"),
        # Spring Festival. Fri 2/13 10:00 + 27 h: 8 h Friday; Sat 2/14 make-up day 9 h (17);
        # Sun 2/15–Mon 2/23 off; Tue 2/24 9 h (26); Wed 2/25 09:00 + 1 h → 10:00.
        pytest.param(sh(2, 13, 10), 27, sh(2, 25, 10), id="spring-festival-3wd"),
        # Sat 2/28 is a make-up working day: Fri 2/27 17:00 + 2 h → 1 h Fri, Sat 2/28 10:00.
        pytest.param(sh(2, 27, 17), 2, sh(2, 28, 10), id="spring-festival-saturday-make-up"),
        # Started on a holiday: Tue 2/17 (Spring Festival) 11:00 + 9 h → opens Tue 2/24 09:00,
        # the 9 h fill the day exactly → Tue 2/24 18:00.
        pytest.param(sh(2, 17, 11), 9, sh(2, 24, 18), id="start-on-spring-festival"),
        # New Year. Wed 2025-12-31 16:00 + 4 h: 2 h Wednesday; Thu 1/1–Sat 1/3 off;
        # Sun 1/4 is a working day: 09:00 + 2 h → Sun 1/4 11:00.
        pytest.param(datetime(2025, 12, 31, 16, tzinfo=SH), 4, sh(1, 4, 11), id="new-year-sunday-working"),
        # Labour Day. Thu 4/30 17:00 + 5 h: 1 h Thursday; Fri 5/1–Tue 5/5 off;
        # Wed 5/6 09:00 + 4 h → 13:00.
        pytest.param(sh(4, 30, 17), 5, sh(5, 6, 13), id="labour-day"),
        # Sat 5/9 is a make-up working day. Fri 5/8 18:00 (closing) + 1 h → Sat 5/9 10:00.
        pytest.param(sh(5, 8, 18), 1, sh(5, 9, 10), id="labour-day-saturday-make-up"),
        # Started outside hours: Fri 11/20 20:00 + 1 h → Mon 11/23 09:00 + 1 h = 10:00.
        pytest.param(sh(11, 20, 20), 1, sh(11, 23, 10), id="friday-evening-to-monday"),
        # Started before opening: Mon 11/23 07:30 + 30 min → 09:30.
        pytest.param(sh(11, 23, 7, 30), 0.5, sh(11, 23, 9, 30), id="before-opening"),
        # Started on a holiday: Sat 10/3 12:00 + 3 h → Thu 10/8 09:00 + 3 h = 12:00.
        pytest.param(sh(10, 3, 12), 3, sh(10, 8, 12), id="start-on-national-day"),
        # Using up a day exactly ends at its 18:00 closing, not at the next opening.
        pytest.param(sh(11, 23, 9), 9, sh(11, 23, 18), id="exactly-closing"),
        # Fri 11/20 10:00 + 17 h: 8 h Friday, Mon 11/23 9 h → Mon 18:00 (not Tue 09:00).
        pytest.param(sh(11, 20, 10), 17, sh(11, 23, 18), id="closing-after-weekend"),
        # Low resolution, 15 working days = 135 h, from Sun 9/20 09:00 (a working day):
        # 9/20 9; Mon 9/21–Thu 9/24 36 (45); Fri 9/25–Sun 9/27 off; Mon 9/28–Wed 9/30 27 (72);
        # 10/1–10/7 off; Thu 10/8–Sat 10/10 27 (99); Sun 10/11 off; Mon 10/12–Thu 10/15 36
        # (135) → Thu 10/15 18:00.
        pytest.param(sh(9, 20, 9), 135, sh(10, 15, 18), id="national-day-15wd"),
        # Normal resolution, 10 working days = 90 h, from Wed 9/30 10:00: 9/30 8; 10/8 17;
        # 10/9 26; 10/10 35; Mon 10/12–Fri 10/16 80; Mon 10/19 89; Tue 10/20 09:00 + 1 h.
        pytest.param(sh(9, 30, 10), 90, sh(10, 20, 10), id="national-day-10wd"),
    ],
)
def test_china_2026_deadlines(china, start, hours, expected):
    assert deadline(start, hours * H, china) == expected
    assert elapsed(start, expected, china) == hours * H


def test_china_2026_days(china):
    assert china.tz == SH
    assert china.daily_working_time == 9 * H
    assert {2025, 2026} <= china.official_years
    off = [date(2026, 10, d) for d in range(1, 8)] + [date(2026, 9, 25)]
    off += [date(2026, 2, d) for d in range(15, 24)] + [date(2026, 1, 1), date(2026, 1, 2)]
    off += [date(2026, 5, d) for d in range(1, 6)]
    on = [date(2026, 9, 20), date(2026, 10, 10), date(2026, 2, 14), date(2026, 2, 28), date(2026, 1, 4)]
    on += [date(2026, 5, 9), date(2026, 9, 30), date(2026, 10, 8)]
    assert [d for d in off if china.is_working_day(d)] == []
    assert [d for d in on if not china.is_working_day(d)] == []


def test_china_2026_working_instants(china):
    assert is_working_instant(sh(10, 10, 9), china)  # make-up Saturday, opening
    assert is_working_instant(sh(10, 9, 18), china)  # closing instant included
    assert not is_working_instant(sh(10, 9, 18, 1), china)
    assert not is_working_instant(sh(10, 1, 12), china)  # National Day
    assert next_working_instant(sh(9, 30, 18, 30), china) == sh(10, 8, 9)
    assert next_working_instant(sh(2, 13, 19), china) == sh(2, 14, 9)  # Sat 2/14 make-up day


# --- lunch break ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        # 09:00–12:00 and 13:30–18:00 (7.5 h a day). Mon 11/23 11:00 + 2 h:
        # 1 h before lunch, 1 h from 13:30 → 14:30.
        pytest.param(sh(11, 23, 11), 2 * H, sh(11, 23, 14, 30), id="across-lunch"),
        # Filling the morning ends at 12:00, not at 13:30.
        pytest.param(sh(11, 23, 9), 3 * H, sh(11, 23, 12), id="fills-morning"),
        # Started during lunch: 12:30 + 1 h → 13:30 + 1 h = 14:30.
        pytest.param(sh(11, 23, 12, 30), H, sh(11, 23, 14, 30), id="start-at-lunch"),
        # One working day (7.5 h) from 09:00 ends at 18:00 the same day.
        pytest.param(sh(11, 23, 9), timedelta(hours=7, minutes=30), sh(11, 23, 18), id="one-day"),
        # Normal first response, 3 × 7.5 = 22.5 h, from Wed 9/30 10:00: 9/30 2 + 4.5 = 6.5;
        # 10/1–10/7 off; Thu 10/8 7.5 (14); Fri 10/9 7.5 (21.5); Sat 10/10 (make-up)
        # 09:00 + 1 h → 10:00.
        pytest.param(sh(9, 30, 10), timedelta(hours=22, minutes=30), sh(10, 10, 10), id="national-day-3wd"),
        # Fri 11/20 16:00 + 3 h: 2 h Friday; Mon 11/23 09:00 + 1 h → 10:00.
        pytest.param(sh(11, 20, 16), 3 * H, sh(11, 23, 10), id="weekend"),
    ],
)
def test_lunch_break_calendar(start, duration, expected):
    assert deadline(start, duration, LUNCH) == expected
    assert elapsed(start, expected, LUNCH) == duration


def test_lunch_time_does_not_count():
    assert LUNCH.daily_working_time == timedelta(hours=7, minutes=30)
    assert elapsed(sh(11, 23, 11), sh(11, 23, 14), LUNCH) == timedelta(hours=1, minutes=30)
    assert not is_working_instant(sh(11, 23, 12, 1), LUNCH)
    assert is_working_instant(sh(11, 23, 12), LUNCH)  # the morning's closing instant


# --- daylight saving time ---------------------------------------------------------------


def ber(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BER)


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        # Ordinary weekend without the make-up Sunday: use the plain Berlin periods on
        # a week whose Sunday is not special. Fri 3/20 16:00 CET + 3 h: 1 h Friday;
        # Mon 3/23 08:00 + 2 h → 10:00 CET (09:00 UTC).
        pytest.param(ber(3, 20, 16), 3 * H, datetime(2026, 3, 23, 9, tzinfo=UTC), id="cet"),
        # Clocks go forward on Sun 3/29 (a working day here): Sat 3/28 12:00 + 8 h → the
        # whole of Sunday 08–12, 13–17 CEST → 17:00 CEST = 15:00 UTC.
        pytest.param(ber(3, 28, 12), 8 * H, datetime(2026, 3, 29, 15, tzinfo=UTC), id="spring-forward-day"),
        # Fri 3/27 16:00 CET + 3 h: 1 h Friday; Sunday 3/29 08:00 CEST + 2 h → 10:00 CEST.
        pytest.param(ber(3, 27, 16), 3 * H, datetime(2026, 3, 29, 8, tzinfo=UTC), id="spring-forward-weekend"),
        # Clocks go back on Sun 10/25 (a working day here): Fri 10/23 16:00 CEST + 2 h:
        # 1 h Friday; Sun 10/25 08:00 CET + 1 h → 09:00 CET = 08:00 UTC.
        pytest.param(ber(10, 23, 16), 2 * H, datetime(2026, 10, 25, 8, tzinfo=UTC), id="fall-back-day"),
    ],
)
def test_berlin_across_dst(start, duration, expected):
    assert deadline(start, duration, BERLIN) == expected
    assert elapsed(start, expected, BERLIN) == duration


def test_periods_in_the_skipped_hour_lose_the_time_that_never_happened():
    # Sun 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC). A period boundary in the
    # skipped hour means the jump itself.
    # 00:30–02:15 runs from 00:30 CET (23:30 UTC) to the jump: 1 h 30.
    # 02:30–03:10 runs from the jump to 03:10 CEST (01:10 UTC): 10 min.
    # 03:20–04:00 CEST (01:20–02:00 UTC): 40 min.
    day_start, day_end = ber(3, 29), ber(3, 30)
    assert elapsed(day_start, day_end, BERLIN_NIGHT) == timedelta(hours=2, minutes=20)
    assert BERLIN_NIGHT.daily_working_time == timedelta(hours=3, minutes=5)
    # 2 h from Sun 00:00: 1 h 30 + 10 min, then 20 min from 01:20 UTC → 01:40 UTC.
    due = deadline(day_start, 2 * H, BERLIN_NIGHT)
    assert due == datetime(2026, 3, 29, 1, 40, tzinfo=UTC)
    assert elapsed(day_start, due, BERLIN_NIGHT) == 2 * H


def test_periods_in_the_repeated_hour_mean_its_first_occurrence():
    # Sun 2026-10-25: 03:00 CEST goes back to 02:00 CET (01:00 UTC).
    # 00:30–02:15 (first 02:15) runs 22:30 UTC to 00:15 UTC: 1 h 45.
    # 02:30 (first, 00:30 UTC) to 03:10 CET (02:10 UTC): 1 h 40, the repeated hour included.
    # 03:20–04:00 CET (02:20–03:00 UTC): 40 min.
    assert elapsed(ber(10, 25), ber(10, 26), BERLIN_NIGHT) == timedelta(hours=4, minutes=5)
