"""tickets.services.intake: one intake for every channel. Its rules first, held
by the service itself (each with hand-worked values), then from the outside at
each door — the consumer's form, the phone-call form and the staff API."""

import json

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings

from cs_desk.exceptions import ApplicationError
from feedback.models import KeywordHit
from tests.factories import MerchantFactory, TeamFactory, UserFactory
from tests.tickets.test_consumer import NEW, valid
from tickets import services
from tickets.models import AlertKeyword, Ticket, TicketEvent
from tickets.selectors import merchant_for_shop
from tickets.uploads import evidence_clean

pytestmark = pytest.mark.django_db

API = "/api/v1/tickets/"
PHONE = "/en/desk/phone/"


def complaint(category, **overrides) -> dict:
    """What every door hands the service, unless ``overrides`` say otherwise."""
    return {
        "category": category,
        "subject": "退款七天没到账",
        "body": "申请退款七天了还没有到账。",
        "requester_name": "李娜",
        "requester_phone": "13812345678",
    } | overrides


def refused(category, **overrides) -> ApplicationError:
    before = Ticket.objects.count()
    with pytest.raises(ApplicationError) as caught:
        services.ticket_create(**complaint(category, **overrides))
    assert Ticket.objects.count() == before  # nothing is filed
    return caught.value


def call(**overrides) -> dict:
    """The phone-call form as an agent fills it in."""
    return {
        "requester_name": "张伟",
        "requester_phone": "139 0000 2222",
        "description": "来电：退款一周没到账\n订单已取消。",
    } | overrides


def api_post(client, data):
    return client.post(API, json.dumps(data), content_type="application/json")


def api_complaint(**overrides) -> dict:
    return {
        "category": "refund", "subject": "电话投诉：退款没到账", "body": "客户来电说退货 5 天了还没退款。",
        "channel": "phone", "requester_name": "李先生", "requester_phone": "13900001111",
    } | overrides  # fmt: skip


# --- The rules, held by the service --------------------------------------------------------


class TestRequester:
    @pytest.mark.parametrize("typed", ["138 1234 5678", "+86 138-1234-5678", "0086 13812345678"])
    def test_the_phone_is_stored_in_e164(self, category, typed):
        ticket = services.ticket_create(**complaint(category, requester_phone=typed))
        assert ticket.requester_phone == "+8613812345678"

    def test_an_impossible_phone_is_refused_naming_the_field(self, category):
        error = refused(category, requester_phone="12345")
        assert (error.code, error.field) == ("invalid_phone", "requester_phone")

    def test_the_name_is_trimmed_required_and_at_most_100_characters(self, category):
        assert services.ticket_create(**complaint(category, requester_name="  王芳  ")).requester_name == "王芳"
        assert services.ticket_create(**complaint(category, requester_name="王" * 100)).requester_name == "王" * 100
        error = refused(category, requester_name="   ")
        assert (error.code, error.field) == ("required", "requester_name")
        error = refused(category, requester_name="王" * 101)
        assert (error.code, error.field) == ("too_long", "requester_name")

    def test_the_email_is_trimmed_and_checked(self, category):
        ticket = services.ticket_create(**complaint(category, requester_phone="", requester_email=" li@example.cn "))
        assert ticket.requester_email == "li@example.cn"
        error = refused(category, requester_email="not-an-email")
        assert (error.code, error.field) == ("invalid_email", "requester_email")

    def test_the_email_fits_its_column(self, client, category, agent):
        longest = "li@" + ("a" * 61 + ".") * 4 + "cnn"  # 3 + 4 × 62 + 3 = 254 characters
        assert services.ticket_create(**complaint(category, requester_email=longest)).requester_email == longest
        too_long = "li@" + ("a" * 62 + ".") * 4 + "cn"  # 3 + 4 × 63 + 2 = 257: a valid address, but not storable
        assert refused(category, requester_email=too_long).code == "invalid_email"
        # (the consumer's form, which takes 320 characters, filed it into a 500)
        client.cookies["django_language"] = "en"
        page = client.post("/en" + NEW, valid(category, requester_email=too_long))
        assert page.status_code == 400
        assert page.context["form"].errors["requester_email"] == ["Enter a valid email address."]
        client.force_login(agent)  # (and the API, which took any length, too)
        response = api_post(client, api_complaint(requester_email=too_long))
        assert response.status_code == 400
        assert [p["code"] for p in response.json()["errors"]["requester_email"]] == ["invalid_email"]
        assert Ticket.objects.count() == 1

    def test_a_phone_or_an_email_is_required(self, category):
        assert refused(category, requester_phone="", requester_email="  ").code == "contact_required"


class TestWhatWasTyped:
    def test_the_order_number(self, category):
        assert services.ticket_create(**complaint(category, order_number=" A-7788 ")).order_number == "A-7788"
        # 41 characters: the column holds 40, the rule 32
        error = refused(category, order_number="A" * 41)
        assert (error.code, error.field) == ("invalid_order_number", "order_number")

    def test_the_subject_and_the_message(self, category):
        error = refused(category, subject="  ")
        assert (error.code, error.field) == ("required", "subject")
        error = refused(category, body="  ")
        assert (error.code, error.field) == ("required", "body")
        assert services.ticket_create(**complaint(category, body="长" * 10_000)).messages.get().body == "长" * 10_000
        error = refused(category, body="长" * 10_001)  # MESSAGE_MAX_CHARS is 10,000
        assert (error.code, error.field) == ("too_long", "body")

    def test_at_most_five_evidence_files_each_at_most_the_size_in_force(self, category):
        assert settings.EVIDENCE_MAX_FILES == 5
        error = refused(category, evidence=[object()] * 6)  # counted before any file is read
        assert (error.code, error.field) == ("too_many_files", "evidence")
        with override_settings(EVIDENCE_MAX_FILE_BYTES=1024), pytest.raises(ValidationError) as too_large:
            evidence_clean(SimpleUploadedFile("scan.pdf", b"%PDF-" + b"0" * 1020, content_type="application/pdf"))
        assert too_large.value.code == "too_large"  # 1,025 bytes: one over

    def test_the_priority(self, category):
        assert services.ticket_create(**complaint(category, priority="urgent")).priority == "urgent"
        error = refused(category, priority="whenever")
        assert (error.code, error.field) == ("invalid_priority", "priority")


class TestFollowUps:
    def test_only_a_closed_complaint_is_followed_up(self, category):
        open_one = services.ticket_create(**complaint(category))
        assert refused(category, follows=open_one).code == "follows_open"

    def test_what_is_left_empty_is_kept_from_the_closed_complaint(self, category, agent):
        closed = services.ticket_create(**complaint(category, requester_email="lina@example.cn"))
        closed = services.ticket_change_status(ticket=closed, status="closed", actor=agent)
        follow_up = services.ticket_create(
            **complaint(category, requester_name="", requester_phone="", requester_email="", follows=closed)
        )
        assert (follow_up.requester_name, follow_up.requester_phone, follow_up.requester_email) == (
            "李娜", "+8613812345678", "lina@example.cn",
        )  # fmt: skip
        # What is typed wins over what is kept.
        other = services.ticket_create(**complaint(category, requester_phone="139 0000 2222", follows=closed))
        assert (other.requester_phone, other.requester_email) == ("+8613900002222", "lina@example.cn")


class TestShop:
    def test_by_shop_id_exact_name_or_the_one_name_containing_it(self):
        shop = MerchantFactory(shop_id="SHOP10001", name="好运来旗舰店")
        MerchantFactory(shop_id="SHOP10002", name="开心小店")
        assert merchant_for_shop("shop10001") == shop
        assert merchant_for_shop(" 好运来旗舰店 ") == shop
        assert merchant_for_shop("好运") == shop
        assert merchant_for_shop("") is None

    def test_several_or_none_are_refused_naming_the_field(self):
        MerchantFactory(shop_id="SHOP10001", name="好运来旗舰店")
        MerchantFactory(shop_id="SHOP10003", name="好运来专卖店")
        with pytest.raises(ApplicationError) as several:
            merchant_for_shop("好运来", field="shop")
        assert (several.value.code, several.value.field) == ("ambiguous_shop", "shop")
        with pytest.raises(ApplicationError) as none:
            merchant_for_shop("不存在的店")
        assert (none.value.code, none.value.field) == ("does_not_exist", "merchant")


class TestPhoneCallAssignment:
    def test_a_phone_ticket_goes_to_the_team_member_who_took_it(self, category, agent):
        ticket = services.ticket_create(**complaint(category, channel="phone", author=agent))
        assert ticket.assignee == agent
        assigned = ticket.events.get(kind=TicketEvent.Kind.ASSIGNED)
        assert (assigned.actor, assigned.data) == (agent, {"from": None, "to": agent.pk})

    def test_not_to_someone_outside_the_team_and_not_on_another_channel(self, category, agent):
        outsider = UserFactory(username="returns-agent", groups=["agents"])
        TeamFactory(name="Returns", members=[outsider])
        admin = UserFactory(username="root", is_superuser=True)  # sees every ticket, in no team
        for author in (outsider, admin):
            assert services.ticket_create(**complaint(category, channel="phone", author=author)).assignee is None
        assert services.ticket_create(**complaint(category, channel="chat", author=agent)).assignee is None
        assert services.ticket_create(**complaint(category, channel="phone")).assignee is None


class TestKeywordAlert:
    def test_flags_raises_and_the_event_names_the_words_and_their_ids(self, category, supervisor):
        fraud = AlertKeyword.objects.create(word="诈骗")
        AlertKeyword.objects.create(word="盗号", is_active=False)
        ticket = services.ticket_create(**complaint(category, body="有人冒充客服诈骗，还盗号了。"))
        assert ticket.is_flagged and ticket.priority == "urgent"
        alert = ticket.events.get(kind=TicketEvent.Kind.KEYWORD_ALERT)
        assert alert.data == {"words": ["诈骗"], "keyword_ids": [fraud.pk]}
        # The feedback app records the hit from that event.
        assert list(KeywordHit.objects.values_list("ticket_id", "keyword_id")) == [(ticket.pk, fraud.pk)]

    def test_the_hit_is_written_in_the_filing_transaction(self, category):
        AlertKeyword.objects.create(word="诈骗")
        with pytest.raises(RuntimeError), transaction.atomic():
            ticket = services.ticket_create(**complaint(category, body="有人诈骗。"))
            # Before any commit (the test's transaction never commits): written with the ticket.
            assert KeywordHit.objects.filter(ticket=ticket).count() == 1
            raise RuntimeError("the filing fails after all")
        assert not Ticket.objects.exists() and not KeywordHit.objects.exists()


# --- From the outside, at each door -----------------------------------------------------


class TestAtEachDoor:
    def test_a_41_character_order_number_is_a_field_error_or_a_400_never_a_500(self, client, category, agent):
        client.cookies["django_language"] = "en"
        # the consumer's form
        page = client.post("/en" + NEW, valid(category, order_number="A" * 41))
        assert page.status_code == 400
        assert page.context["form"].errors["order_number"] == ["An order number has 6 to 32 letters, digits or dashes."]
        # the phone-call form
        client.force_login(agent)
        page = client.post(PHONE, call(category=category.pk, order_number="A" * 41))
        assert page.status_code == 400
        assert page.context["form"].errors["order_number"] == ["An order number has 6 to 32 letters, digits or dashes."]
        # the API
        response = api_post(client, api_complaint(order_number="A" * 41))
        assert response.status_code == 400
        assert response.json()["errors"] == {
            "order_number": [
                {"code": "invalid_order_number", "message": "An order number has 6 to 32 letters, digits or dashes."}
            ]
        }
        assert not Ticket.objects.exists()

    def test_the_phone_call_form_and_the_api_both_assign_a_phone_ticket_to_the_filer(self, client, category, agent):
        client.force_login(agent)
        response = client.post(PHONE, call(category=category.pk))
        by_form = Ticket.objects.get(requester_name="张伟")
        assert response.status_code == 302 and response["Location"] == f"/en/desk/tickets/{by_form.pk}/"
        response = api_post(client, api_complaint())
        assert response.status_code == 201 and response.json()["assignee"] == "agent"
        by_api = Ticket.objects.get(pk=response.json()["id"])
        for ticket in (by_form, by_api):
            assert (ticket.channel, ticket.assignee) == ("phone", agent)
        # A chat complaint filed through the API waits in the team's queue.
        chat = api_post(client, api_complaint(channel="chat"))
        assert chat.status_code == 201 and chat.json()["assignee"] is None

    def test_a_call_for_another_team_is_routed_there_unassigned(self, client, category):
        outsider = UserFactory(username="returns-agent", groups=["agents"])
        TeamFactory(name="Returns", members=[outsider])
        client.force_login(outsider)
        response = client.post(PHONE, call(category=category.pk))
        assert response.status_code == 302 and response["Location"] == "/en/desk/"
        assert Ticket.objects.get().assignee is None
        assert api_post(client, api_complaint()).json()["assignee"] is None

    def test_an_administrator_outside_the_team_logs_a_call_unassigned(self, client, category):
        # (it was a 500: the desk assigned whoever could see the ticket, the assignment rule refused)
        client.force_login(UserFactory(username="root", is_superuser=True))
        response = client.post(PHONE, call(category=category.pk))
        ticket = Ticket.objects.get()
        assert response.status_code == 302 and response["Location"] == f"/en/desk/tickets/{ticket.pk}/"
        assert ticket.assignee is None

    def test_the_same_phone_typed_three_ways_is_stored_once_as_e164(self, client, category, agent):
        assert client.post(NEW, valid(category, requester_phone="138 1234 5678")).status_code == 302
        client.force_login(agent)
        assert client.post(PHONE, call(category=category.pk, requester_phone="+86 138-1234-5678")).status_code == 302
        assert api_post(client, api_complaint(requester_phone="0086 13812345678")).status_code == 201
        assert list(Ticket.objects.values_list("requester_phone", flat=True).distinct()) == ["+8613812345678"]
        assert Ticket.objects.count() == 3

    def test_the_shop_is_looked_up_alike_by_the_form_and_the_api(self, client, category, agent):
        shop = MerchantFactory(shop_id="SHOP10001", name="好运来旗舰店")
        assert client.post(NEW, valid(category, shop="好运来")).status_code == 302
        client.force_login(agent)
        response = api_post(client, api_complaint(merchant="好运来"))
        assert response.status_code == 201 and response.json()["merchant"] == "SHOP10001"
        assert list(Ticket.objects.values_list("merchant_id", flat=True)) == [shop.pk, shop.pk]
        unknown = api_post(client, api_complaint(merchant="不存在的店")).json()
        assert [p["code"] for p in unknown["errors"]["merchant"]] == ["does_not_exist"]
