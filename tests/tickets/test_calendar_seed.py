"""China's official schedule in the database: what the migration seeded, re-seeding
with ``calendar_seed_china``, and the fallback for a year chinesecalendar does not
know (2027 with chinesecalendar 1.11): the statutory holidays, provisionally,
plus the days an administrator entered (tests/tickets/test_sla_calendar_fallback.py
has the rest), a logged warning, and the tickets.W001 system check."""

import io
import json
import logging
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.checks import run_checks
from django.core.management import call_command

from tickets import calendars
from tickets.calendars import calendar_changed, working_calendar
from tickets.models import BusinessCalendar, CalendarDay
from tickets.services import ticket_create

SH = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.django_db


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


@pytest.fixture
def china() -> BusinessCalendar:
    return BusinessCalendar.objects.get(is_default=True)


@pytest.fixture
def fresh_warnings(monkeypatch):
    """The missing-year warning is logged once per process and year; start afresh."""
    monkeypatch.setattr(calendars, "_warned_years", set())


def day(calendar: BusinessCalendar, on: date) -> tuple[str, str, str]:
    """The day's kind, its festival's code (or, for a day with none, the name typed) and source."""
    row = CalendarDay.objects.get(calendar=calendar, date=on)
    return (row.kind, row.festival or row.name, row.source)


def test_migration_seeded_the_china_calendar(china):
    assert china.name == "中国大陆工作日"
    assert china.time_zone == "Asia/Shanghai"
    assert list(china.periods.values_list("opens", "closes")) == [(time(9), time(18))]
    assert sorted(china.official_years) == list(range(2004, 2027))
    # National Day 2026: Thu 10/1–Wed 10/7 off, Sat 10/10 and Sun 9/20 make-up working days;
    # Mid-Autumn Fri 9/25 off.
    assert day(china, date(2026, 10, 1)) == ("holiday", "national_day", "official")
    assert day(china, date(2026, 10, 7)) == ("holiday", "national_day", "official")
    assert day(china, date(2026, 10, 10)) == ("workday", "national_day", "official")
    assert day(china, date(2026, 9, 20))[0::2] == ("workday", "official")
    assert day(china, date(2026, 9, 25)) == ("holiday", "mid_autumn", "official")
    # The festival is stored as a code, not as chinesecalendar's English name.
    assert not CalendarDay.objects.filter(calendar=china, source="official").exclude(name="").exists()
    # Spring Festival 2026: 2/15–2/23 off, Sat 2/14 and Sat 2/28 worked.
    assert day(china, date(2026, 2, 15))[0] == day(china, date(2026, 2, 23))[0] == "holiday"
    assert day(china, date(2026, 2, 14))[0] == day(china, date(2026, 2, 28))[0] == "workday"
    # An ordinary Thursday has no row.
    assert not CalendarDay.objects.filter(calendar=china, date=date(2026, 10, 8)).exists()
    # 2026 in all: New Year 3, Spring Festival 9, Qingming 3, Labour Day 5, Dragon Boat 3,
    # Mid-Autumn 3, National Day 7 = 33 days off; make-up days 1/4, 2/14, 2/28, 5/9, 9/20, 10/10.
    days_2026 = CalendarDay.objects.filter(calendar=china, date__year=2026)
    assert days_2026.filter(kind="holiday").count() == 33
    assert sorted(days_2026.filter(kind="workday").values_list("date", flat=True)) == [
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ]
    assert not CalendarDay.objects.filter(calendar=china, date__year=2027).exists()


def test_seeding_twice_changes_nothing_and_keeps_admin_days(china):
    # An administrator turned the official make-up Saturday 10/10 into a company holiday
    # and added a day off on Thu 10/8.
    CalendarDay.objects.filter(calendar=china, date=date(2026, 10, 10)).delete()
    CalendarDay.objects.create(calendar=china, date=date(2026, 10, 10), kind="holiday", name="团建", source="admin")
    CalendarDay.objects.create(calendar=china, date=date(2026, 10, 8), kind="holiday", name="公司假", source="admin")
    calendar_changed(china.pk)
    before = CalendarDay.objects.filter(calendar=china).count()

    outputs = []
    for _ in range(2):
        out = io.StringIO()
        call_command("calendar_seed_china", stdout=out)
        outputs.append(json.loads(out.getvalue()))

    assert outputs[0] == outputs[1]
    assert outputs[0]["calendar"] == "中国大陆工作日"
    assert outputs[0]["years"] == 23  # 2004–2026
    assert CalendarDay.objects.filter(calendar=china).count() == before
    assert day(china, date(2026, 10, 10)) == ("holiday", "团建", "admin")
    assert day(china, date(2026, 10, 8)) == ("holiday", "公司假", "admin")
    assert day(china, date(2026, 10, 1)) == ("holiday", "national_day", "official")
    # The compiled calendar follows: 10/8 and 10/10 are now days off.
    china.refresh_from_db()
    compiled = working_calendar(china)
    assert not compiled.is_working_day(date(2026, 10, 8))
    assert not compiled.is_working_day(date(2026, 10, 10))
    assert compiled.is_working_day(date(2026, 10, 9))


def test_seeding_restores_a_deleted_official_day_and_bumps_the_version(china):
    compiled = working_calendar(china)
    assert not compiled.is_working_day(date(2026, 10, 1))
    CalendarDay.objects.filter(calendar=china, date=date(2026, 10, 1)).delete()
    version = BusinessCalendar.objects.get(pk=china.pk).version

    out = io.StringIO()
    call_command("calendar_seed_china", "--year", "2026", stdout=out)

    # 2026 only: 33 days off, 6 make-up days.
    assert json.loads(out.getvalue()) == {
        "calendar": "中国大陆工作日",
        "years": 1,
        "holidays": 33,
        "workdays": 6,
        "promises_moved": 0,  # no open ticket
        "redated": 0,
    }
    assert day(china, date(2026, 10, 1)) == ("holiday", "national_day", "official")
    china.refresh_from_db()
    assert china.version != version  # running processes recompile
    assert not working_calendar(china).is_working_day(date(2026, 10, 1))


def test_a_year_without_the_official_schedule_falls_back_to_the_law(low_category, china, caplog, fresh_warnings):
    # Low priority, first response 5 working days = 45 h, filed Thu 2026-12-31 10:00.
    # 2027 is not in chinesecalendar: the statutory holidays. 12/31 10–18 8 h; Fri
    # 2027-01-01 is New Year's Day; weekend; Mon 1/4 (17), Tue 1/5 (26), Wed 1/6 (35),
    # Thu 1/7 (44); Fri 1/8 09:00 + 1 h → 2027-01-08 10:00.
    with caplog.at_level(logging.WARNING, logger="tickets.calendars"):
        ticket = ticket_create(
            category=low_category,
            subject="建议",
            body="希望增加夜间客服。",
            requester_name="钱七",
            requester_phone="13700137000",
            now=sh(2026, 12, 31, 10),
        )

    first = ticket.targets.get(kind="first_response")
    assert first.due_at == sh(2027, 1, 8, 10)
    assert ticket.due_at == sh(2027, 1, 8, 10)
    warnings = [r for r in caplog.records if r.name == "tickets.calendars" and r.levelno == logging.WARNING]
    assert warnings
    assert "2027" in warnings[0].getMessage()
    assert "中国大陆工作日" in warnings[0].getMessage()


def test_an_admin_entered_holiday_counts_in_the_fallback_year(low_category, china, fresh_warnings):
    # The administrator enters Mon 2027-01-04 as a day off (New Year's Day, Fri 1/1, is
    # already one by the law). The same ticket as above: 12/31 8 h; Tue 1/5 (17), Wed 1/6
    # (26), Thu 1/7 (35), Fri 1/8 (44); Mon 1/11 09:00 + 1 h → 2027-01-11 10:00.
    CalendarDay.objects.create(calendar=china, date=date(2027, 1, 4), kind="holiday", name="公司假", source="admin")
    calendar_changed(china.pk)

    ticket = ticket_create(
        category=low_category,
        subject="建议",
        body="希望增加夜间客服。",
        requester_name="钱七",
        requester_phone="13700137000",
        now=sh(2026, 12, 31, 10),
    )

    assert ticket.targets.get(kind="first_response").due_at == sh(2027, 1, 11, 10)
    assert 2027 not in BusinessCalendar.objects.get(pk=china.pk).official_years  # still a fallback year


def test_system_check_warns_about_a_missing_year(china):
    # On 2026-11-22 clocks run into 2026 and 2027; chinesecalendar stops at 2026.
    with time_machine.travel(sh(2026, 11, 22, 12), tick=False):
        messages = [m for m in run_checks(databases=["default"]) if m.id == "tickets.W001"]
    assert len(messages) == 1
    assert messages[0].obj == china
    assert "2027" in messages[0].msg
    assert "2026" not in messages[0].msg
    assert "calendar_seed_china" in messages[0].hint


def test_system_check_is_quiet_when_this_year_and_next_are_covered(china):
    with time_machine.travel(sh(2025, 6, 1, 12), tick=False):
        assert [m for m in run_checks(databases=["default"]) if m.id == "tickets.W001"] == []
