"""The reads the doors share (tickets.selectors), asked directly: what a tracking
token opens, what the consumer reads of the conversation and who they are told
wrote it, the promise of each category, the shop search, and whether two
tickets came from the same consumer. ``parse_instant`` and ``sla_preview`` are
tested in tests/tickets/test_preview.py."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from tests.builders import picture, ticket_filed
from tests.factories import CategoryFactory, MerchantFactory
from tickets import selectors, services
from tickets.models import Message, SLAPolicy, SLATarget, StaffProfile, Ticket

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
FRI_15 = datetime(2026, 11, 20, 15, 0, tzinfo=SH)


def sh(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


class TestTheTrackingToken:
    def test_the_token_opens_its_ticket(self, category):
        ticket = ticket_filed(category)
        assert selectors.ticket_for_token(token=ticket.tracking_token) == ticket

    def test_anything_else_opens_nothing(self, category):
        ticket = ticket_filed(category)
        token = ticket.tracking_token
        for guess in (token.upper() if token != token.upper() else token.lower(), token[:-1], ticket.reference):
            assert selectors.ticket_for_token(token=guess) is None

    @pytest.mark.parametrize("shape", ["", "a/b", "../x", "a.b", "x" * 65, "token with spaces", "令牌"])
    def test_what_cannot_be_a_token_is_not_even_looked_up(self, shape):
        with CaptureQueriesContext(connection) as queries:
            assert selectors.ticket_for_token(token=shape) is None
        assert len(queries) == 0


class TestWhatTheConsumerReads:
    @pytest.fixture
    def conversation(self, category, agent):
        ticket = ticket_filed(category, at=FRI_15, evidence=[picture("收据.png"), picture("聊天.png")])
        services.ticket_reply(ticket=ticket, author=agent, body="内部：核实中", public=False, now=sh(11, 20, 16))
        services.ticket_reply(
            ticket=ticket, author=agent, body="已退款", evidence=[picture("凭证.png")], now=sh(11, 20, 17)
        )
        services.ticket_reply(
            ticket=ticket,
            author=agent,
            body="附件内部",
            public=False,
            evidence=[picture("内部.png")],
            now=sh(11, 20, 18),
        )
        return ticket

    def test_public_messages_only_oldest_first_each_with_its_files_in_order(self, conversation):
        messages = selectors.ticket_public_conversation(ticket=conversation)
        assert [m.body for m in messages] == ["申请退款七天了还没有到账。", "已退款"]
        assert [[a.original_name for a in m.attachments.all()] for m in messages] == [
            ["收据.png", "聊天.png"],
            ["凭证.png"],
        ]

    def test_a_file_opens_from_a_public_message_of_this_ticket_only(self, conversation, category):
        files = {a.original_name: a for a in conversation.attachments.all()}
        assert selectors.ticket_public_attachment(ticket=conversation, attachment_id=files["凭证.png"].pk)
        assert selectors.ticket_public_attachment(ticket=conversation, attachment_id=files["内部.png"].pk) is None
        other = ticket_filed(category)
        assert selectors.ticket_public_attachment(ticket=other, attachment_id=files["收据.png"].pk) is None

    def test_who_wrote_each_message_never_an_agents_name(self, conversation, agent):
        shop = MerchantFactory(name="开心小店")
        labels = {}
        with translation.override("en"):
            for kind in Message.AuthorKind.values:
                message = Message(ticket=conversation, author_kind=kind, author=agent if kind == "agent" else None)
                labels[kind] = selectors.public_author_label(message, conversation)
            conversation.merchant = shop
            labels["merchant of the ticket"] = selectors.public_author_label(
                Message(author_kind=Message.AuthorKind.MERCHANT), conversation
            )
            StaffProfile.objects.create(user=agent, alias="小美")
            aliased = type(agent).objects.get(pk=agent.pk)
            labels["agent with an alias"] = selectors.public_author_label(
                Message(author_kind=Message.AuthorKind.AGENT, author=aliased), conversation
            )
        assert labels == {
            "consumer": "You",
            "agent": "Customer service",
            "merchant": "The shop",
            "system": "Notice",
            "merchant of the ticket": "开心小店",
            "agent with an alias": "Customer service · 小美",
        }
        assert agent.username not in labels.values()

    def test_the_promise_is_the_soonest_reply_owed_and_the_resolution(self, category, agent):
        # filed Fri 15:00: first response due Wed 11/25 15:00, resolution Fri 12/4 15:00
        ticket = ticket_filed(category, at=FRI_15)
        assert selectors.ticket_promised(ticket=ticket) == (sh(11, 25, 15), sh(12, 4, 15))

        # answered, then waiting on the consumer: nothing is promised while the clocks stand
        services.ticket_reply(ticket=ticket, author=agent, body="请提供截图", now=sh(11, 23, 10))
        assert selectors.ticket_promised(ticket=ticket) == (None, sh(12, 4, 15))
        services.ticket_change_status(ticket=ticket, status="pending", actor=agent, now=sh(11, 23, 11))
        assert selectors.ticket_promised(ticket=ticket) == (None, None)
        assert ticket.targets.filter(status=SLATarget.Status.PAUSED).exists()


class TestTheCategoriesPromise:
    @pytest.mark.parametrize(
        ("amount", "unit", "clock", "promise"),
        [
            (3, "days", "business", "Reply within 3 working days"),
            (1, "days", "business", "Reply within 1 working day"),
            (2, "days", "calendar", "Reply within 2 days"),
            (1, "hours", "business", "Reply within 1 hour"),
            (30, "minutes", "calendar", "Reply within 30 minutes"),
        ],
    )
    def test_the_first_response_in_the_consumers_words(self, category, amount, unit, clock, promise):
        SLAPolicy.objects.filter(priority="normal").update(
            first_response_amount=amount, first_response_unit=unit, first_response_clock=clock
        )
        with translation.override("en"):
            assert selectors.category_promise(category=category) == promise

    def test_an_urgent_category_says_so(self, urgent_category):
        with translation.override("en"):
            assert selectors.category_promise(category=urgent_category) == "Urgent: Reply within 24 hours"
        with translation.override("zh-hans"):
            assert selectors.category_promise(category=urgent_category) == "紧急：24 小时内答复"

    def test_the_consumer_chooses_among_active_categories_in_their_order(self, team):
        CategoryFactory(code="b-second", sort_order=2, team=team)
        CategoryFactory(code="a-third", sort_order=3, team=team)
        CategoryFactory(code="c-first", sort_order=1, team=team)
        CategoryFactory(code="d-retired", sort_order=0, team=team, is_active=False)
        with translation.override("en"):
            choices = [(c.code, promise) for c, promise in selectors.complaint_categories()]
        assert choices == [
            ("c-first", "Reply within 3 working days"),
            ("b-second", "Reply within 3 working days"),
            ("a-third", "Reply within 3 working days"),
            ("account-appeal", "Reply within 3 working days"),  # shipped (tickets 0018), last in the list
        ]


class TestTheShopSearch:
    @pytest.fixture(autouse=True)
    def shops(self):
        MerchantFactory(shop_id="SHOP00042", name="开心小店")
        MerchantFactory(shop_id="SHOP00420", name="好运来旗舰店")
        MerchantFactory(shop_id="TMALL0001", name="小店之家")

    def names(self, query: str, **kwargs) -> list[str]:
        return [m.name for m in selectors.merchants_matching(query=query, **kwargs)]

    def test_by_shop_id_whole_or_its_start_in_any_case(self):
        assert self.names("shop00042") == ["开心小店"]
        assert set(self.names(" shop00 ")) == {"开心小店", "好运来旗舰店"}

    def test_by_a_part_of_the_name(self):
        both = self.names("小店")  # in the order of their names, as the database sorts them
        assert set(both) == {"开心小店", "小店之家"}
        assert self.names("小店", limit=1) == both[:1]

    def test_nothing_typed_finds_nothing(self):
        assert self.names("   ") == []


class TestTheSameConsumer:
    @pytest.mark.parametrize(
        ("a", "b", "same"),
        [
            ({"requester_phone": "13812345678"}, {"requester_phone": "+86 138 1234 5678"}, True),
            ({"requester_phone": "13812345678"}, {"requester_phone": "13912345678"}, False),
            (
                {"requester_phone": "", "requester_email": "Lina@Example.cn"},
                {"requester_phone": "", "requester_email": "lina@example.CN"},
                True,
            ),
            (
                {"requester_phone": "", "requester_email": "lina@example.cn"},
                {"requester_phone": "13812345678", "requester_email": "li.na@example.cn"},
                False,
            ),
        ],
    )
    def test_by_phone_however_written_or_by_email_in_any_case(self, category, a, b, same):
        assert selectors.same_requester(ticket_filed(category, **a), ticket_filed(category, **b)) is same

    def test_a_number_kept_as_typed_before_e164_is_the_same_number(self, category):
        new, old = ticket_filed(category), ticket_filed(category, requester_phone="13900139000")
        Ticket.objects.filter(pk=old.pk).update(requester_phone="138 1234 5678")
        old.refresh_from_db()
        assert selectors.same_requester(new, old)

    def test_the_duplicates_consumer_gets_the_kept_tickets_link_only_if_it_is_theirs(self, category, agent):
        kept = ticket_filed(category)
        theirs = ticket_filed(category, requester_phone="+8613812345678")
        strangers = ticket_filed(category, requester_phone="13900139000")
        assert selectors.merged_tracking_token(ticket=theirs) is None  # not merged

        services.ticket_merge(source=theirs, into=kept, actor=agent)
        services.ticket_merge(source=strangers, into=kept, actor=agent)
        theirs.refresh_from_db()
        strangers.refresh_from_db()

        assert selectors.merged_tracking_token(ticket=theirs) == kept.tracking_token
        assert selectors.merged_tracking_token(ticket=strangers) is None
