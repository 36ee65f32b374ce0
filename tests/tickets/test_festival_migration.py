"""Migration tickets 0014_calendarday_festival: the official days' English
names (chinesecalendar's) become festival codes, the names an administrator
typed stay; and back again.

Each test migrates the test database back to before the migration, writes
what a database of that time holds through the models of that time, and
migrates forward (and back) again; the test's transaction then rolls it all
back."""

from datetime import date

import pytest

from tests.migrating import migrate, migration_before
from tickets.models import CalendarDay

pytestmark = pytest.mark.django_db

MIGRATION = ("tickets", "0014_calendarday_festival")


def test_official_names_become_codes_and_come_back(default_calendar):
    # given the database before the migration: the seeded days named in English,
    # and a company day off an administrator entered
    old = migrate(migration_before(*MIGRATION))
    OldDay = old.get_model("tickets", "CalendarDay")
    assert OldDay.objects.get(calendar_id=default_calendar.pk, date=date(2026, 10, 1)).name == "National Day"
    assert OldDay.objects.get(calendar_id=default_calendar.pk, date=date(2015, 9, 3)).name == "Anti-Fascist 70th Day"
    OldDay.objects.create(
        calendar_id=default_calendar.pk, date=date(2026, 12, 24), kind="holiday", name="公司年会", source="admin"
    )

    # when the migration runs
    migrate(None)

    # then the official days hold codes and no name, the administrator's day its name
    days = CalendarDay.objects.filter(calendar=default_calendar)
    assert not days.filter(source="official", festival="").exists()
    assert not days.filter(source="official").exclude(name="").exists()
    national = days.get(date=date(2026, 10, 1))
    assert (national.festival, national.name) == ("national_day", "")
    assert days.get(date=date(2026, 9, 25)).festival == "mid_autumn"
    assert days.get(date=date(2015, 9, 3)).festival == "anti_fascist_70th"
    assert days.get(date=date(2015, 4, 5)).festival == "tomb_sweeping"
    company = days.get(date=date(2026, 12, 24))
    assert (company.festival, company.name) == ("", "公司年会")

    # and migrating back gives the English names back, the typed one untouched
    old = migrate(migration_before(*MIGRATION))
    OldDay = old.get_model("tickets", "CalendarDay")
    names = dict(OldDay.objects.filter(calendar_id=default_calendar.pk).values_list("date", "name"))
    assert names[date(2026, 10, 1)] == "National Day"
    assert names[date(2026, 9, 25)] == "Mid-autumn Festival"
    assert names[date(2015, 4, 5)] == "Tomb-sweeping Day"
    assert names[date(2026, 12, 24)] == "公司年会"
    assert "" not in set(names.values())
    migrate(None)


def test_a_festival_day_an_administrator_named_keeps_the_name_on_the_way_back(default_calendar):
    # given, after the migration, an official day an administrator renamed
    CalendarDay.objects.filter(calendar=default_calendar, date=date(2026, 10, 1)).update(
        name="国庆节（公司）", source="admin"
    )

    # when migrating back
    old = migrate(migration_before(*MIGRATION))

    # then the name typed is kept, the other days get the English name
    OldDay = old.get_model("tickets", "CalendarDay")
    assert OldDay.objects.get(calendar_id=default_calendar.pk, date=date(2026, 10, 1)).name == "国庆节（公司）"
    assert OldDay.objects.get(calendar_id=default_calendar.pk, date=date(2026, 10, 2)).name == "National Day"
    migrate(None)
    assert CalendarDay.objects.get(calendar=default_calendar, date=date(2026, 10, 2)).festival == "national_day"
