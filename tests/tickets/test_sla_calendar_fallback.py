"""A year without the official schedule (2027 with chinesecalendar 1.11): deadlines
count the statutory holidays and their 补假, provisionally (tickets.sla.calendar,
tickets.calendars), a date an administrator entered wins over them, and the
administrators are told which days are provisional and that the make-up working
days are unknown (the admin's warning, in Chinese).

On the China calendar the migration seeded (official 2004–2026), through the
real intake; each promised instant worked out by hand in a comment.
"""

import shutil
import subprocess
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings
from django.urls import reverse

from tests.builders import ticket_filed
from tickets import calendars
from tickets.calendars import calendar_changed, provisional_festivals, working_calendar
from tickets.models import BusinessCalendar, CalendarDay
from tickets.sla import statutory
from tickets.sla.calendar import WorkingCalendar, deadline, elapsed
from tickets.sla.festivals import Festival

SH = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
PO = Path(django_settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


@pytest.fixture
def china(db) -> BusinessCalendar:
    calendar = BusinessCalendar.objects.get(is_default=True)
    assert 2026 in calendar.official_years and 2027 not in calendar.official_years
    return calendar


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch):
    """As a process that has compiled nothing and warned about nothing yet."""
    monkeypatch.setattr(calendars, "_compiled", {})
    monkeypatch.setattr(calendars, "_warned_years", set())


def workday_entered(calendar: BusinessCalendar, on: date) -> None:
    """What the admin's calendar-day page does: the row, then the version bump."""
    CalendarDay.objects.create(calendar=calendar, date=on, kind=CalendarDay.Kind.WORKDAY, source="admin")
    calendar_changed(calendar.pk)
    calendar.refresh_from_db()


# --- deadlines through the intake ----------------------------------------------------


def test_new_years_day_2027_is_off_for_a_complaint_filed_on_new_years_eve(low_category, china):
    # Low priority: first response 5 working days = 45 h, resolution 15 = 135 h, 09:00–18:00.
    # Filed Thu 2026-12-31 12:00: 12:00–18:00 6 h. Fri 2027-01-01 is New Year's Day (the
    # law; provisional), Sat 2 and Sun 3 the weekend. Mon 1/4 9 h (15), Tue 1/5 (24),
    # Wed 1/6 (33), Thu 1/7 (42); Fri 1/8 09:00 + 3 h → 2027-01-08 12:00 (under plain
    # weekends it was Thu 1/7 12:00).
    # Resolution: 6 + Mon 1/4–Fri 1/8 45 (51), Mon 1/11–Fri 1/15 45 (96), Mon 1/18–Thu 1/21
    # 36 (132); Fri 1/22 09:00 + 3 h → 2027-01-22 12:00. No statutory day in between.
    with time_machine.travel(sh(2026, 12, 31, 12), tick=False):
        ticket = ticket_filed(low_category, at=sh(2026, 12, 31, 12))

    assert ticket.priority == "low"
    assert ticket.targets.get(kind="first_response").due_at == sh(2027, 1, 8, 12)
    assert ticket.targets.get(kind="resolution").due_at == sh(2027, 1, 22, 12)
    assert ticket.due_at == sh(2027, 1, 8, 12)
    assert working_calendar(china).is_provisional(date(2027, 1, 1))


def test_spring_festival_2027_and_its_days_in_lieu_are_off(low_category, china):
    # Filed Thu 2027-02-04 12:00: 6 h. Fri 2/5 除夕, Sat 2/6–Mon 2/8 Spring Festival, Tue 2/9
    # and Wed 2/10 given back for Sat 2/6 and Sun 2/7 (补假). Thu 2/11 (15), Fri 2/12 (24),
    # Mon 2/15 (33), Tue 2/16 (42); Wed 2/17 09:00 + 3 h → 2027-02-17 12:00.
    with time_machine.travel(sh(2027, 2, 4, 12), tick=False):
        ticket = ticket_filed(low_category, at=sh(2027, 2, 4, 12))

    assert ticket.targets.get(kind="first_response").due_at == sh(2027, 2, 17, 12)


def test_an_administrators_workday_wins_over_a_provisional_day_in_lieu(low_category, china):
    # The administrator marks Tue 2027-02-09 a working day (the official notice might make it
    # one). The same complaint: 6 h Thu 2/4; Tue 2/9 (15); Wed 2/10 still given back; Thu 2/11
    # (24), Fri 2/12 (33), Mon 2/15 (42); Tue 2/16 09:00 + 3 h → 2027-02-16 12:00.
    workday_entered(china, date(2027, 2, 9))

    with time_machine.travel(sh(2027, 2, 4, 12), tick=False):
        ticket = ticket_filed(low_category, at=sh(2027, 2, 4, 12))

    assert ticket.targets.get(kind="first_response").due_at == sh(2027, 2, 16, 12)
    compiled = working_calendar(china)
    assert compiled.is_working_day(date(2027, 2, 9)) and not compiled.is_provisional(date(2027, 2, 9))
    assert not compiled.is_working_day(date(2027, 2, 10)) and compiled.is_provisional(date(2027, 2, 10))


def test_an_administrators_holiday_is_not_provisional(china):
    CalendarDay.objects.create(calendar=china, date=date(2027, 10, 4), kind=CalendarDay.Kind.HOLIDAY, name="补假")
    calendar_changed(china.pk)
    china.refresh_from_db()

    compiled = working_calendar(china)

    assert not compiled.is_working_day(date(2027, 10, 4)) and not compiled.is_provisional(date(2027, 10, 4))
    assert compiled.is_provisional(date(2027, 10, 5))
    # An official year has no provisional day: National Day 2026 is the official schedule's.
    assert not compiled.is_provisional(date(2026, 10, 1)) and not compiled.is_working_day(date(2026, 10, 1))


def test_compiling_computes_no_lunar_year_until_a_clock_reaches_one(china):
    # The compile stays two queries and no lunar arithmetic; the first question about
    # 2027 computes that year (about 7 ms, once per process), and only that year.
    cached = (statutory.festival_days, statutory.days_in_lieu, statutory.statutory_days)
    for function in cached:
        function.cache_clear()

    compiled = working_calendar(china)
    assert [function.cache_info().currsize for function in cached] == [0, 0, 0]

    assert not compiled.is_working_day(date(2027, 1, 1))
    assert compiled.is_working_day(date(2026, 12, 31))  # 2026 is official: nothing computed
    assert [function.cache_info().currsize for function in cached] == [1, 1, 1]


# --- the weekly fast path sees the provisional days -----------------------------------


def test_the_weekly_fast_path_sees_the_provisional_days():
    # Given a calendar falling back from 2027 on, and one with the same days entered as
    # holidays (the fast path skips whole weeks only where it sees no listed day).
    periods = ((time(9), time(18)),)
    fallback = WorkingCalendar(tz=SH, periods=periods, official_years=frozenset({2026}), fallback_years=(2000, 2100))
    entered = frozenset(day for year in (2027, 2028, 2029) for day in statutory.statutory_days(year))
    listed = WorkingCalendar(tz=SH, periods=periods, holidays=entered)

    # 15 working days = 135 h from Mon 2027-09-13 09:00 (a plain week first): Mon 9/13–Tue 9/14
    # 18 h; Wed 9/15 Mid-Autumn; Thu 9/16–Fri 9/17 (36); Mon 9/20–Fri 9/24 (81); Mon 9/27–Thu
    # 9/30 (117); Fri 10/1–Tue 10/5 off (National Day and its 补假); Wed 10/6 (126); Thu 10/7
    # 09:00 + 9 h → 2027-10-07 18:00.
    start = sh(2027, 9, 13, 9)
    assert deadline(start, 135 * H, fallback) == sh(2027, 10, 7, 18)
    assert elapsed(start, sh(2027, 10, 7, 18), fallback) == 135 * H

    # And over two years of starts and durations, the two calendars agree.
    for week in range(0, 104, 3):
        start = sh(2027, 1, 1, 10) + timedelta(days=7 * week + week % 5)
        for hours in (1, 27, 45, 135, 400):
            due = deadline(start, hours * H, fallback)
            assert due == deadline(start, hours * H, listed), (start, hours)
            assert elapsed(start, due, fallback) == hours * H


def test_no_fallback_without_a_span_and_none_before_the_law_is_modelled():
    periods = ((time(9), time(18)),)
    plain = WorkingCalendar(tz=SH, periods=periods)
    assert plain.is_working_day(date(2027, 1, 1)) and not plain.is_provisional(date(2027, 1, 1))
    with pytest.raises(ValueError, match="from 2000"):
        WorkingCalendar(tz=SH, periods=periods, fallback_years=(1990, 2100))


def test_provisional_festivals_list_the_days_left_to_the_law(china):
    workday_entered(china, date(2027, 2, 9))

    festivals = provisional_festivals(working_calendar(china), 2027)

    assert festivals[1] == (
        Festival.SPRING_FESTIVAL,
        [date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8)],
        [date(2027, 2, 10)],  # 2/9 entered by the administrator
    )
    assert [festival for festival, _, _ in festivals] == list(statutory.festival_days(2027))
    assert provisional_festivals(working_calendar(china), 2026) == []  # official


# --- the administrators are told, in Chinese ------------------------------------------


@pytest.fixture
def chinese_catalogue(settings, tmp_path):
    """The committed Chinese catalogue, compiled into a temporary directory (never
    into the working tree) and made the one Django reads."""
    if shutil.which("msgfmt") is None:
        pytest.skip("msgfmt (GNU gettext) is not installed")
    target = tmp_path / "zh_Hans" / "LC_MESSAGES"
    target.mkdir(parents=True)
    subprocess.run(["msgfmt", "--check-format", "-o", str(target / "django.mo"), str(PO)], check=True)
    settings.LOCALE_PATHS = [str(tmp_path)]


EXPECTED_2027 = (
    "日历“中国大陆工作日”缺少 2027 年的官方节假日安排。"
    "录入之前，该年的截止时间暂按以下法定节假日放假计算："
    "元旦 1月1日；"
    "春节 2月5日至2月8日（补假 2月9日、2月10日）；"
    "清明节 4月5日；"
    "劳动节 5月1日、5月2日（补假 5月3日、5月4日）；"
    "端午节 6月9日；"
    "中秋节 9月15日；"
    "国庆节 10月1日至10月3日（补假 10月4日、10月5日）。"
    "2027 年的调休上班日在此之前无法确定。"
    "请升级 <code>chinesecalendar</code> 并运行 <code>calendar_seed_china</code>，"
)


@pytest.mark.usefixtures("chinese_catalogue")
def test_administrators_are_told_which_days_are_provisional_in_chinese(admin_client, china):
    # On 2026-11-22 clocks run into 2027, which chinesecalendar 1.11 does not know.
    with time_machine.travel(sh(2026, 11, 22, 10), tick=False):
        index = admin_client.get(reverse("admin:index"))
        changelist = admin_client.get(reverse("admin:tickets_businesscalendar_changelist"))

    assert index.status_code == changelist.status_code == 200
    for page in (index, changelist):
        content = page.content.decode()
        assert EXPECTED_2027 in content
        add = reverse("admin:tickets_businesscalendar_official", args=[china.pk])  # the year's schedule form
        assert f'或<a href="{add}">在此录入日期</a>。' in content
        assert "缺少 2026 年" not in content


@pytest.mark.usefixtures("chinese_catalogue")
def test_a_day_the_administrator_entered_is_no_longer_listed_as_provisional(admin_client, china):
    workday_entered(china, date(2027, 2, 9))

    with time_machine.travel(sh(2026, 11, 22, 10), tick=False):
        content = admin_client.get(reverse("admin:index")).content.decode()

    assert "春节 2月5日至2月8日（补假 2月10日）；" in content
