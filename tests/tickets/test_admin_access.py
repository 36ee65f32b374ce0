"""The admin is a door like the desk and the API: the same visibility rule, the
same assignment rule, contact details masked for roles that do not need them,
and per role exactly the pages the role is for. From the outside, through the
test client."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import translation

from feedback.services import survey_submit
from merchants.models import MerchantStrike
from tests.builders import WANG, ticket_filed
from tests.factories import CategoryFactory, MerchantFactory, TeamFactory, UserFactory
from tests.tickets.admin_pages import form_data
from tests.tickets.test_admin import MON_10
from tickets import services
from tickets.models import Notification, Ticket

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    with translation.override("en"):
        return reverse(f"admin:{name}", args=args)


def grant(user, *codenames: str) -> None:
    """What an administrator may do on the user's page: grant admin permissions."""
    for code in codenames:
        app_label, codename = code.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


@pytest.fixture
def other_team(db):
    """A second team (Fraud) with its own agent, and a ticket there."""
    agent_b = UserFactory(username="agent_b", groups=["agents"])
    supervisor_b = UserFactory(username="supervisor_b", groups=["supervisors"])
    team = TeamFactory(name="Fraud", members=[agent_b], supervisors=[supervisor_b])
    category = CategoryFactory(code="fraud", name_zh="诈骗", name_en="Fraud", default_priority="urgent", team=team)
    return (
        team,
        agent_b,
        supervisor_b,
        ticket_filed(category, at=MON_10, **(WANG | {"requester_phone": "13911112222", "subject": "被骗了"})),
    )


@pytest.fixture
def mine(category):
    return ticket_filed(category, at=MON_10, **WANG)


def test_another_teams_ticket_is_not_found_like_a_missing_one(client, supervisor, mine, other_team):
    # given a supervisor of Orders granted the ticket pages by an administrator
    grant(supervisor, "tickets.view_ticket", "tickets.change_ticket")
    client.force_login(supervisor)
    theirs = other_team[3]
    missing = Ticket.objects.order_by("-pk").first().pk + 1000

    # when they open Fraud's ticket, and a ticket that does not exist
    response = client.get(url("tickets_ticket_change", theirs.pk), follow=True)
    absent = client.get(url("tickets_ticket_change", missing), follow=True)

    # then both end on the admin index with the same "does not exist" message, and nothing of the ticket shows
    assert response.redirect_chain == [(url("index"), 302)] == absent.redirect_chain
    said = [str(m) for m in response.context["messages"]]
    assert said == [f"ticket with ID “{theirs.pk}” doesn’t exist. Perhaps it was deleted?"]
    assert [str(m) for m in absent.context["messages"]] == [
        f"ticket with ID “{missing}” doesn’t exist. Perhaps it was deleted?"
    ]
    page = response.content.decode()
    assert "13911112222" not in page and "被骗了" not in page and theirs.reference not in page
    # nor its history, nor the list
    assert client.get(url("tickets_ticket_history", theirs.pk)).status_code == 302
    listing = client.get(url("tickets_ticket_changelist")).content.decode()
    assert mine.reference in listing and theirs.reference not in listing


def test_a_supervisor_cannot_assign_outside_the_tickets_team(client, supervisor, agent, mine, other_team):
    # given a supervisor of Orders with the ticket pages, on their own team's ticket
    grant(supervisor, "tickets.view_ticket", "tickets.change_ticket")
    client.force_login(supervisor)
    agent_b = other_team[1]
    page = client.get(url("tickets_ticket_change", mine.pk))
    choices = {str(user) for user in page.context["adminform"].form.fields["assignee"].queryset}
    assert choices == {"agent", "supervisor"}

    # when they post Fraud's agent as the assignee
    response = client.post(url("tickets_ticket_change", mine.pk), form_data(page) | {"assignee": agent_b.pk})

    # then the form refuses it and the ticket stays unassigned, invisible to that agent
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["assignee"]
    mine.refresh_from_db()
    assert mine.assignee_id is None
    client.force_login(agent_b)
    assert client.get(reverse("desk:ticket", args=[mine.pk])).status_code == 404


def test_the_assignment_rule_is_the_services_at_every_door(mine, other_team, supervisor):
    from cs_desk.exceptions import ApplicationError

    with pytest.raises(ApplicationError) as refused:
        services.ticket_assign(ticket=mine, assignee=other_team[1], actor=supervisor)
    assert refused.value.code == "not_assignable"
    mine.refresh_from_db()
    assert mine.assignee_id is None


def test_a_manager_reads_every_ticket_with_the_contact_masked_and_changes_nothing(client, manager, mine, other_team):
    grant(manager, "tickets.view_ticket", "tickets.change_ticket")
    client.force_login(manager)
    theirs = other_team[3]

    page = client.get(url("tickets_ticket_change", theirs.pk))

    html = page.content.decode()
    assert page.status_code == 200
    assert "139****2222" in html and "13911112222" not in html
    ours = client.get(url("tickets_ticket_change", mine.pk)).content.decode()
    assert "w***@example.cn" in ours and "wang@example.cn" not in ours
    assert "requester_phone" not in page.context["adminform"].form.fields
    # read-only: a post changes nothing
    response = client.post(url("tickets_ticket_change", theirs.pk), {"status": "resolved"})
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.status == "new"


def test_those_who_work_the_ticket_see_the_contact(client, supervisor, mine):
    grant(supervisor, "tickets.view_ticket", "tickets.change_ticket")
    client.force_login(supervisor)
    html = client.get(url("tickets_ticket_change", mine.pk)).content.decode()
    assert 'value="+8613800138000"' in html and 'value="wang@example.cn"' in html


def test_rows_hanging_off_tickets_follow_the_ticket(client, supervisor, agent, mine, other_team):
    # given rows of every kind on both teams' tickets
    theirs = other_team[3]
    merchant = MerchantFactory(name="开心小店")
    for ticket in (mine, theirs):
        Ticket.objects.filter(pk=ticket.pk).update(merchant=merchant)
        ticket.refresh_from_db()
        target = services.ticket_forward_to_merchant(ticket=ticket, actor=None, now=MON_10)
        MerchantStrike.objects.create(merchant=merchant, ticket=ticket, target=target, reason="missed")
        services.ticket_change_status(ticket=ticket, status="resolved", actor=None, now=MON_10)
        survey_submit(ticket=ticket, rating=4, now=MON_10)
    grant(
        supervisor,
        "tickets.view_slatarget",
        "tickets.view_ticketevent",
        "tickets.view_notification",
        "feedback.view_survey",
        "merchants.view_merchantstrike",
    )
    client.force_login(supervisor)
    pages = {
        "tickets_slatarget_changelist": "ticket",
        "tickets_ticketevent_changelist": "ticket",
        "tickets_notification_changelist": "ticket",
        "feedback_survey_changelist": "ticket",
        "merchants_merchantstrike_changelist": "ticket",
    }
    for name in pages:
        listing = client.get(url(name))
        rows = list(listing.context["cl"].result_list)
        tickets = {row.ticket_id for row in rows}
        # then each list holds rows of the supervisor's team's ticket only
        assert tickets == {mine.pk}, name
    # and one of Fraud's rows, opened by its id, is not found
    theirs_event = theirs.events.first()
    assert client.get(url("tickets_ticketevent_change", theirs_event.pk)).status_code == 302


def test_notification_recipients_are_masked_for_read_only_roles(client, manager, mine):
    grant(manager, "tickets.view_notification")
    client.force_login(manager)
    receipt = Notification.objects.get(ticket=mine, recipient="wang@example.cn")
    listing = client.get(url("tickets_notification_changelist")).content.decode()
    detail = client.get(url("tickets_notification_change", receipt.pk)).content.decode()
    assert "wang@example.cn" not in listing and "wang@example.cn" not in detail
    assert "w***@example.cn" in listing and "w***@example.cn" in detail


def offered_actions(client, page: str) -> set[str]:
    form = client.get(url(page)).context["action_form"]
    return set() if form is None else {name for name, _label in form.fields["action"].choices if name}


def test_only_those_who_may_send_again_are_offered_the_retry(client, manager, mine):
    # given a manager who reads the notifications and the webhook deliveries
    grant(manager, "tickets.view_notification", "integrations.view_webhookdelivery")
    client.force_login(manager)
    assert "retry_now" not in offered_actions(client, "tickets_notification_changelist")
    assert "redeliver" not in offered_actions(client, "integrations_webhookdelivery_changelist")

    # when an administrator lets them change notifications, then manage webhook endpoints
    grant(manager, "tickets.change_notification")
    emails_only = (
        offered_actions(client, "tickets_notification_changelist"),
        offered_actions(client, "integrations_webhookdelivery_changelist"),
    )
    grant(manager, "integrations.change_webhookendpoint")

    # then each channel's retry is offered with that channel's permission (tickets.outbox)
    assert "retry_now" in emails_only[0] and "redeliver" not in emails_only[1]
    assert "redeliver" in offered_actions(client, "integrations_webhookdelivery_changelist")


class TestRoles:
    """Administrators configure; supervisors keep their teams' canned answers;
    managers read the configuration; agents work in the desk."""

    def visible_models(self, client, user) -> set[str]:
        client.force_login(user)
        response = client.get(url("index"))
        return {m["object_name"] for app in response.context["app_list"] for m in app["models"]}

    def test_agents_have_nothing_in_the_admin(self, client, agent, mine):
        assert self.visible_models(client, agent) == set()
        assert client.get(url("tickets_ticket_change", mine.pk)).status_code == 403

    def test_supervisors_keep_canned_answers_only(self, client, supervisor):
        assert self.visible_models(client, supervisor) == {"CannedAnswer"}

    def test_managers_read_the_configuration(self, client, manager):
        assert self.visible_models(client, manager) == {
            "Team",
            "Category",
            "SLAPolicy",
            "BusinessCalendar",
            "CalendarDay",
        }
        assert client.get(url("tickets_slapolicy_add")).status_code == 403

    def test_a_supervisor_changes_only_their_teams_canned_answers(self, client, supervisor, category, other_team):
        from tickets.models import CannedAnswer

        ours = CannedAnswer.objects.create(title="退款进度", body="您好", category=category)
        general = CannedAnswer.objects.create(title="问候", body="您好")
        fraud_category = other_team[3].category
        theirs = CannedAnswer.objects.create(title="诈骗提醒", body="请报警", category=fraud_category)
        client.force_login(supervisor)

        listing = client.get(url("tickets_cannedanswer_changelist"))
        assert {a.title for a in listing.context["cl"].result_list} == {"退款进度", "问候"}
        assert client.get(url("tickets_cannedanswer_change", ours.pk)).context["has_change_permission"] is True
        assert client.get(url("tickets_cannedanswer_change", general.pk)).context["has_change_permission"] is False
        assert client.get(url("tickets_cannedanswer_change", theirs.pk)).status_code == 302  # not found
        assert client.post(url("tickets_cannedanswer_delete", general.pk), {"post": "yes"}).status_code == 403
        assert CannedAnswer.objects.filter(pk=general.pk).exists()
