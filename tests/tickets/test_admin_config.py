"""The admin's configuration pages, as an administrator: calendars that cannot
work are refused with a form error, calendar edits invalidate the compiled
calendars and bump their version, SLA policies are checked and never deleted."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.tickets.admin_pages import form_data, url
from tickets.calendars import working_calendar
from tickets.models import (
    BusinessCalendar,
    CalendarDay,
    SLAPolicy,
)

SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)  # Monday, an ordinary working week


pytestmark = pytest.mark.django_db


# --- Calendars ----------------------------------------------------------------------


def calendar_post(name: str, periods: list[tuple[str, str]], time_zone: str = "Asia/Shanghai") -> dict:
    data = {
        "name": name,
        "time_zone": time_zone,
        "periods-TOTAL_FORMS": str(len(periods)),
        "periods-INITIAL_FORMS": "0",
        "periods-MIN_NUM_FORMS": "1",
        "periods-MAX_NUM_FORMS": "1000",
    }
    for i, (opens, closes) in enumerate(periods):
        data[f"periods-{i}-opens"] = opens
        data[f"periods-{i}-closes"] = closes
    return data


@pytest.mark.parametrize(
    ("periods", "time_zone", "error"),
    [
        ([], "Asia/Shanghai", "A calendar needs at least one working period a day (for example 09:00–18:00)."),
        ([("18:00", "09:00")], "Asia/Shanghai", "A working period must close after it opens."),
        ([("09:00", "09:00")], "Asia/Shanghai", "A working period must close after it opens."),
        (
            [("09:00", "12:00"), ("11:00", "18:00")],
            "Asia/Shanghai",
            "The working periods 09:00–12:00 and 11:00–18:00 overlap.",
        ),
        ([("09:00", "18:00")], "Mars/Olympus_Mons", "Unknown time zone: Mars/Olympus_Mons"),
    ],
    ids=["no-periods", "closes-before-opens", "closes-when-opens", "overlapping", "bad-time-zone"],
)
def test_a_calendar_that_cannot_work_is_refused(admin_client, periods, time_zone, error):
    response = admin_client.post(
        url("tickets_businesscalendar_add"), calendar_post("Shenzhen office", periods, time_zone)
    )

    assert response.status_code == 200
    assert error in response.content.decode()
    assert "Constraint" not in response.content.decode()
    assert not BusinessCalendar.objects.filter(name="Shenzhen office").exists()


def test_a_calendar_with_a_lunch_break_is_saved(admin_client):
    response = admin_client.post(
        url("tickets_businesscalendar_add"),
        calendar_post("Shenzhen office", [("13:30", "18:00"), ("09:00", "12:00")]),
    )

    assert response.status_code == 302
    calendar = BusinessCalendar.objects.get(name="Shenzhen office")
    assert [str(p) for p in calendar.periods.all()] == ["09:00–12:00", "13:30–18:00"]
    # Two periods that merely touch are not an overlap.
    response = admin_client.post(
        url("tickets_businesscalendar_add"), calendar_post("Touching", [("09:00", "12:00"), ("12:00", "18:00")])
    )
    assert response.status_code == 302


def test_removing_the_last_working_period_is_refused(admin_client, default_calendar):
    period = default_calendar.periods.get()
    page = admin_client.get(url("tickets_businesscalendar_change", default_calendar.pk))
    data = form_data(page)
    data.update({"periods-0-id": period.pk, "periods-0-calendar": default_calendar.pk, "periods-0-DELETE": "on"})
    data.update({"periods-0-opens": "09:00", "periods-0-closes": "18:00"})

    response = admin_client.post(url("tickets_businesscalendar_change", default_calendar.pk), data)

    assert response.status_code == 200
    assert "A calendar needs at least one working period a day" in response.content.decode()
    assert default_calendar.periods.count() == 1


def test_changing_working_hours_invalidates_the_compiled_calendar(admin_client, default_calendar):
    before = default_calendar.version
    assert working_calendar(default_calendar).periods[0][1].hour == 18
    period = default_calendar.periods.get()
    page = admin_client.get(url("tickets_businesscalendar_change", default_calendar.pk))
    data = form_data(page)
    data.update({"periods-0-id": period.pk, "periods-0-calendar": default_calendar.pk})
    data.update({"periods-0-opens": "09:00", "periods-0-closes": "17:30"})

    response = admin_client.post(url("tickets_businesscalendar_change", default_calendar.pk), data)

    assert response.status_code == 302
    default_calendar.refresh_from_db()
    assert default_calendar.version != before
    assert [(o.strftime("%H:%M"), c.strftime("%H:%M")) for o, c in working_calendar(default_calendar).periods] == [
        ("09:00", "17:30")
    ]


def test_adding_a_day_bumps_the_calendar_version(admin_client, default_calendar):
    before = default_calendar.version
    wednesday = date(2027, 3, 3)
    assert working_calendar(default_calendar).is_working_day(wednesday)

    response = admin_client.post(
        url("tickets_calendarday_add"),
        {"calendar": default_calendar.pk, "date": "2027-03-03", "kind": "holiday", "name": "公司年假"},
    )

    assert response.status_code == 302
    default_calendar.refresh_from_db()
    assert default_calendar.version != before
    day = CalendarDay.objects.get(calendar=default_calendar, date=wednesday)
    assert (day.kind, day.source) == ("holiday", "admin")
    assert not working_calendar(default_calendar).is_working_day(wednesday)


def test_correcting_an_official_day_makes_it_the_administrators(admin_client, default_calendar):
    # 2026-10-01, National Day: an official holiday from chinesecalendar.
    day = CalendarDay.objects.get(calendar=default_calendar, date=date(2026, 10, 1))
    assert day.source == "official"
    before = default_calendar.version

    response = admin_client.post(
        url("tickets_calendarday_change", day.pk),
        {"calendar": default_calendar.pk, "date": "2026-10-01", "kind": "holiday", "name": "国庆节（公司）"},
    )

    assert response.status_code == 302
    day.refresh_from_db()
    assert (day.name, day.source) == ("国庆节（公司）", "admin")
    default_calendar.refresh_from_db()
    assert default_calendar.version != before


def test_bulk_deleting_days_bumps_the_calendar_version(admin_client, default_calendar):
    ids = list(
        CalendarDay.objects.filter(calendar=default_calendar, date__year=2026, kind="workday").values_list(
            "pk", flat=True
        )
    )
    assert ids
    before = default_calendar.version

    response = admin_client.post(
        url("tickets_calendarday_changelist"),
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )

    assert response.status_code == 302
    assert not CalendarDay.objects.filter(pk__in=ids).exists()
    default_calendar.refresh_from_db()
    assert default_calendar.version != before


def test_deleting_one_day_bumps_the_calendar_version(admin_client, default_calendar):
    day = CalendarDay.objects.get(calendar=default_calendar, date=date(2026, 10, 1))
    before = default_calendar.version

    response = admin_client.post(url("tickets_calendarday_delete", day.pk), {"post": "yes"})

    assert response.status_code == 302
    default_calendar.refresh_from_db()
    assert default_calendar.version != before
    assert working_calendar(default_calendar).is_working_day(date(2026, 10, 1))  # a Thursday again


def test_calendar_days_filter_by_year(admin_client, default_calendar):
    response = admin_client.get(url("tickets_calendarday_changelist") + "?year=2026&kind__exact=holiday")

    assert response.status_code == 200
    shown = response.context["cl"].queryset
    assert {d.year for d in shown.values_list("date", flat=True)} == {2026}
    assert set(shown.values_list("kind", flat=True)) == {"holiday"}


def test_the_calendar_page_links_to_its_days_instead_of_listing_them(admin_client, default_calendar):
    count = default_calendar.days.count()
    assert count > 100  # 2004–2026 official days

    response = admin_client.get(url("tickets_businesscalendar_change", default_calendar.pk))

    content = response.content.decode()
    assert f"{count} days" in content
    assert f"?calendar__id__exact={default_calendar.pk}" in content


def test_missing_official_year_is_announced_to_administrators(admin_client, default_calendar):
    BusinessCalendar.objects.filter(pk=default_calendar.pk).update(official_years=list(range(2004, 2027)))
    expected = f"Calendar “{default_calendar.name}” has no official schedule for 2027"

    with time_machine.travel(datetime(2026, 11, 22, 10, 0, tzinfo=SH), tick=False):
        changelist = admin_client.get(url("tickets_businesscalendar_changelist"))
        index = admin_client.get(url("index"))

    assert expected in changelist.content.decode()
    assert expected in index.content.decode()
    upgrade = "Upgrade <code>chinesecalendar</code> and run <code>calendar_seed_china</code>"
    assert upgrade in changelist.content.decode()

    # Once 2027 is loaded, the warning goes.
    BusinessCalendar.objects.filter(pk=default_calendar.pk).update(official_years=list(range(2004, 2028)))
    with time_machine.travel(datetime(2026, 11, 22, 10, 0, tzinfo=SH), tick=False):
        changelist = admin_client.get(url("tickets_businesscalendar_changelist"))
    assert "has no official schedule" not in changelist.content.decode()


def test_missing_year_warning_is_for_those_who_can_enter_the_days(client, default_calendar, agent):
    BusinessCalendar.objects.filter(pk=default_calendar.pk).update(official_years=list(range(2004, 2027)))
    client.force_login(agent)  # staff, but no calendar permissions

    with time_machine.travel(datetime(2026, 11, 22, 10, 0, tzinfo=SH), tick=False):
        index = client.get(url("index"))

    assert index.status_code == 200
    assert "has no official schedule" not in index.content.decode()


# --- SLA policies --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        (
            {"warning_percent": "120", "breach_percent": "100", "level2_percent": "150"},
            "The ladder must rise: 0 &lt; warning (120 %) &lt; breach (100 %) &lt; level 2 (150 %).",
        ),
        (
            {"warning_percent": "75", "breach_percent": "150", "level2_percent": "150"},
            "The ladder must rise: 0 &lt; warning (75 %) &lt; breach (150 %) &lt; level 2 (150 %).",
        ),
        ({"first_response_amount": "0"}, "A target must be longer than zero."),
        ({"merchant_reply_amount": "0"}, "A target must be longer than zero."),
    ],
    ids=["warning-after-breach", "breach-equals-level2", "zero-first-response", "zero-merchant-reply"],
)
def test_a_policy_that_cannot_work_shows_a_form_error(admin_client, changes, error):
    policy = SLAPolicy.objects.get(priority="urgent")
    page = admin_client.get(url("tickets_slapolicy_change", policy.pk))
    data = {**form_data(page), **changes}

    response = admin_client.post(url("tickets_slapolicy_change", policy.pk), data)

    assert response.status_code == 200
    content = response.content.decode()
    assert error in content
    assert content.count(error) == 1
    assert "Constraint" not in content
    policy.refresh_from_db()
    assert (policy.first_response_amount, policy.warning_percent, policy.breach_percent) == (24, 75, 100)


def test_a_policy_edit_is_saved(admin_client):
    policy = SLAPolicy.objects.get(priority="urgent")
    page = admin_client.get(url("tickets_slapolicy_change", policy.pk))
    data = {**form_data(page), "first_response_amount": "12", "warning_percent": "50"}

    response = admin_client.post(url("tickets_slapolicy_change", policy.pk), data)

    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.first_response_amount, policy.first_response_unit, policy.warning_percent) == (12, "hours", 50)


def test_policies_cannot_be_deleted(admin_client):
    policy = SLAPolicy.objects.get(priority="low")
    assert admin_client.post(url("tickets_slapolicy_delete", policy.pk), {"post": "yes"}).status_code == 403
    assert SLAPolicy.objects.filter(pk=policy.pk).exists()
