"""Who may see and work which ticket (tickets.access), asked of the module
directly. The doors (desk, API, admin) are tested from the outside in
tests/tickets/test_desk.py, test_desk_tools.py and test_admin_access.py.

The marketplace: two teams, Orders (agent, supervisor) and Fraud (agent_b,
supervisor_b); a manager; an administrator; a shop's login; a consumer with a
tracking link. Four tickets: one of Orders, one of Orders about the shop and
forwarded to it, one of Orders about the shop not forwarded, one of Fraud."""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser, Permission

from merchants.access import complaints_for
from tests.builders import ticket_filed
from tests.factories import CategoryFactory, MerchantFactory, MerchantUserFactory, TeamFactory, UserFactory
from tickets import access, services
from tickets.models import CannedAnswer, Message, Notification, Ticket
from tickets.selectors import ticket_for_token

pytestmark = pytest.mark.django_db


@dataclass
class Market:
    orders_ticket: Ticket
    forwarded: Ticket  # Orders, about the shop, forwarded to it
    not_forwarded: Ticket  # Orders, about the shop, never forwarded
    fraud_ticket: Ticket
    users: dict

    def __getitem__(self, name: str):
        return self.users[name]


@pytest.fixture
def market(agent, supervisor, manager, team, category) -> Market:
    agent_b = UserFactory(username="agent_b", groups=["agents"])
    supervisor_b = UserFactory(username="supervisor_b", groups=["supervisors"])
    fraud_team = TeamFactory(name="Fraud", members=[agent_b], supervisors=[supervisor_b])
    fraud = CategoryFactory(code="fraud", name_zh="诈骗", name_en="Fraud", default_priority="urgent", team=fraud_team)
    shop = MerchantFactory(name="开心小店", shop_id="SHOP00042")
    forwarded = ticket_filed(category, merchant=shop, subject="商家不回复")
    services.ticket_forward_to_merchant(ticket=forwarded, actor=agent, note="请回复")
    users = {
        "agent": agent,
        "supervisor": supervisor,
        "manager": manager,
        "agent_b": agent_b,
        "supervisor_b": supervisor_b,
        "admin": UserFactory(username="root", is_superuser=True),
        "shop": MerchantUserFactory(merchant=shop, user__username="shopkeeper").user,
        "no_role": UserFactory(username="intern"),  # staff flag, no role group
        "inactive": UserFactory(username="left", groups=["agents"], is_active=False),
    }
    TeamFactory(name="Orders", members=[users["inactive"]])
    return Market(
        orders_ticket=ticket_filed(category, subject="退款没到账"),
        forwarded=forwarded,
        not_forwarded=ticket_filed(category, merchant=shop, subject="发错货"),
        fraud_ticket=ticket_filed(fraud, subject="被骗了"),
        users=users,
    )


def visible(user) -> set[str]:
    return set(access.tickets_visible_to(user).values_list("subject", flat=True))


ALL = {"退款没到账", "商家不回复", "发错货", "被骗了"}
ORDERS = {"退款没到账", "商家不回复", "发错货"}


class TestWhoSeesWhichTicket:
    def test_staff_see_their_teams_tickets_managers_and_administrators_all(self, market):
        # (one world for every reader: each role in a parametrised test would build it again)
        assert {who: visible(user) for who, user in market.users.items()} == {
            "agent": ORDERS,
            "supervisor": ORDERS,
            "agent_b": {"被骗了"},
            "supervisor_b": {"被骗了"},
            "manager": ALL,
            "admin": ALL,
            "shop": set(),
            "no_role": set(),
            "inactive": set(),
        }

    def test_nobody_signed_in_sees_nothing(self, market):
        assert visible(AnonymousUser()) == set()

    def test_a_shop_sees_only_the_complaints_about_it_that_were_forwarded_to_it(self, market):
        other_shop = MerchantFactory(name="别家店")
        assert set(complaints_for(market["shop"].merchant_link.merchant).values_list("subject", flat=True)) == {
            "商家不回复"
        }
        assert not complaints_for(other_shop).exists()

    def test_the_consumers_link_opens_its_own_ticket_only(self, market):
        assert ticket_for_token(token=market.fraud_ticket.tracking_token) == market.fraud_ticket
        assert ticket_for_token(token=market.fraud_ticket.reference) is None  # never by its reference
        assert ticket_for_token(token=str(market.fraud_ticket.pk)) is None  # nor by its id

    def test_an_agent_keeps_seeing_what_is_assigned_to_them_after_leaving_its_team(self, market, team):
        # given agent_b assigned a Fraud ticket, then moved to Orders
        agent_b = market["agent_b"]
        services.ticket_assign(ticket=market.fraud_ticket, assignee=agent_b, actor=market["supervisor_b"])
        agent_b.teams.set([team])
        agent_b = type(agent_b).objects.get(pk=agent_b.pk)  # a new request: nothing remembered

        # then they see Orders' tickets and the one still assigned to them
        assert visible(agent_b) == ALL

    def test_a_ticket_one_may_not_see_is_none_like_a_missing_one(self, market):
        agent = market["agent"]
        assert access.ticket_for_staff(agent, market.orders_ticket.pk) == market.orders_ticket
        assert access.ticket_for_staff(agent, market.fraud_ticket.pk) is None
        assert access.ticket_for_staff(agent, 999_999_999) is None
        assert access.ticket_for_staff(market["shop"], market.forwarded.pk) is None


class TestRoles:
    def test_who_uses_the_staff_pages_works_tickets_and_reads_contacts(self, market):
        # (staff pages, works tickets, sees the contact in full)
        assert {
            who: (access.is_staff_user(user), access.can_work(user), access.sees_contact(user))
            for who, user in market.users.items()
        } == {
            "agent": (True, True, True),
            "supervisor": (True, True, True),
            "agent_b": (True, True, True),
            "supervisor_b": (True, True, True),
            "manager": (True, False, False),
            "admin": (True, True, True),
            "shop": (False, False, False),
            "no_role": (False, False, False),
            "inactive": (False, False, False),
        }

    def test_a_manager_who_is_also_an_agent_works_tickets(self, market):
        manager = market["manager"]
        manager.groups.add(*market["agent"].groups.all())
        manager = type(manager).objects.get(pk=manager.pk)
        assert access.can_work(manager) and access.sees_contact(manager)

    def test_merchant_scorecards_and_risk_reviews(self, market):
        # (reads the merchant reports, reviews risk signals)
        roles = ("agent", "supervisor", "manager", "admin", "shop")
        assert {
            who: (access.reads_merchant_reports(market[who]), access.reviews_merchants(market[who])) for who in roles
        } == {
            "agent": (False, False),
            "supervisor": (True, False),
            "manager": (True, True),
            "admin": (True, True),
            "shop": (False, False),
        }

    def test_the_reports_follow_the_view_reports_permission_of_the_role(self, market):
        roles = ("agent", "supervisor", "manager", "admin", "shop", "no_role")
        assert {who: access.reads_reports(market[who]) for who in roles} == {
            "agent": False,
            "supervisor": True,
            "manager": True,
            "admin": True,
            "shop": False,
            "no_role": False,
        }

    def test_an_agent_granted_the_reports_reads_them(self, market):
        agent = market["agent"]
        agent.user_permissions.add(Permission.objects.get(content_type__app_label="tickets", codename="view_reports"))
        agent = type(agent).objects.get(pk=agent.pk)
        assert access.reads_reports(agent) is True

    def test_a_shop_login_granted_the_permission_still_reads_no_reports(self, market):
        shop = market["shop"]
        shop.user_permissions.add(Permission.objects.get(content_type__app_label="tickets", codename="view_reports"))
        assert access.reads_reports(type(shop).objects.get(pk=shop.pk)) is False


class TestRowsHangingOffTickets:
    def test_messages_follow_their_ticket(self, market):
        mine = access.rows_visible_to(market["agent"], Message.objects.all())
        assert set(mine.values_list("ticket__subject", flat=True)) == ORDERS
        assert set(access.rows_visible_to(market["manager"], Message.objects.all())) == set(Message.objects.all())
        assert not access.rows_visible_to(market["shop"], Message.objects.all()).exists()

    def test_a_row_of_no_ticket_is_for_those_who_see_everything(self, market):
        digest = Notification.objects.create(kind="daily_digest", recipient="boss@staff.example", subject="s", body="b")
        about = Notification.objects.create(
            ticket=market.orders_ticket, kind="ticket_received", recipient="li@example.cn", subject="s", body="b"
        )
        both = Notification.objects.filter(pk__in=[digest.pk, about.pk])
        assert set(access.rows_visible_to(market["supervisor"], both)) == {about}
        assert set(access.rows_visible_to(market["manager"], both)) == {digest, about}

    def test_tickets_themselves_and_rows_further_away(self, market):
        tickets = access.rows_visible_to(market["agent_b"], Ticket.objects.all(), ticket_field=None)
        assert set(tickets.values_list("subject", flat=True)) == {"被骗了"}
        # messages reached from their ticket's id, as a report over another model would
        far = access.scoped(Message.objects.all(), market["agent_b"], "ticket__")
        assert set(far.values_list("ticket__subject", flat=True)) == {"被骗了"}
        assert access.scoped(Message.objects.all(), None).count() == Message.objects.count()

    def test_those_who_see_everything_get_no_condition_at_all(self, market):
        # no condition, so that reports over every ticket stay plain range scans
        assert access.ticket_scope(market["manager"]) is None and access.ticket_scope(market["admin"]) is None
        queryset = Message.objects.all()
        assert access.scoped(queryset, market["manager"], "ticket__") is queryset
        assert access.rows_visible_to(market["admin"], queryset) is queryset


class TestAssigning:
    def test_a_ticket_goes_to_active_members_and_supervisors_of_its_team(self, market):
        names = [u.username for u in access.assignable_users(market["agent_b"], market.orders_ticket)]
        assert names == ["agent", "supervisor"]  # not "left" (inactive), not Fraud's staff

    def test_colleagues_are_the_staff_of_ones_teams_or_of_every_team(self, market):
        assert [u.username for u in access.colleagues(market["agent"])] == ["agent", "supervisor"]
        assert [u.username for u in access.colleagues(market["manager"])] == [
            "agent",
            "agent_b",
            "supervisor",
            "supervisor_b",
        ]

    def test_a_supervisors_teams_are_those_they_supervise(self, market, team):
        assert access.user_team_ids(market["supervisor"]) == [team.pk]
        assert access.user_team_ids(market["manager"]) == []


class TestCannedAnswers:
    def test_a_supervisor_keeps_their_teams_answers_an_administrator_every_one(self, market, category):
        fraud = market.fraud_ticket.category
        ours = CannedAnswer.objects.create(title="退款进度", body="您好", category=category)
        CannedAnswer.objects.create(title="诈骗", body="您好", category=fraud)
        CannedAnswer.objects.create(title="通用", body="您好", category=None)  # the administrators'

        kept = access.canned_answers_kept_by(market["supervisor"])
        assert list(CannedAnswer.objects.filter(kept)) == [ours]
        assert not CannedAnswer.objects.filter(access.canned_answers_kept_by(market["agent"])).exists()
        assert access.canned_answers_kept_by(market["admin"]) is None

    def test_supervisors_and_administrators_manage_them(self, market):
        roles = ("supervisor", "admin", "agent", "manager", "shop")
        assert {who: access.manages_canned_answers(market[who]) for who in roles} == {
            "supervisor": True,
            "admin": True,
            "agent": False,
            "manager": False,
            "shop": False,
        }

    def test_not_without_the_admin_flag(self, market):
        supervisor = market["supervisor"]
        supervisor.is_staff = False
        supervisor.save(update_fields=["is_staff"])
        assert access.manages_canned_answers(type(supervisor).objects.get(pk=supervisor.pk)) is False
