"""The operations on one SLA target (tickets.targets): opening it from a policy,
pausing, resuming, re-dating, closing it, and what the ticket shows of its
targets. Pure: unsaved models, a calendar built here, no database, no clock.

Every instant is worked out by hand on China's 2026 calendar: working hours
09:00–18:00 (9 h a working day), late November an ordinary run of weeks.
Fri 2026-11-20 15:00 is the usual start: three working hours before the weekend."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tickets.models import BusinessCalendar, SLAPolicy, SLATarget, Ticket
from tickets.sla.calendar import ClockKind, WorkingCalendar
from tickets.sla.clock import Step
from tickets.targets import (
    last_step,
    target_advance,
    target_apply_policy,
    target_clock,
    target_close,
    target_new,
    target_pause,
    target_plan,
    target_reschedule,
    target_resume,
    ticket_refresh_sla,
)

SH = ZoneInfo("Asia/Shanghai")
# 09:00–18:00 in Shanghai; National Day 2026 (10/1–10/7) off, Sat 10/10 a make-up working day.
CHINA = WorkingCalendar(
    tz=SH,
    periods=((time(9), time(18)),),
    holidays=frozenset(date(2026, 10, d) for d in range(1, 8)),
    workdays=frozenset({date(2026, 10, 10)}),
    official_years=frozenset({2026}),
)
FRI_15 = datetime(2026, 11, 20, 15, 0, tzinfo=SH)

Kind, Status = SLATarget.Kind, SLATarget.Status


def sh(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


def policy(priority: str = "normal", **ladder) -> SLAPolicy:
    """The seeded policies: normal 3 / 3 / 10 working days, urgent 24 / 24 / 72
    calendar hours; a merchant's reply 24 calendar hours; ladder 75 / 100 / 150 %."""
    days = {"first_response": 3, "next_response": 3, "resolution": 10}
    hours = {"first_response": 24, "next_response": 24, "resolution": 72}
    values = {}
    for name in days:
        if priority == "urgent":
            values |= {f"{name}_amount": hours[name], f"{name}_unit": "hours", f"{name}_clock": "calendar"}
        else:
            values |= {f"{name}_amount": days[name], f"{name}_unit": "days", f"{name}_clock": "business"}
    return SLAPolicy(priority=priority, **values, **ladder)


def opened(kind: str = Kind.FIRST_RESPONSE, *, at: datetime = FRI_15, priority: str = "normal", **ladder) -> SLATarget:
    return target_new(
        ticket=Ticket(reference="CS-T"),
        kind=kind,
        cycle=1,
        policy=policy(priority, **ladder),
        calendar=BusinessCalendar(name="China"),
        wc=CHINA,
        now=at,
    )


class TestOpening:
    def test_a_business_target_runs_over_the_weekend_on_working_hours_only(self):
        # given a normal complaint filed on Friday afternoon
        target = opened(Kind.FIRST_RESPONSE, at=FRI_15)

        # then its first response is 3 working days = 27 h: Fri 15–18 (3 h), Mon 11/23 (12 h),
        # Tue 11/24 (21 h), Wed 11/25 09:00 + 6 h → Wed 15:00
        assert (target.clock, target.duration) == ("business", timedelta(hours=27))
        assert target.due_at == sh(11, 25, 15)
        # the warning at 75 % = 20 h 15 min: Fri 3, Mon 12, Tue 09:00 + 8 h 15 min → Tue 17:15
        assert target.next_step_at == sh(11, 24, 17, 15)
        assert (target.status, target.started_at, target.pauses, target.steps_taken) == (Status.RUNNING, FRI_15, [], 0)
        assert (target.warning_percent, target.breach_percent, target.level2_percent) == (75, 100, 150)

    def test_a_calendar_target_runs_around_the_clock(self):
        # urgent: 24 h of calendar time from Fri 15:00 → Sat 15:00; warning at 18 h → Sat 09:00
        target = opened(Kind.FIRST_RESPONSE, priority="urgent")
        assert (target.clock, target.duration) == ("calendar", timedelta(hours=24))
        assert (target.due_at, target.next_step_at) == (sh(11, 21, 15), sh(11, 21, 9))

    def test_the_merchants_reply_is_24_calendar_hours(self):
        target = opened(Kind.MERCHANT_REPLY)
        assert (target.clock, target.duration, target.due_at) == ("calendar", timedelta(hours=24), sh(11, 21, 15))

    def test_the_ladder_is_copied_from_the_policy(self):
        # a policy warning at 50 %: 13.5 h of the 27: Fri 3, Mon 12, Tue 09:00 + 1.5 h → Tue 10:30
        target = opened(warning_percent=50, breach_percent=100, level2_percent=200)
        assert (target.warning_percent, target.level2_percent) == (50, 200)
        assert target.next_step_at == sh(11, 24, 10, 30)

    def test_a_holiday_week_counts_no_working_time(self):
        # Wed 9/30 10:00 + 27 h: 8 h Wednesday, National Day 10/1–10/7 off, Thu 10/8 (17 h),
        # Fri 10/9 (26 h), Sat 10/10 is a make-up working day: 09:00 + 1 h → Sat 10:00
        assert opened(at=sh(9, 30, 10)).due_at == sh(10, 10, 10)


class TestLadder:
    def test_each_step_taken_moves_the_next_step_to_the_following_one(self):
        target = opened()
        target.steps_taken = Step.WARNING
        target_reschedule(target, CHINA)
        assert target.next_step_at == target.due_at == sh(11, 25, 15)  # the breach
        target.steps_taken = Step.BREACH
        target_reschedule(target, CHINA)
        # level 2 at 150 % = 40.5 h: Fri 3, Mon 12, Tue 21, Wed 30, Thu 39, Fri 11/27 09:00 + 1.5 h
        assert (target.due_at, target.next_step_at) == (sh(11, 25, 15), sh(11, 27, 10, 30))
        target.steps_taken = Step.LEVEL2
        target_reschedule(target, CHINA)
        assert (target.due_at, target.next_step_at) == (sh(11, 25, 15), None)  # nothing more to take

    def test_a_merchants_reply_ends_at_its_breach(self):
        target = opened(Kind.MERCHANT_REPLY)
        assert (last_step(target), last_step(opened())) == (Step.BREACH, Step.LEVEL2)
        target.steps_taken = Step.BREACH
        target_reschedule(target, CHINA)
        assert (target.due_at, target.next_step_at) == (sh(11, 21, 15), None)

    def test_the_sweep_reads_the_promise_as_made_whatever_the_calendar_says_now(self):
        target = opened()
        # Normal first response from Fri 15:00 (27 h): warning at 75 % = 20.25 h: Fri 3, Mon 12,
        # Tue 09:00 + 8.25 h → Tue 17:15; the breach Wed 11/25 15:00, level 2 Fri 11/27 10:30.
        promised = (target.warning_at, target.due_at, target.level2_at)
        assert promised == (sh(11, 24, 17, 15), sh(11, 25, 15), sh(11, 27, 10, 30))
        # An administrator has since made Mon 11/23 a holiday: recomputed, everything would move
        # a working day later; the promise read back is the one made.
        edited = WorkingCalendar(
            tz=SH, periods=CHINA.periods, holidays=CHINA.holidays | {date(2026, 11, 23)}, official_years={2026}
        )
        plan = target_plan(target, edited)
        assert (plan[Step.WARNING], plan[Step.BREACH], plan[Step.LEVEL2]) == promised
        target.steps_taken = Step.WARNING
        target_advance(target)
        assert target.next_step_at == sh(11, 25, 15)

    def test_a_new_policy_re_dates_from_the_moment_the_clock_started(self):
        # given a normal first response opened Fri 15:00, raised to urgent on Monday
        target = opened()
        target_apply_policy(target, policy("urgent"), CHINA)
        target_reschedule(target, CHINA)
        # then 24 calendar hours from Fri 15:00, not from Monday: Sat 15:00
        assert (target.clock, target.duration, target.started_at) == ("calendar", timedelta(hours=24), FRI_15)
        assert target.due_at == sh(11, 21, 15)


class TestPauses:
    @pytest.fixture
    def resolution(self):
        # normal resolution, 10 working days = 90 h from Fri 15:00: Fri 3, Mon 11/23 12 … Thu 12/3 84,
        # Fri 12/4 09:00 + 6 h → Fri 12/4 15:00
        target = opened(Kind.RESOLUTION)
        assert target.due_at == sh(12, 4, 15)
        return target

    def test_a_pause_owes_nothing_and_the_resume_adds_back_the_working_time_it_held(self, resolution):
        # given the resolution paused on Friday at 17:00 (2 h used), waiting on the consumer
        target_pause(resolution, sh(11, 20, 17))
        assert (resolution.status, resolution.due_at, resolution.next_step_at) == (Status.PAUSED, None, None)
        assert resolution.paused_at == sh(11, 20, 17)

        # when the consumer answers on Monday at 10:00
        target_resume(resolution, sh(11, 23, 10), CHINA)

        # then the pause held Fri 17–18 and Mon 09–10: two working hours, so the 88 h left run
        # from Mon 10:00: Mon 8, Tue 17, Wed 26, Thu 35, Fri 44, Mon 11/30 53, Tue 62, Wed 71,
        # Thu 12/3 80, Fri 12/4 09:00 + 8 h → 17:00, two hours later than without the pause
        assert resolution.status == Status.RUNNING
        assert resolution.paused_at is None
        assert resolution.pauses == [[sh(11, 20, 17).isoformat(), sh(11, 23, 10).isoformat()]]
        assert resolution.due_at == sh(12, 4, 17)
        # the warning at 75 % = 67.5 h, 65.5 h left from Mon 10:00: … Tue 12/1 62, Wed 12/2 09:00 + 3.5 h
        assert resolution.next_step_at == sh(12, 2, 12, 30)

    def test_a_paused_target_is_rescheduled_to_nothing(self, resolution):
        target_pause(resolution, sh(11, 20, 17))
        target_reschedule(resolution, CHINA)
        assert (resolution.due_at, resolution.next_step_at) == (None, None)

    def test_the_stored_pauses_read_back_as_the_clock(self, resolution):
        target_pause(resolution, sh(11, 20, 17))
        target_resume(resolution, sh(11, 23, 10), CHINA)
        clock = target_clock(resolution)
        assert clock.clock is ClockKind.BUSINESS and clock.duration == timedelta(hours=90)
        assert clock.pauses == ((sh(11, 20, 17), sh(11, 23, 10)),)
        assert clock.started_at == FRI_15 and clock.paused_at is None
        assert (clock.warning_percent, clock.breach_percent, clock.level2_percent) == (75, 100, 150)


class TestClosing:
    def test_met_records_the_time_taken_in_business_and_in_calendar_time(self):
        # given a first response opened Fri 15:00, answered Mon 10:30
        target = opened()
        target_close(target, Status.MET, sh(11, 23, 10, 30), CHINA)

        # then 4.5 working hours (Fri 15–18, Mon 09–10:30) and 67.5 calendar hours;
        # the promise it kept (its due) stays for the reports
        assert (target.status, target.met_at, target.closed_at) == (Status.MET, sh(11, 23, 10, 30), sh(11, 23, 10, 30))
        assert (target.business_seconds, target.calendar_seconds) == (16_200, 243_000)
        assert (target.due_at, target.next_step_at) == (sh(11, 25, 15), None)

    def test_a_paused_target_closes_its_pause_first(self):
        # given the resolution paused Fri 17:00 and resolved Mon 11:00 while paused
        target = opened(Kind.RESOLUTION)
        target_pause(target, sh(11, 20, 17))
        target_close(target, Status.MET, sh(11, 23, 11), CHINA)

        # then the pause ends with it and only Fri 15–17 counts, on both clocks
        assert target.paused_at is None
        assert target.pauses == [[sh(11, 20, 17).isoformat(), sh(11, 23, 11).isoformat()]]
        assert (target.business_seconds, target.calendar_seconds) == (7_200, 7_200)

    @pytest.mark.parametrize("status", [Status.MISSED, Status.CANCELLED])
    def test_missed_or_no_longer_owed_records_no_time_taken(self, status):
        target = opened()
        target_close(target, status, sh(11, 23, 10))
        assert (target.status, target.closed_at, target.next_step_at) == (status, sh(11, 23, 10), None)
        assert (target.met_at, target.business_seconds, target.calendar_seconds) == (None, None, None)

    def test_met_without_its_calendar_is_refused(self):
        target = opened()
        with pytest.raises(ValueError, match="working calendar"):
            target_close(target, Status.MET, sh(11, 23, 10))


class TestTheTicketsDueAndOverdue:
    def test_the_soonest_due_running_target_and_no_breach(self):
        first, resolution = opened(Kind.FIRST_RESPONSE), opened(Kind.RESOLUTION)
        merchant = opened(Kind.MERCHANT_REPLY)  # due Sat 15:00, but answered (met) and done
        target_close(merchant, Status.MET, sh(11, 20, 16), CHINA)
        ticket = Ticket(due_at=sh(1, 1, 9), is_overdue=True)

        ticket_refresh_sla(ticket, [resolution, merchant, first])

        assert (ticket.due_at, ticket.is_overdue) == (sh(11, 25, 15), False)

    def test_an_owed_target_past_its_breach_makes_the_ticket_overdue_even_while_paused(self):
        first, resolution = opened(Kind.FIRST_RESPONSE), opened(Kind.RESOLUTION)
        resolution.steps_taken = Step.BREACH
        target_pause(resolution, sh(11, 20, 17))
        ticket = Ticket()

        ticket_refresh_sla(ticket, [first, resolution])

        # the paused target owes no instant; the running one's due is the ticket's
        assert (ticket.due_at, ticket.is_overdue) == (sh(11, 25, 15), True)

    def test_a_breach_on_a_closed_target_is_history_not_overdue(self):
        missed = opened(Kind.MERCHANT_REPLY)
        missed.steps_taken = Step.BREACH
        target_close(missed, Status.MISSED, sh(11, 21, 15, 1))
        ticket = Ticket(due_at=sh(11, 21, 15), is_overdue=True)

        ticket_refresh_sla(ticket, [missed])

        assert (ticket.due_at, ticket.is_overdue) == (None, False)

    def test_instants_are_compared_as_instants_whatever_their_zone(self):
        first = opened(Kind.FIRST_RESPONSE)  # Wed 11/25 15:00 in Shanghai = 07:00 UTC
        other = opened(Kind.RESOLUTION)
        other.due_at = datetime(2026, 11, 25, 6, 59, tzinfo=UTC)
        ticket = Ticket()
        ticket_refresh_sla(ticket, [first, other])
        assert ticket.due_at == sh(11, 25, 14, 59)
