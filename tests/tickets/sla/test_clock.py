"""The clock of one SLA target (tickets.sla.clock): consumed time, pauses and the
escalation ladder (75 / 100 / 150 %). Every expected instant is derived by hand."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tickets.sla.calendar import ClockKind, WorkingCalendar
from tickets.sla.clock import (
    Step,
    TargetClock,
    consumed,
    due_at,
    elapsed_percent,
    schedule,
    step_at,
    steps_due,
)

SH = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
US = timedelta(microseconds=1)

# 09:00–18:00 in Shanghai; National Day 2026 (10/1–10/7) off, Sat 10/10 a make-up day.
CHINA = WorkingCalendar(
    tz=SH,
    periods=((time(9), time(18)),),
    holidays=frozenset(date(2026, 10, d) for d in range(1, 8)),
    workdays=frozenset({date(2026, 10, 10)}),
)


def sh(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


def business(started_at: datetime, hours: float = 27, **kwargs) -> TargetClock:
    return TargetClock(clock=ClockKind.BUSINESS, duration=hours * H, started_at=started_at, **kwargs)


def calendar(started_at: datetime, hours: float = 24, **kwargs) -> TargetClock:
    return TargetClock(clock=ClockKind.CALENDAR, duration=hours * H, started_at=started_at, **kwargs)


# --- consumed time -------------------------------------------------------------------


def test_calendar_clock_consumes_around_the_clock_minus_pauses():
    # Started Mon 11/23 10:00, paused 12:00–15:00: at 17:00 it has run 2 h + 2 h.
    target = calendar(sh(11, 23, 10), pauses=((sh(11, 23, 12), sh(11, 23, 15)),))
    assert consumed(target, CHINA, sh(11, 23, 17)) == 4 * H
    # During the pause nothing is consumed: at 14:00 still the 2 h before it.
    assert consumed(target, CHINA, sh(11, 23, 14)) == 2 * H


def test_business_clock_consumes_working_hours_minus_pauses():
    # Started Mon 11/23 10:00, paused Mon 16:00 → Tue 11/24 11:00; at Tue 12:00:
    # Mon 10–16 6 h + Tue 11–12 1 h = 7 h (without the pause: Mon 8 h + Tue 3 h = 11 h).
    target = business(sh(11, 23, 10), pauses=((sh(11, 23, 16), sh(11, 24, 11)),))
    assert consumed(target, CHINA, sh(11, 24, 12)) == 7 * H
    assert consumed(business(sh(11, 23, 10)), CHINA, sh(11, 24, 12)) == 11 * H


def test_several_pauses_are_all_excluded():
    # Started Mon 11/23 09:00; paused 10:00–11:00 and 13:00–Wed 11/25 09:30; at Wed 12:00:
    # Mon 09–10 1 h + Mon 11–13 2 h + Wed 09:30–12:00 2.5 h = 5.5 h.
    target = business(
        sh(11, 23, 9),
        pauses=((sh(11, 23, 10), sh(11, 23, 11)), (sh(11, 23, 13), sh(11, 25, 9, 30))),
    )
    assert consumed(target, CHINA, sh(11, 25, 12)) == timedelta(hours=5, minutes=30)


def test_a_current_pause_stops_the_clock():
    # Started Mon 11/23 10:00, paused since Tue 11/24 11:00: Mon 8 h + Tue 09–11 2 h = 10 h,
    # however late we ask.
    target = business(sh(11, 23, 10), paused_at=sh(11, 24, 11))
    assert consumed(target, CHINA, sh(11, 24, 11)) == 10 * H
    assert consumed(target, CHINA, sh(12, 10, 12)) == 10 * H
    assert consumed(target, CHINA, sh(11, 23, 12)) == 2 * H  # before the pause


def test_business_clock_consumes_nothing_over_national_day():
    # Started Wed 9/30 10:00: by Thu 10/8 09:00 only 9/30 10–18 has run.
    target = business(sh(9, 30, 10))
    assert consumed(target, CHINA, sh(10, 8, 9)) == 8 * H
    assert elapsed_percent(target, CHINA, sh(10, 8, 9)) == pytest.approx(100 * 8 / 27)


# --- the ladder ----------------------------------------------------------------------


def test_calendar_clock_ladder():
    # Urgent, 24 h around the clock from Thu 10/1 10:00 (a holiday makes no difference):
    # 75 % = 18 h → Fri 10/2 04:00; 100 % → Fri 10:00; 150 % = 36 h → Fri 22:00.
    target = calendar(sh(10, 1, 10))
    assert schedule(target, CHINA) == {
        Step.WARNING: sh(10, 2, 4),
        Step.BREACH: sh(10, 2, 10),
        Step.LEVEL2: sh(10, 2, 22),
    }
    assert due_at(target, CHINA) == sh(10, 2, 10)


def test_business_clock_ladder_across_national_day():
    # Normal, 27 working hours from Wed 9/30 10:00 (9/30 gives 8 h, 10/1–10/7 nothing):
    # 75 % = 20 h 15 → Thu 10/8 9 h (17), Fri 10/9 09:00 + 3 h 15 → 12:15.
    # 100 % = 27 h → Fri 10/9 18:00 (26), Sat 10/10 (make-up day) 09:00 + 1 h → 10:00.
    # 150 % = 40 h 30 → Sat 10/10 18:00 (35), Sun 10/11 off, Mon 10/12 09:00 + 5 h 30 → 14:30.
    target = business(sh(9, 30, 10))
    assert schedule(target, CHINA) == {
        Step.WARNING: sh(10, 9, 12, 15),
        Step.BREACH: sh(10, 10, 10),
        Step.LEVEL2: sh(10, 12, 14, 30),
    }


def test_ladder_follows_the_percentages_copied_from_the_policy():
    # 50 / 100 / 200 % of 9 working hours from Mon 11/23 09:00: 13:30, 18:00, Tue 18:00.
    target = business(sh(11, 23, 9), 9, warning_percent=50, breach_percent=100, level2_percent=200)
    assert schedule(target, CHINA) == {
        Step.WARNING: sh(11, 23, 13, 30),
        Step.BREACH: sh(11, 23, 18),
        Step.LEVEL2: sh(11, 24, 18),
    }


def test_a_pause_pushes_the_ladder_back_by_the_working_time_it_held():
    # Normal, 27 h from Mon 11/23 09:00; paused Mon 12:00 → Tue 11/24 12:00 (3 h used).
    # Remaining from Tue 12:00: warning 20 h 15 − 3 = 17 h 15 → Tue 6 h, Wed 9 h (15),
    # Thu 11/26 09:00 + 2 h 15 → 11:15. Breach 24 h → Tue 6, Wed 15, Thu 24 → Thu 18:00.
    # Level 2 37 h 30 → Thu 24, Fri 33, Mon 11/30 09:00 + 4 h 30 → 13:30.
    target = business(sh(11, 23, 9), pauses=((sh(11, 23, 12), sh(11, 24, 12)),))
    assert schedule(target, CHINA) == {
        Step.WARNING: sh(11, 26, 11, 15),
        Step.BREACH: sh(11, 26, 18),
        Step.LEVEL2: sh(11, 30, 13, 30),
    }


def test_a_paused_clock_has_no_step_instants():
    target = business(sh(11, 23, 9), paused_at=sh(11, 23, 12))
    assert schedule(target, CHINA) == {Step.WARNING: None, Step.BREACH: None, Step.LEVEL2: None}
    assert due_at(target, CHINA) is None
    # Even a month later nothing comes due while it is paused.
    assert steps_due(target, CHINA, taken=0, now=sh(12, 23, 12)) == []
    overdue_then_paused = calendar(sh(11, 23, 9), paused_at=sh(11, 25, 9))  # 48 h run of 24
    assert steps_due(overdue_then_paused, CHINA, taken=0, now=sh(11, 26, 9)) == []


# --- steps due -----------------------------------------------------------------------


def test_steps_come_due_strictly_after_their_instant():
    # 9 working hours from Mon 11/23 09:00: warning 15:45, breach 18:00, level 2 Tue 13:30.
    target = business(sh(11, 23, 9), 9)
    assert steps_due(target, CHINA, taken=0, now=sh(11, 23, 15, 45)) == []
    assert steps_due(target, CHINA, taken=0, now=sh(11, 23, 15, 45) + US) == [Step.WARNING]
    # A reply exactly at the deadline meets it: at 18:00 the breach is not due yet.
    assert steps_due(target, CHINA, taken=1, now=sh(11, 23, 18)) == []
    assert steps_due(target, CHINA, taken=1, now=sh(11, 23, 18) + US) == [Step.BREACH]
    # Overnight no business time runs, but the breach instant has passed.
    assert steps_due(target, CHINA, taken=1, now=sh(11, 24, 8)) == [Step.BREACH]
    assert steps_due(target, CHINA, taken=2, now=sh(11, 24, 13, 30)) == []
    assert steps_due(target, CHINA, taken=2, now=sh(11, 24, 13, 31)) == [Step.LEVEL2]


def test_steps_due_skips_steps_taken_and_returns_all_that_are_late():
    # A sweep that was down for a day takes every step at once, in order.
    target = calendar(sh(11, 23, 10))  # 24 h: 11/24 04:00, 10:00, 22:00
    assert steps_due(target, CHINA, taken=0, now=sh(11, 25, 10)) == [Step.WARNING, Step.BREACH, Step.LEVEL2]
    assert steps_due(target, CHINA, taken=1, now=sh(11, 25, 10)) == [Step.BREACH, Step.LEVEL2]
    assert steps_due(target, CHINA, taken=0, now=sh(11, 24, 10)) == [Step.WARNING]
    assert steps_due(target, CHINA, taken=3, now=sh(12, 25, 10)) == []


def test_a_step_used_up_before_the_current_segment_comes_due_at_its_start():
    # Normal, 27 h from Mon 11/23 09:00, paused Wed 11/25 12:00 (Mon 9 + Tue 9 + Wed 3 = 21 h
    # used: past the 20 h 15 warning share, short of the breach).
    # Resumed the same evening at 20:00, outside working hours: the warning is due at the
    # resumption itself, not at the next morning's opening. The breach needs 6 h more →
    # Thu 11/26 15:00; level 2 needs 19 h 30 → Thu 9 (18:00), Fri 18, Mon 11/30 10:30.
    target = business(sh(11, 23, 9), pauses=((sh(11, 25, 12), sh(11, 25, 20)),))
    assert schedule(target, CHINA) == {
        Step.WARNING: sh(11, 25, 20),
        Step.BREACH: sh(11, 26, 15),
        Step.LEVEL2: sh(11, 30, 10, 30),
    }
    assert steps_due(target, CHINA, taken=0, now=sh(11, 25, 20)) == []
    assert steps_due(target, CHINA, taken=0, now=sh(11, 25, 20) + US) == [Step.WARNING]
    # Resumed inside working hours (Thu 11/26 10:00): due at 10:00; breach 6 h later, 16:00.
    in_hours = business(sh(11, 23, 9), pauses=((sh(11, 25, 12), sh(11, 26, 10)),))
    assert step_at(in_hours, CHINA, Step.WARNING) == sh(11, 26, 10)
    assert step_at(in_hours, CHINA, Step.BREACH) == sh(11, 26, 16)


def test_an_overdue_clock_resumed_is_overdue_at_once():
    # Urgent, 24 h from Mon 11/23 10:00, paused Tue 11/24 16:00 (30 h run: breached, short
    # of the 36 h level 2), resumed Thu 11/26 10:00: breach due at the resumption, level 2
    # 6 h later at 16:00.
    target = calendar(sh(11, 23, 10), pauses=((sh(11, 24, 16), sh(11, 26, 10)),))
    assert due_at(target, CHINA) == sh(11, 26, 10)
    assert step_at(target, CHINA, Step.LEVEL2) == sh(11, 26, 16)
    assert steps_due(target, CHINA, taken=1, now=sh(11, 26, 10, 1)) == [Step.BREACH]


def test_step_instants_are_utc():
    assert due_at(business(sh(11, 23, 9), 9), CHINA) == datetime(2026, 11, 23, 10, tzinfo=UTC)
