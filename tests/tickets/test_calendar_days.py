"""A calendar day's festival is stored as a code and read in the reader's
language: the admin's list of days in Chinese says 国庆节, in English National
Day; a day an administrator named keeps the name typed; searching finds the
festivals by their name in the reader's language."""

import re
from datetime import date

import pytest
from chinese_calendar import constants
from django.urls import reverse
from django.utils import translation

from tests.tickets.admin_pages import url
from tickets.models import CalendarDay
from tickets.sla import festivals

pytestmark = pytest.mark.django_db


def names_listed(response) -> list[str]:
    """The "name" column of the admin's list of days, top to bottom."""
    return re.findall(r'<td class="field-day_label">([^<]*)</td>', response.content.decode())


def chinese(name: str, *args) -> str:
    with translation.override("zh-hans"):
        return reverse(f"admin:{name}", args=args)


def test_the_models_festivals_are_the_pure_modules_codes():
    assert set(CalendarDay.Festival.values) == {festival.value for festival in festivals.Festival}


def test_every_festival_chinesecalendar_names_has_a_code():
    named = {str(name) for table in (constants.holidays, constants.workdays) for name in table.values()}
    assert named <= set(festivals.PACKAGE_NAMES)


def test_an_official_day_stores_the_festivals_code_and_no_name(default_calendar):
    day = CalendarDay.objects.get(calendar=default_calendar, date=date(2026, 10, 1))

    assert (day.festival, day.name, day.source) == ("national_day", "", "official")
    with translation.override("en"):
        assert day.label == "National Day"
    with translation.override("zh-hans"):
        assert day.label == "国庆节"


def test_the_chinese_admin_lists_the_festivals_in_chinese(admin_client, default_calendar):
    response = admin_client.get(chinese("tickets_calendarday_changelist") + "?year=2026&festival__exact=national_day")

    assert response.status_code == 200
    # 10/1–10/7 off, and the make-up working days Sun 9/20 and Sat 10/10.
    assert names_listed(response) == ["国庆节"] * 9


def test_the_english_admin_lists_them_in_english(admin_client, default_calendar):
    response = admin_client.get(url("tickets_calendarday_changelist") + "?year=2026&festival__exact=mid_autumn")

    assert response.status_code == 200
    assert names_listed(response) == ["Mid-Autumn Festival"] * 3  # Fri 9/25–Sun 9/27 off


def test_a_day_an_administrator_named_keeps_its_name_in_both_languages(admin_client, default_calendar):
    # given a company day off, entered by hand
    response = admin_client.post(
        url("tickets_calendarday_add"),
        {"calendar": default_calendar.pk, "date": "2026-12-24", "kind": "holiday", "name": "公司年会"},
    )
    assert response.status_code == 302

    # then both lists show the name typed
    for changelist in (url("tickets_calendarday_changelist"), chinese("tickets_calendarday_changelist")):
        response = admin_client.get(changelist + "?year=2026&source__exact=admin")
        assert names_listed(response) == ["公司年会"]


def test_searching_finds_a_festival_by_its_name_in_the_readers_language(admin_client, default_calendar):
    # given a company day whose name also holds the word
    CalendarDay.objects.create(calendar=default_calendar, date=date(2026, 12, 31), kind="holiday", name="国庆加班补休")

    response = admin_client.get(chinese("tickets_calendarday_changelist") + "?year=2026&q=国庆")

    assert names_listed(response) == ["国庆加班补休"] + ["国庆节"] * 9
    response = admin_client.get(url("tickets_calendarday_changelist") + "?year=2026&q=national")
    assert names_listed(response) == ["National Day"] * 9


def test_an_official_days_page_shows_its_festival(admin_client, default_calendar):
    day = CalendarDay.objects.get(calendar=default_calendar, date=date(2026, 10, 1))

    response = admin_client.get(chinese("tickets_calendarday_change", day.pk))

    assert response.status_code == 200
    assert response.context["adminform"].form["festival"].value() == "national_day"
    assert re.search(r'<option value="national_day" selected>国庆节</option>', response.content.decode())
