"""Calendar edits and the promises made on the calendar (DESIGN.md, "Policy and
calendar edits"): an edit applies to targets opened after it; an open target
keeps the deadline it was promised unless an administrator explicitly re-dates
the open targets, and then each re-dated target gets an event with its old and
new deadline, the consumer's tracking page shows the new time, and no step
already taken is taken again.

Also the one way an administrator enters a year's official schedule (the State
Council's notice) by hand, with, before saving, the days it changes and the
open promises a re-date would move; ``manage.py calendar_seed_china`` brings it
in from a newer ``chinesecalendar`` and reports the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from cs_desk.exceptions import ApplicationError
from tickets.calendars import calendar_changed, compile_calendar, working_calendar
from tickets.models import OPEN_STATUSES, BusinessCalendar, CalendarDay, SLATarget, Ticket
from tickets.services.work import Work
from tickets.sla.calendar import ClockKind, WorkingCalendar
from tickets.sla.clock import Step, schedule
from tickets.targets import ACTIVE, target_clock

REDATE_REASON = "calendar_redated"
BATCH = 200  # tickets re-dated per transaction
# What a target's promise is computed from, and the promise itself.
_PLAN = (
    "clock", "duration", "started_at", "pauses", "paused_at", "warning_percent", "breach_percent",
    "level2_percent", "warning_at", "due_at", "level2_at",
)  # fmt: skip


@dataclass(frozen=True)
class CalendarEffect:
    """What a calendar edit does: the days whose working status it changes, and
    the open promises a re-date would move."""

    days: tuple[date, ...]
    promises: int


def calendar_days_changed(before: WorkingCalendar, after: WorkingCalendar, first: date, last: date) -> list[date]:
    """The days of ``first``–``last`` that are working days under one calendar and not the other."""
    span = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [day for day in span if before.is_working_day(day) != after.is_working_day(day)]


def _open_promises(calendar: BusinessCalendar, days: list[date] | None = None):
    """Running business-clock targets on ``calendar`` that have not breached (the
    promises a re-date may move), narrowed to those whose clock may run across one
    of ``days`` when given. Calendar-clock targets never depend on the calendar."""
    targets = SLATarget.objects.filter(
        calendar=calendar,
        status=SLATarget.Status.RUNNING,
        clock=ClockKind.BUSINESS,
        steps_taken__lt=Step.BREACH,
        ticket__status__in=OPEN_STATUSES,
    )
    if days:
        zone = working_calendar(calendar).tz
        first = datetime.combine(min(days), time.min, zone)
        last = datetime.combine(max(days) + timedelta(days=1), time.min, zone)
        targets = targets.filter(started_at__lt=last, level2_at__gte=first)
    return targets


def _moves(target: SLATarget, wc: WorkingCalendar) -> bool:
    """Whether a re-date over ``wc`` would move the target's deadline."""
    return schedule(target_clock(target), wc)[Step.BREACH] != target.due_at


def promises_moved(calendar: BusinessCalendar, wc: WorkingCalendar, days: list[date] | None = None) -> int:
    """How many open promises on ``calendar`` a re-date over ``wc`` would move."""
    targets = _open_promises(calendar, days).only(*_PLAN)
    return sum(1 for target in targets.iterator(chunk_size=2000) if _moves(target, wc))


def calendar_targets_redate(*, calendar: BusinessCalendar, actor=None, now: datetime | None = None) -> int:
    """Re-date every open promise on ``calendar`` over the calendar as it is now,
    ticket by ticket under each ticket's lock (``targets_redate``: from the moment
    each clock started; steps taken stay taken; a step now past due is taken by the
    next sweep, once, naming the re-date). Returns the number of targets re-dated."""
    wc = working_calendar(calendar)
    ticket_ids = sorted(
        {target.ticket_id for target in _open_promises(calendar).only("ticket_id", *_PLAN) if _moves(target, wc)}
    )
    moved = 0
    for start in range(0, len(ticket_ids), BATCH):
        with transaction.atomic():
            for ticket in Ticket.objects.filter(pk__in=ticket_ids[start : start + BATCH]).order_by("pk"):
                moved += _ticket_redate(ticket, calendar, actor=actor, now=now)
    return moved


def _ticket_redate(ticket: Ticket, calendar: BusinessCalendar, *, actor, now: datetime | None) -> int:
    work = Work.lock(ticket, now=now, actor=actor)
    mine = [t for t in work.targets if t.calendar_id == calendar.pk and t.status in ACTIVE]
    moved = work.redate(mine, policy=None, reason=REDATE_REASON)
    work.commit()
    return moved


# --- A year's official schedule, entered by hand -------------------------------------


def _year_days(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def _schedule_check(year: int, holidays: Mapping[date, str], workdays: Mapping[date, str]) -> None:
    first, last = _year_days(year)
    outside = sorted(day for day in (*holidays, *workdays) if not first <= day <= last)
    if outside:
        raise ApplicationError(
            _("%(day)s is not in %(year)s.") % {"day": outside[0].isoformat(), "year": year},
            code="day_outside_year",
        )
    both = sorted(set(holidays) & set(workdays))
    if both:
        raise ApplicationError(
            _("%(day)s is listed both as a holiday and as a make-up working day.") % {"day": both[0].isoformat()},
            code="day_twice",
        )
    if not holidays:
        raise ApplicationError(_("An official schedule lists at least one holiday."), code="no_holidays")


def _calendar_with_schedule(
    calendar: BusinessCalendar, year: int, holidays: Mapping[date, str], workdays: Mapping[date, str]
) -> WorkingCalendar:
    """``calendar`` as it would be with ``year``'s official days replaced by these
    (the days an administrator entered that year are kept, as seeding keeps them)."""
    rows = [
        (day, kind)
        for day, kind, source in calendar.days.values_list("date", "kind", "source")
        if not (day.year == year and source == CalendarDay.Source.OFFICIAL)
    ]
    entered = {day for day, _kind in rows if day.year == year}
    rows += [(day, CalendarDay.Kind.HOLIDAY) for day in holidays if day not in entered]
    rows += [(day, CalendarDay.Kind.WORKDAY) for day in workdays if day not in entered]
    return compile_calendar(calendar, rows, official_years=sorted({*calendar.official_years, year}))


def official_schedule_effect(
    *, calendar: BusinessCalendar, year: int, holidays: Mapping[date, str], workdays: Mapping[date, str]
) -> CalendarEffect:
    """What entering ``year``'s official schedule would change: the days whose
    working status changes (provisional days replaced, make-up working days added)
    and the open promises a re-date would then move."""
    _schedule_check(year, holidays, workdays)
    after = _calendar_with_schedule(calendar, year, holidays, workdays)
    days = calendar_days_changed(working_calendar(calendar), after, *_year_days(year))
    return CalendarEffect(days=tuple(days), promises=promises_moved(calendar, after, days) if days else 0)


@transaction.atomic
def official_schedule_enter(
    *,
    calendar: BusinessCalendar,
    year: int,
    holidays: Mapping[date, str],
    workdays: Mapping[date, str],
    redate: bool,
    actor=None,
) -> dict[str, int]:
    """Enter ``year``'s official schedule: its holidays and make-up working days
    (each date with its festival code, or ""), replacing the year's official days
    and the provisional ones; the days an administrator entered stay. The year
    counts as official from now on. With ``redate``, the open promises are re-dated
    over it (``calendar_targets_redate``); without, they keep their deadlines."""
    _schedule_check(year, holidays, workdays)
    calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
    entered = set(calendar.days.filter(date__year=year, source=CalendarDay.Source.ADMIN).values_list("date", flat=True))
    calendar.days.filter(date__year=year, source=CalendarDay.Source.OFFICIAL).delete()
    rows = [
        CalendarDay(calendar=calendar, date=day, kind=kind, festival=festival, source=CalendarDay.Source.OFFICIAL)
        for table, kind in ((holidays, CalendarDay.Kind.HOLIDAY), (workdays, CalendarDay.Kind.WORKDAY))
        for day, festival in sorted(table.items())
        if day not in entered
    ]
    CalendarDay.objects.bulk_create(rows)
    calendar.official_years = sorted({*calendar.official_years, year})
    calendar.save(update_fields=["official_years", "updated_at"])
    calendar_changed(calendar.pk)
    calendar.refresh_from_db(fields=["version"])
    moved = calendar_targets_redate(calendar=calendar, actor=actor) if redate else 0
    holidays_added = sum(1 for row in rows if row.kind == CalendarDay.Kind.HOLIDAY)
    return {"holidays": holidays_added, "workdays": len(rows) - holidays_added, "redated": moved}
