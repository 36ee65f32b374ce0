"""The Django admin, driven through the test client as an administrator: every
page answers, calendars that cannot work are refused with a form error, calendar
edits invalidate the compiled calendars, the audit trail cannot be edited, and
ticket edits go through the services (an event, re-dated targets)."""

from datetime import date, datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from PIL import Image

from feedback.models import AlertKeyword
from feedback.services import feedback_submit, survey_submit
from integrations.models import WebhookAttempt, WebhookEndpoint, WebhookEvent
from integrations.tokens import staff_token_create
from merchants.models import MerchantDocument, MerchantRiskSignal, MerchantStrike
from merchants.penalties import merchant_penalty_impose
from merchants.scoring import merchant_scores_compute
from merchants.tokens import token_create
from reports.digest import daily_digest_send
from tests.factories import MerchantFactory, MerchantUserFactory, UserFactory
from tickets import services
from tickets.calendars import working_calendar
from tickets.escalation import sla_sweep
from tickets.models import (
    Attachment,
    BusinessCalendar,
    CalendarDay,
    CannedAnswer,
    Message,
    Notification,
    SLAPolicy,
    SLATarget,
    StaffProfile,
    Ticket,
    TicketEvent,
    WorkingPeriod,
)

SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)  # Monday, an ordinary working week

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    """Admin URLs in English, so that assertions on our own messages do not
    depend on the Chinese translation (the unprefixed URLs are zh-hans)."""
    with translation.override("en"):
        return reverse(f"admin:{name}", args=args)


def form_data(response) -> dict:
    """What the browser would post back for an unchanged admin change form."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
    return data


def screenshot():
    from tickets.uploads import evidence_clean

    buffer = BytesIO()
    Image.new("RGB", (8, 8), (255, 0, 0)).save(buffer, "PNG")
    return evidence_clean(SimpleUploadedFile("截图.png", buffer.getvalue(), "image/png"))


def file_ticket(category, **extra) -> Ticket:
    fields = {
        "subject": "退款一直没有到账",
        "body": "订单 2026112312345 退款七天了还没到账。",
        "requester_name": "王小明",
        "requester_email": "wang@example.cn",
        "requester_phone": "13800138000",
        "now": MON_10,
    }
    return services.ticket_create(category=category, **(fields | extra))


@pytest.fixture
def default_calendar() -> BusinessCalendar:
    return BusinessCalendar.objects.get(is_default=True)


# --- Every page answers -------------------------------------------------------------


@pytest.fixture
def one_of_each(category, agent):
    """At least one row of every registered model, made the way the system makes them."""
    merchant = MerchantFactory(name="开心小店", shop_id="SHOP00042")
    MerchantUserFactory(merchant=merchant)
    StaffProfile.objects.create(user=agent, alias="小美")
    AlertKeyword.objects.create(word="诈骗")
    CannedAnswer.objects.create(
        title="退款进度", body="您好{consumer_name}，您的投诉 {reference} 正在处理。", category=category
    )
    staff_token_create(user=agent, name="order system")
    WebhookEndpoint.objects.create(name="ERP", url="https://erp.example.cn/hooks", events=list(WebhookEvent.values))
    # message, targets, events, receipt notification, a keyword hit, webhook deliveries
    ticket = file_ticket(category, merchant=merchant, body="有人诈骗", evidence=[screenshot()])
    target = services.ticket_forward_to_merchant(ticket=ticket, actor=agent, note="请尽快回复", now=MON_10)
    MerchantStrike.objects.create(merchant=merchant, ticket=ticket, target=target, reason="No reply within 24 h")
    penalty = merchant_penalty_impose(merchant=merchant, kind="warning", reason="测试", actor=agent, tickets=[ticket])
    assert penalty.pk
    MerchantRiskSignal.objects.create(kind="shared_contact", key="phone:1", detected_at=MON_10, last_seen_at=MON_10)
    token_create(user=merchant.users.first().user, name="ERP")
    merchant_scores_compute(now=MON_10)
    services.ticket_change_status(ticket=ticket, status="resolved", actor=agent, now=MON_10)
    survey_submit(ticket=ticket, rating=5, now=MON_10)
    feedback_submit(topic="site", body="诈骗短信太多了", language="zh-hans", now=MON_10)
    daily_digest_send(now=MON_10)
    return ticket


def test_every_model_of_the_project_is_in_the_admin():
    ours = {
        m
        for label in ("tickets", "merchants", "feedback", "integrations")
        for m in apps.get_app_config(label).get_models()
    }
    inlines = {inline.model for model_admin in admin.site._registry.values() for inline in model_admin.inlines}
    assert ours - set(admin.site._registry) - inlines == set()
    # Shown with their parent only: a calendar's working hours, a ticket's conversation and evidence,
    # a webhook delivery's attempts.
    assert ours - set(admin.site._registry) == {WorkingPeriod, Message, Attachment, MerchantDocument, WebhookAttempt}


def test_every_admin_page_answers(admin_client, admin_user, one_of_each):
    request = RequestFactory().get("/")
    request.user = admin_user
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        prefix = f"{opts.app_label}_{opts.model_name}"
        response = admin_client.get(url(f"{prefix}_changelist"))
        assert response.status_code == 200, f"{prefix} changelist"
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"no {opts.label} row to open"
        response = admin_client.get(url(f"{prefix}_change", obj.pk))
        assert response.status_code == 200, f"{prefix} change"
        if model_admin.has_add_permission(request):
            response = admin_client.get(url(f"{prefix}_add"))
            assert response.status_code == 200, f"{prefix} add"
    # The default, Chinese admin answers too.
    assert admin_client.get("/admin/").status_code == 200
    assert admin_client.get(f"/admin/tickets/ticket/{one_of_each.pk}/change/").status_code == 200


@pytest.mark.parametrize(
    "changelist", ["tickets_ticket", "tickets_ticketevent", "tickets_notification", "tickets_slatarget"]
)
def test_large_changelists_do_not_query_per_row(admin_client, category, changelist):
    file_ticket(category)
    with CaptureQueriesContext(connection) as one:
        assert admin_client.get(url(f"{changelist}_changelist")).status_code == 200
    for _ in range(4):
        file_ticket(category)
    with CaptureQueriesContext(connection) as five:
        assert admin_client.get(url(f"{changelist}_changelist")).status_code == 200
    assert len(five.captured_queries) == len(one.captured_queries)


def test_ticket_list_filters_by_escalation_level(admin_client, category, urgent_category):
    urgent = file_ticket(urgent_category)
    normal = file_ticket(category)
    # 25 h later: the urgent first response (24 calendar hours) has breached; the normal
    # one (3 working days = 27 business hours, due Thu 2026-11-26 10:00) has not.
    sla_sweep(now=MON_10 + timedelta(hours=25))

    level1 = admin_client.get(url("tickets_ticket_changelist") + "?escalation_level=1")
    level0 = admin_client.get(url("tickets_ticket_changelist") + "?escalation_level=0")

    assert [t.pk for t in level1.context["cl"].result_list] == [urgent.pk]
    assert [t.pk for t in level0.context["cl"].result_list] == [normal.pk]


def test_tickets_cannot_be_added_or_deleted_here(admin_client, category):
    ticket = file_ticket(category)
    assert admin_client.get(url("tickets_ticket_add")).status_code == 403
    assert admin_client.post(url("tickets_ticket_delete", ticket.pk), {"post": "yes"}).status_code == 403
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_non_staff_user_is_sent_to_the_login_page(client):
    client.force_login(UserFactory(username="consumer", is_staff=False))
    response = client.get(url("tickets_ticket_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(url("login"))


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
    assert "Upgrade chinesecalendar and run calendar_seed_china" in changelist.content.decode()

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


# --- The audit trail ---------------------------------------------------------------


def test_ticket_events_cannot_be_added_changed_or_deleted(admin_client, category):
    ticket = file_ticket(category)
    event = ticket.events.get(kind="created")

    page = admin_client.get(url("tickets_ticketevent_change", event.pk))
    assert page.status_code == 200  # it can be read
    assert 'name="_save"' not in page.content.decode()
    assert admin_client.post(url("tickets_ticketevent_change", event.pk), {"kind": "sla_breach"}).status_code == 403
    assert admin_client.get(url("tickets_ticketevent_delete", event.pk)).status_code == 403
    assert admin_client.post(url("tickets_ticketevent_delete", event.pk), {"post": "yes"}).status_code == 403
    assert admin_client.get(url("tickets_ticketevent_add")).status_code == 403
    response = admin_client.post(
        url("tickets_ticketevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert TicketEvent.objects.filter(pk=event.pk, kind="created").exists()
    assert response.status_code in (200, 302)


def test_sla_targets_are_read_only(admin_client, category):
    ticket = file_ticket(category)
    target = ticket.targets.get(kind="first_response")
    assert admin_client.post(url("tickets_slatarget_change", target.pk), {"status": "met"}).status_code == 403
    target.refresh_from_db()
    assert target.status == "running"


# --- Tickets go through the services ------------------------------------------------


def post_ticket_change(client, ticket: Ticket, **changes):
    page = client.get(url("tickets_ticket_change", ticket.pk))
    return client.post(url("tickets_ticket_change", ticket.pk), {**form_data(page), **changes})


def test_status_change_in_the_admin_goes_through_the_service(admin_client, admin_user, category):
    ticket = file_ticket(category)

    with time_machine.travel(MON_10 + timedelta(hours=2), tick=False):
        response = post_ticket_change(admin_client, ticket, status="pending")

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "pending"
    event = ticket.events.get(kind="status_changed")
    assert (event.actor, event.data) == (admin_user, {"from": "new", "to": "pending"})
    assert event.created_at == MON_10 + timedelta(hours=2)
    # Pending owes no reply and stops the resolution clock (DESIGN.md).
    assert ticket.targets.get(kind="first_response").status == SLATarget.Status.CANCELLED
    resolution = ticket.targets.get(kind="resolution")
    assert (resolution.status, resolution.paused_at) == (SLATarget.Status.PAUSED, MON_10 + timedelta(hours=2))


def test_priority_change_in_the_admin_re_dates_the_targets(admin_client, admin_user, category):
    ticket = file_ticket(category)  # normal: first response in 3 working days, Thu 2026-11-26 10:00

    with time_machine.travel(MON_10 + timedelta(hours=1), tick=False):
        response = post_ticket_change(admin_client, ticket, priority="urgent")

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.priority == "urgent"
    event = ticket.events.get(kind="priority_changed")
    assert (event.actor, event.data["from"], event.data["to"]) == (admin_user, "normal", "urgent")
    # Urgent: 24 calendar hours from the clock's start, Mon 10:00 → Tue 2026-11-24 10:00.
    assert ticket.targets.get(kind="first_response").due_at == datetime(2026, 11, 24, 10, 0, tzinfo=SH)
    # Resolution, 72 calendar hours → Thu 2026-11-26 10:00.
    assert ticket.targets.get(kind="resolution").due_at == datetime(2026, 11, 26, 10, 0, tzinfo=SH)
    assert ticket.due_at == datetime(2026, 11, 24, 10, 0, tzinfo=SH)


def test_assignment_and_description_edits_in_the_admin(admin_client, admin_user, category, agent):
    ticket = file_ticket(category)

    response = post_ticket_change(admin_client, ticket, assignee=agent.pk, subject="退款未到账（订单 2026112312345）")

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.subject) == (agent, "退款未到账（订单 2026112312345）")
    event = ticket.events.get(kind="assigned")
    assert (event.actor, event.data) == (admin_user, {"from": None, "to": agent.pk})


def test_a_move_the_agent_could_not_make_is_refused(admin_client, category):
    ticket = file_ticket(category)

    response = post_ticket_change(admin_client, ticket, status="awaiting_merchant")

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "new"
    assert not ticket.events.filter(kind="status_changed").exists()


def test_a_stale_ticket_form_is_refused(admin_client, category, agent):
    ticket = file_ticket(category)
    page = admin_client.get(url("tickets_ticket_change", ticket.pk))
    # Meanwhile an agent answers: the ticket moves to "open".
    services.ticket_reply(ticket=ticket, author=agent, body="您好，我们正在核实。", now=MON_10 + timedelta(hours=1))

    response = admin_client.post(url("tickets_ticket_change", ticket.pk), {**form_data(page), "priority": "low"})

    assert response.status_code == 200
    assert "This ticket changed while you were editing it" in response.content.decode()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == ("open", "normal")


def test_requester_contact_is_validated(admin_client, category):
    ticket = file_ticket(category)

    response = post_ticket_change(admin_client, ticket, requester_email="", requester_phone="")
    assert response.status_code == 200
    assert "Give a phone number or an email address so that we can reply." in response.content.decode()

    response = post_ticket_change(admin_client, ticket, requester_phone="call me")
    assert response.status_code == 200
    assert (
        "Enter a valid phone number: a mainland China mobile or landline, or + and the country code."
        in response.content.decode()
    )
    ticket.refresh_from_db()
    assert (ticket.requester_email, ticket.requester_phone) == ("wang@example.cn", "+8613800138000")


# --- The outbox ------------------------------------------------------------------------


def test_retry_now_requeues_pending_and_failed_notifications(
    admin_client, category, monkeypatch, django_capture_on_commit_callbacks
):
    from tickets.tasks import notifications_deliver_task

    dispatched = []
    monkeypatch.setattr(notifications_deliver_task, "delay", lambda ids: dispatched.append(list(ids)))
    ticket = file_ticket(category)
    receipt = Notification.objects.get(ticket=ticket, kind="ticket_received")
    failed = Notification.objects.create(
        ticket=ticket, kind="agent_replied", recipient="a@example.cn", subject="s", body="b", status="failed",
        attempts=8, next_attempt_at=MON_10, last_error="SMTPServerDisconnected",
    )  # fmt: skip
    sent = Notification.objects.create(
        ticket=ticket, kind="agent_replied", recipient="b@example.cn", subject="s", body="b", status="sent",
        attempts=1, next_attempt_at=MON_10,
    )  # fmt: skip
    now = datetime(2026, 11, 25, 9, 0, tzinfo=SH)

    with time_machine.travel(now, tick=False), django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(
            url("tickets_notification_changelist"),
            {"action": "retry_now", "_selected_action": [receipt.pk, failed.pk, sent.pk]},
        )

    assert response.status_code == 302
    assert len(callbacks) == 1
    assert dispatched == [sorted([receipt.pk, failed.pk])]
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.next_attempt_at) == ("pending", 0, now)
    receipt.refresh_from_db()
    assert (receipt.status, receipt.next_attempt_at) == ("pending", now)
    sent.refresh_from_db()
    assert sent.status == "sent"
