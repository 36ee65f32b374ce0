"""The Django admin, driven through the test client as an administrator: every
page answers, the audit trail cannot be edited, ticket edits go through the
services (an event, re-dated targets), and the outbox's rows are retried through
the outbox. The configuration pages (calendars, SLA policies) are in
test_admin_config.py."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.models import ApiKey
from feedback.services import feedback_submit, survey_submit
from integrations.models import WebhookAttempt, WebhookEndpoint, WebhookEvent
from integrations.tokens import staff_token_create
from mail.inbound import mail_receive
from merchants.appeals import penalty_appeal_file
from merchants.models import MerchantDocument, MerchantRiskSignal, MerchantStrike
from merchants.penalties import merchant_penalty_impose
from merchants.scoring import merchant_scores_compute
from merchants.tokens import token_create
from reports.digest import daily_digest_send
from tests.builders import WANG, picture, ticket_filed
from tests.factories import MerchantFactory, MerchantUserFactory, TeamFactory, UserFactory
from tests.tickets.admin_pages import form_data, url
from tickets import services
from tickets.escalation import sla_sweep
from tickets.models import (
    AlertKeyword,
    Attachment,
    CannedAnswer,
    ConfigStamp,
    Message,
    Notification,
    SLATarget,
    StaffAlert,
    StaffProfile,
    Ticket,
    TicketEvent,
    WorkingPeriod,
)
from tickets.services.chat import availability_set, chat_accept, chat_start
from tickets.services.worktime import work_time_add

SH = ZoneInfo("Asia/Shanghai")
MON_10 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)  # Monday, an ordinary working week


pytestmark = pytest.mark.django_db


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
    ticket = ticket_filed(category, at=MON_10, **(WANG | {"body": "有人诈骗"}), merchant=merchant, evidence=[picture()])
    target = services.ticket_forward_to_merchant(ticket=ticket, actor=agent, note="请尽快回复", now=MON_10)
    MerchantStrike.objects.create(merchant=merchant, ticket=ticket, target=target, reason="No reply within 24 h")
    penalty = merchant_penalty_impose(merchant=merchant, kind="warning", reason="测试", actor=agent, tickets=[ticket])
    assert penalty.pk
    penalty_appeal_file(
        penalty=penalty, body="已按时回复，请撤销。", source="portal", filed_by=merchant.users.first().user
    )
    MerchantRiskSignal.objects.create(kind="shared_contact", key="phone:1", detected_at=MON_10, last_seen_at=MON_10)
    token_create(user=merchant.users.first().user, name="ERP")
    merchant_scores_compute(now=MON_10)
    services.ticket_change_status(ticket=ticket, status="resolved", actor=agent, now=MON_10)
    survey_submit(ticket=ticket, rating=5, now=MON_10)
    feedback_submit(topic="site", body="诈骗短信太多了", language="zh-hans", now=MON_10)
    daily_digest_send(now=MON_10)
    # an incoming email: a new complaint by mail
    mail_receive(
        b"From: Li Lei <li.lei@example.cn>\r\nTo: refund@cs-desk.example\r\nSubject: refund\r\n"
        b"Message-ID: <admin-page@example.cn>\r\n\r\nNo refund yet.\r\n",
        via="smtp",
    )
    # a breach, which alerts the team's supervisor in the desk
    ticket_filed(category, at=MON_10 - timedelta(days=30), subject="一个月没人回复")
    sla_sweep(now=MON_10)
    assert StaffAlert.objects.exists()
    # a chat the agent took
    availability_set(user=agent, status="online")
    chat = chat_start(category=category, body="在吗？", requester_name="李娜", requester_phone="13812345678")
    chat_accept(ticket=chat, agent=agent)
    # the agent's working time on the ticket (the reply box's beats)
    work_time_add(ticket_id=ticket.pk, user_id=agent.pk, seconds=10, now=MON_10)
    return ticket


def test_every_model_of_the_project_is_in_the_admin():
    ours = {
        m
        for label in ("accounts", "tickets", "merchants", "feedback", "integrations")
        for m in apps.get_app_config(label).get_models()
    }
    inlines = {inline.model for model_admin in admin.site._registry.values() for inline in model_admin.inlines}
    # API keys are shown as the staff tokens (integrations) and the merchant tokens (merchants).
    shown_as = {model._meta.concrete_model for model in admin.site._registry if model._meta.proxy}
    # Machinery, not data: the configuration stamp, written only by database triggers.
    internal = {ConfigStamp}
    assert ours - set(admin.site._registry) - inlines - shown_as - internal == set()
    # Shown with their parent only: a calendar's working hours, a ticket's conversation and evidence,
    # a webhook delivery's attempts; and the keys, through their two views.
    elsewhere = {WorkingPeriod, Message, Attachment, MerchantDocument, WebhookAttempt, ApiKey}
    assert ours - set(admin.site._registry) - internal == elsewhere


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
    ticket_filed(category, at=MON_10, **WANG)
    with CaptureQueriesContext(connection) as one:
        assert admin_client.get(url(f"{changelist}_changelist")).status_code == 200
    for _ in range(4):
        ticket_filed(category, at=MON_10, **WANG)
    with CaptureQueriesContext(connection) as five:
        assert admin_client.get(url(f"{changelist}_changelist")).status_code == 200
    assert len(five.captured_queries) == len(one.captured_queries)


def test_ticket_list_filters_by_escalation_level(admin_client, category, urgent_category):
    urgent = ticket_filed(urgent_category, at=MON_10, **WANG)
    normal = ticket_filed(category, at=MON_10, **WANG)
    # 25 h later: the urgent first response (24 calendar hours) has breached; the normal
    # one (3 working days = 27 business hours, due Thu 2026-11-26 10:00) has not.
    sla_sweep(now=MON_10 + timedelta(hours=25))

    level1 = admin_client.get(url("tickets_ticket_changelist") + "?escalation_level=1")
    level0 = admin_client.get(url("tickets_ticket_changelist") + "?escalation_level=0")

    assert [t.pk for t in level1.context["cl"].result_list] == [urgent.pk]
    assert [t.pk for t in level0.context["cl"].result_list] == [normal.pk]


def test_tickets_cannot_be_added_or_deleted_here(admin_client, category):
    ticket = ticket_filed(category, at=MON_10, **WANG)
    assert admin_client.get(url("tickets_ticket_add")).status_code == 403
    assert admin_client.post(url("tickets_ticket_delete", ticket.pk), {"post": "yes"}).status_code == 403
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_non_staff_user_is_sent_to_the_login_page(client):
    client.force_login(UserFactory(username="consumer", is_staff=False))
    response = client.get(url("tickets_ticket_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(url("login"))


# --- The audit trail ---------------------------------------------------------------


def test_ticket_events_cannot_be_added_changed_or_deleted(admin_client, category):
    ticket = ticket_filed(category, at=MON_10, **WANG)
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
    ticket = ticket_filed(category, at=MON_10, **WANG)
    target = ticket.targets.get(kind="first_response")
    assert admin_client.post(url("tickets_slatarget_change", target.pk), {"status": "met"}).status_code == 403
    target.refresh_from_db()
    assert target.status == "running"


# --- Tickets go through the services ------------------------------------------------


def post_ticket_change(client, ticket: Ticket, **changes):
    page = client.get(url("tickets_ticket_change", ticket.pk))
    return client.post(url("tickets_ticket_change", ticket.pk), {**form_data(page), **changes})


def test_status_change_in_the_admin_goes_through_the_service(admin_client, admin_user, category):
    ticket = ticket_filed(category, at=MON_10, **WANG)

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
    ticket = ticket_filed(category, at=MON_10, **WANG)  # normal: first response in 3 working days, Thu 2026-11-26 10:00

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
    ticket = ticket_filed(category, at=MON_10, **WANG)

    response = post_ticket_change(admin_client, ticket, assignee=agent.pk, subject="退款未到账（订单 2026112312345）")

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.subject) == (agent, "退款未到账（订单 2026112312345）")
    event = ticket.events.get(kind="assigned")
    assert (event.actor, event.data) == (admin_user, {"from": None, "to": agent.pk})


def test_a_move_the_agent_could_not_make_is_refused(admin_client, category):
    ticket = ticket_filed(category, at=MON_10, **WANG)

    response = post_ticket_change(admin_client, ticket, status="awaiting_merchant")

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "new"
    assert not ticket.events.filter(kind="status_changed").exists()


def test_a_stale_ticket_form_is_refused(admin_client, category, agent):
    ticket = ticket_filed(category, at=MON_10, **WANG)
    page = admin_client.get(url("tickets_ticket_change", ticket.pk))
    # Meanwhile an agent answers: the ticket moves to "open".
    services.ticket_reply(ticket=ticket, author=agent, body="您好，我们正在核实。", now=MON_10 + timedelta(hours=1))

    response = admin_client.post(url("tickets_ticket_change", ticket.pk), {**form_data(page), "priority": "low"})

    assert response.status_code == 200
    assert "This ticket changed while you were editing it" in response.content.decode()
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == ("open", "normal")


def test_a_multi_field_change_writes_each_event_once(admin_client, admin_user, category, agent):
    ticket = ticket_filed(category, at=MON_10, **WANG)

    with time_machine.travel(MON_10 + timedelta(hours=4), tick=False):
        response = post_ticket_change(admin_client, ticket, priority="urgent", assignee=agent.pk, status="pending")

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.assignee, ticket.status) == ("urgent", agent, "pending")
    written = list(ticket.events.order_by("id")[3:])  # after the filing's three
    # Urgent re-dates both owed targets; pending then stops the resolution clock and owes no reply.
    assert [(e.kind, e.target_kind) for e in written] == [
        ("priority_changed", ""),
        ("target_recomputed", "first_response"),
        ("target_recomputed", "resolution"),
        ("assigned", ""),
        ("target_paused", "resolution"),
        ("target_cancelled", "first_response"),
        ("status_changed", ""),
    ]
    assert {(e.actor, e.created_at) for e in written} == {(admin_user, MON_10 + timedelta(hours=4))}


def test_admin_status_with_an_assignee_outside_the_team_changes_nothing(admin_client, category):
    ticket = ticket_filed(category, at=MON_10, **WANG)
    outsider = UserFactory(username="agent_b", groups=["agents"])
    TeamFactory(name="Fraud", members=[outsider])

    response = post_ticket_change(
        admin_client, ticket, status="pending", assignee=outsider.pk, subject="退款未到账（已催）"
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["assignee"]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee_id, ticket.subject) == ("new", None, "退款一直没有到账")
    assert list(ticket.events.values_list("kind", flat=True)) == ["created", "target_opened", "target_opened"]


def test_a_change_refused_under_the_lock_undoes_the_whole_page(admin_client, category, team, agent, monkeypatch):
    from django.contrib.admin.models import LogEntry

    from tickets.admin.tickets import TicketAdmin

    ticket = ticket_filed(category, at=MON_10, **WANG)
    page = admin_client.get(url("tickets_ticket_change", ticket.pk))
    save_form = TicketAdmin.save_form

    def agent_leaves_the_team_meanwhile(self, request, form, change):
        # The form has accepted the agent; before the save, a supervisor takes them off the team.
        team.members.remove(agent)
        return save_form(self, request, form, change)

    monkeypatch.setattr(TicketAdmin, "save_form", agent_leaves_the_team_meanwhile)

    response = admin_client.post(
        url("tickets_ticket_change", ticket.pk),
        {
            **form_data(page),
            "subject": "退款未到账（已催）",
            "priority": "urgent",
            "status": "pending",
            "assignee": agent.pk,
        },
        follow=True,
    )

    # The page comes back with the service's refusal, and nothing of the post was kept.
    assert response.redirect_chain == [(url("tickets_ticket_change", ticket.pk), 302)]
    assert [str(m) for m in response.context["messages"]] == ["agent is not in this ticket's team."]
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.priority, ticket.status, ticket.assignee_id) == (
        "退款一直没有到账",
        "normal",
        "new",
        None,
    )
    assert list(ticket.events.values_list("kind", flat=True)) == ["created", "target_opened", "target_opened"]
    assert not LogEntry.objects.filter(object_id=str(ticket.pk)).exists()


def test_requester_contact_is_validated(admin_client, category):
    ticket = ticket_filed(category, at=MON_10, **WANG)

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
    ticket = ticket_filed(category, at=MON_10, **WANG)
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
