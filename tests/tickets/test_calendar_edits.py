"""Calendar edits and promises already made (DESIGN.md, "Policy and calendar
edits"): an open target keeps the deadline it was promised; an administrator
may re-date the open targets explicitly, and then each gets an event with its
old and new deadline, the consumer's tracking page shows the new time and no
step already taken is taken twice. Entering a year's official schedule shows,
before saving, the days it changes and the promises a re-date would move.

Normal policy: first response 3 working days (27 h), resolution 10 working days
(90 h), 09:00–18:00 on China's calendar; the ladder at 75 / 100 / 150 %."""

import io
import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from tests.builders import ticket_filed
from tickets.calendars import calendar_changed, working_calendar
from tickets.escalation import sla_sweep
from tickets.models import CalendarDay, SLATarget, TicketEvent
from tickets.services.calendars import (
    calendar_targets_redate,
    official_schedule_effect,
    official_schedule_enter,
    promises_moved,
)

SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)

pytestmark = pytest.mark.django_db


def sh(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


def iso(instant: datetime) -> str:
    """An instant as events store it (UTC)."""
    return instant.astimezone(UTC).isoformat()


def target(ticket, kind: str) -> SLATarget:
    return SLATarget.objects.get(ticket=ticket, kind=kind)


def holiday(calendar, day: date, name: str = "公司假") -> None:
    """What the admin's day form does: a day entered by hand, and the calendar's version bumped."""
    CalendarDay.objects.create(calendar=calendar, date=day, kind="holiday", name=name, source="admin")
    calendar_changed(calendar.pk)
    calendar.refresh_from_db()


def test_a_holiday_added_later_does_not_move_an_open_promise(category, default_calendar):
    ticket = ticket_filed(category, at=MON_10)
    # 27 h from Mon 10:00: Mon 8, Tue 17, Wed 26, Thu 09:00 + 1 h → Thu 11/26 10:00.
    assert target(ticket, "first_response").due_at == sh(11, 26, 10)
    holiday(default_calendar, date(2026, 11, 25))  # Wednesday off, decided on Tuesday
    # The sweep takes the warning (75 % = 20.25 h: Mon 8, Tue 09:00 + 12.25 h → Wed 12:15 as
    # promised) and the breach at the promised Thu 10:00, not Fri 10:00.
    assert sla_sweep(now=sh(11, 25, 12, 16))["warning"] == 1
    assert sla_sweep(now=sh(11, 26, 10, 1))["breach"] == 1
    first = target(ticket, "first_response")
    assert first.due_at == sh(11, 26, 10)
    assert not ticket.events.filter(kind="target_recomputed").exists()


def test_the_administrator_re_dates_open_promises_explicitly(client, category, default_calendar, agent):
    ticket = ticket_filed(category, at=MON_10)
    # The warning is taken on Wed 11/25 12:15 as first promised.
    assert sla_sweep(now=sh(11, 25, 12, 16))["warning"] == 1
    holiday(default_calendar, date(2026, 11, 25))
    assert promises_moved(default_calendar, working_calendar(default_calendar)) == 2

    with time_machine.travel(sh(11, 25, 13), tick=False):
        assert calendar_targets_redate(calendar=default_calendar, actor=agent) == 2

    # Re-dated from the clock's start with Wednesday off: first response 27 h: Mon 8, Tue 17,
    # Thu 26, Fri 09:00 + 1 h → Fri 11/27 10:00; resolution 90 h: Mon 8, Tue 17, Thu 26, Fri 35,
    # Mon 11/30–Fri 12/4 80, Mon 12/7 89, Tue 12/8 09:00 + 1 h → Tue 12/8 10:00.
    first, resolution = target(ticket, "first_response"), target(ticket, "resolution")
    assert (first.due_at, resolution.due_at) == (sh(11, 27, 10), sh(12, 8, 10))
    recomputed = {e.target_kind: e.data for e in ticket.events.filter(kind="target_recomputed").order_by("target_kind")}
    assert recomputed == {
        "first_response": {"from": iso(sh(11, 26, 10)), "to": iso(sh(11, 27, 10)), "reason": "calendar_redated"},
        "resolution": {"from": iso(sh(12, 7, 10)), "to": iso(sh(12, 8, 10)), "reason": "calendar_redated"},
    }
    assert set(ticket.events.filter(kind="target_recomputed").values_list("actor", flat=True)) == {agent.pk}
    # The consumer's tracking page shows the new time (read on Thu 11/26 at noon, past the
    # old deadline, before the new one: "we will reply by Fri 10:00", not "late").
    with time_machine.travel(sh(11, 26, 12), tick=False):
        page = client.get(f"/t/{ticket.tracking_token}/").content.decode()
    assert "我们的答复已超时" not in page
    assert f'datetime="{sh(11, 27, 10).isoformat()}"' in page
    assert sh(11, 26, 10).isoformat() not in page
    # The warning, taken before the re-date, is not taken again (the new warning instant,
    # Thu 12:15, passes); the breach comes at the new deadline, once.
    assert sla_sweep(now=sh(11, 26, 12, 16))["warning"] == 0
    assert sla_sweep(now=sh(11, 27, 10, 1))["breach"] == 1
    assert ticket.events.filter(kind="sla_warning", target_kind="first_response").count() == 1
    # Nothing left to re-date.
    assert calendar_targets_redate(calendar=default_calendar) == 0


def test_a_re_date_that_puts_a_target_past_due_takes_the_step_once_naming_it(category, default_calendar):
    # Filed Wed 9/30 10:00 before National Day (10/1–10/7 off, Sat 10/10 worked): the first
    # response is due Sat 10/10 10:00.
    ticket = ticket_filed(category, at=sh(9, 30, 10))
    assert target(ticket, "first_response").due_at == sh(10, 10, 10)
    # Suppose the company works through the holiday after all (decided Tue 10/6 at noon).
    CalendarDay.objects.filter(calendar=default_calendar, date__range=(date(2026, 10, 1), date(2026, 10, 7))).delete()
    calendar_changed(default_calendar.pk)
    default_calendar.refresh_from_db()
    with time_machine.travel(sh(10, 6, 12), tick=False):
        calendar_targets_redate(calendar=default_calendar)
    # Re-dated: 9/30 8 h, Thu 10/1 17, Fri 10/2 26, Mon 10/5 09:00 + 1 h → Mon 10/5 10:00: past.
    assert target(ticket, "first_response").due_at == sh(10, 5, 10)
    result = sla_sweep(now=sh(10, 6, 12, 1))
    assert (result["warning"], result["breach"]) == (1, 1)
    breach = ticket.events.get(kind="sla_breach", target_kind="first_response")
    assert breach.data["cause"] == "calendar_redated"
    assert sla_sweep(now=sh(10, 6, 12, 2))["tickets"] == 0


# --- A year's official schedule --------------------------------------------------------

# A made-up 2027 schedule for the tests (the real one is not published yet): New Year's Day,
# the Spring Festival from Fri 2/5 to Thu 2/11, and Sunday 2/14 worked.
HOLIDAYS_2027 = {date(2027, 1, 1): "new_year", **{date(2027, 2, d): "spring_festival" for d in range(5, 12)}}
WORKDAYS_2027 = {date(2027, 2, 14): "spring_festival"}


def test_entering_a_years_schedule_shows_its_effect_then_keeps_or_re_dates_promises(
    low_category, default_calendar, agent
):
    # Low: 5 working days = 45 h. Filed Thu 2027-02-11 10:00, a working day under the provisional
    # 2027 (Spring Festival 2/5–2/8, 补假 Tue 2/9 and Wed 2/10): Thu 8 h, Fri 2/12 17, Mon 2/15 26,
    # Tue 2/16 35, Wed 2/17 44, Thu 2/18 09:00 + 1 h → Thu 2/18 10:00.
    ticket = ticket_filed(low_category, at=sh(2, 11, 10, year=2027))
    assert target(ticket, "first_response").due_at == sh(2, 18, 10, year=2027)

    effect = official_schedule_effect(
        calendar=default_calendar, year=2027, holidays=HOLIDAYS_2027, workdays=WORKDAYS_2027
    )
    # Thu 2/11 becomes a day off and Sun 2/14 a working day; the provisional days the made-up
    # schedule leaves out (Qingming, Labour Day, …) become working days.
    assert {date(2027, 2, 11), date(2027, 2, 14)} <= set(effect.days)
    assert date(2027, 2, 10) not in effect.days  # off either way
    assert effect.promises == 2  # the first response and the resolution

    # Saved without re-dating: the year is official, the promise stands.
    result = official_schedule_enter(
        calendar=default_calendar, year=2027, holidays=HOLIDAYS_2027, workdays=WORKDAYS_2027, redate=False
    )
    assert result == {"holidays": 8, "workdays": 1, "redated": 0}
    default_calendar.refresh_from_db()
    assert 2027 in default_calendar.official_years
    assert target(ticket, "first_response").due_at == sh(2, 18, 10, year=2027)

    # Re-dated: Thu 2/11 is off, so the clock starts Fri 2/12 09:00: Fri 9 h, Sun 2/14 18,
    # Mon 27, Tue 36, Wed 2/17 45 → Wed 2/17 18:00 (the closing instant).
    calendar_targets_redate(calendar=default_calendar, actor=agent)
    assert target(ticket, "first_response").due_at == sh(2, 17, 18, year=2027)


def test_the_command_reports_the_promises_a_re_date_would_move(category, default_calendar):
    ticket = ticket_filed(category, at=MON_10)
    holiday(default_calendar, date(2026, 11, 25))
    out = io.StringIO()
    call_command("calendar_seed_china", "--year", "2026", stdout=out)
    assert json.loads(out.getvalue())["promises_moved"] == 2  # kept, and said
    assert target(ticket, "first_response").due_at == sh(11, 26, 10)
    out = io.StringIO()
    call_command("calendar_seed_china", "--year", "2026", "--redate", stdout=out)
    assert json.loads(out.getvalue())["redated"] == 2
    assert target(ticket, "first_response").due_at == sh(11, 27, 10)


# --- The admin --------------------------------------------------------------------------


def test_the_admin_previews_then_saves_a_years_schedule(admin_client, low_category, default_calendar):
    ticket = ticket_filed(low_category, at=sh(2, 11, 10, year=2027))  # due Thu 2/18 10:00 (above)
    url = f"/admin/tickets/businesscalendar/{default_calendar.pk}/official/"
    data = {
        "year": "2027",
        "holidays": "2027-01-01 元旦\n2027-02-05 至 2027-02-11 春节\n",
        "workdays": "2027-02-14 春节",
    }
    preview = admin_client.post(url, {**data, "preview": "1"})
    page = preview.content.decode()
    assert preview.status_code == 200
    assert "2 个未完成的承诺在重新计时后会改变" in page
    assert "2027-02-14" in page and "变为工作日" in page
    assert not CalendarDay.objects.filter(calendar=default_calendar, date__year=2027).exists()  # nothing saved

    saved = admin_client.post(url, {**data, "redate": "on", "save": "1"})
    assert saved.status_code == 302
    assert CalendarDay.objects.get(calendar=default_calendar, date=date(2027, 2, 14)).festival == "spring_festival"
    assert target(ticket, "first_response").due_at == sh(2, 17, 18, year=2027)
    assert TicketEvent.objects.filter(ticket=ticket, kind="target_recomputed", data__reason="calendar_redated").exists()


def test_the_admin_refuses_a_bad_schedule_with_the_line_at_fault(admin_client, default_calendar):
    url = f"/admin/tickets/businesscalendar/{default_calendar.pk}/official/"
    response = admin_client.post(url, {"year": "2027", "holidays": "2027-02-05 圣诞节\n2027-13-01", "preview": "1"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "第 1 行" in page and "圣诞节" in page and "2027-13-01" in page
    response = admin_client.post(url, {"year": "2027", "holidays": "2028-01-01 元旦", "preview": "1"})
    assert "2028-01-01 不在 2027 年内" in response.content.decode()


def test_editing_a_day_says_how_many_promises_a_re_date_would_move(admin_client, category, default_calendar):
    ticket_filed(category, at=MON_10)
    response = admin_client.post(
        "/admin/tickets/calendarday/add/",
        {"calendar": default_calendar.pk, "date": "2026-11-25", "kind": "holiday", "name": "公司假"},
        follow=True,
    )
    page = response.content.decode()
    assert "2 个承诺" in page and f"/admin/tickets/businesscalendar/{default_calendar.pk}/redate/" in page
    confirm = admin_client.get(f"/admin/tickets/businesscalendar/{default_calendar.pk}/redate/")
    assert "2 个未完成的承诺会改变" in confirm.content.decode()
    admin_client.post(f"/admin/tickets/businesscalendar/{default_calendar.pk}/redate/")
    assert SLATarget.objects.filter(redate_reason="calendar_redated").count() == 2


def test_only_those_who_may_edit_calendars_re_date(client, agent, default_calendar):
    client.force_login(agent)
    for path in ("redate", "official"):
        assert client.get(f"/admin/tickets/businesscalendar/{default_calendar.pk}/{path}/").status_code == 403
        assert client.post(f"/admin/tickets/businesscalendar/{default_calendar.pk}/{path}/").status_code == 403


def test_a_preview_moves_nothing(category, default_calendar):
    ticket = ticket_filed(category, at=MON_10)
    before = target(ticket, "first_response").due_at
    official_schedule_effect(calendar=default_calendar, year=2027, holidays=HOLIDAYS_2027, workdays=WORKDAYS_2027)
    assert target(ticket, "first_response").due_at == before
