"""The public limits count the right thing, a stranger cannot lock someone out,
the follow-up form shows no more than the tracking page, and guessing tracking
tokens or API keys is throttled per address. From the outside."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from integrations.tokens import staff_token_create
from tests.builders import ticket_filed
from tests.tickets.test_consumer import NEW, valid
from tests.tickets.test_consumer_feedback import LINA
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

HOME = "198.51.100.20"  # the consumer's own address

# The defaults a deployment runs with (the test settings raise the guards for the conformance run).
DEFAULT_LIMITS = {
    **settings.RATE_LIMITS,
    "complaint_ip": (10, 3600),
    "complaint_contact": (5, 3600),
    "token_guess": (20, 900),
    "api_key_guess": (10, 900),
}


@pytest.fixture(autouse=True)
def default_limits(settings):
    settings.RATE_LIMITS = DEFAULT_LIMITS


class TestOnlyAcceptedComplaintsCount:
    def test_nine_typos_after_one_complaint_do_not_lock_the_consumer_out(self, client, category):
        # given one accepted complaint and nine refused for a mistyped phone number, from one address
        assert client.post(NEW, valid(category), REMOTE_ADDR=HOME).status_code == 302
        for _ in range(9):
            typo = client.post(NEW, valid(category, requester_phone="1380013800"), REMOTE_ADDR=HOME)
            assert typo.status_code == 400

        # when the consumer corrects the number
        response = client.post(NEW, valid(category, requester_phone="13900139000"), REMOTE_ADDR=HOME)

        # then it is accepted: only one of the ten earlier posts counted
        assert response.status_code == 302
        assert Ticket.objects.count() == 2

    def test_the_tenth_accepted_complaint_from_one_address_is_the_last(self, client, category):
        for n in range(10):
            phone = f"1380013{n:04d}"
            assert client.post(NEW, valid(category, requester_phone=phone), REMOTE_ADDR=HOME).status_code == 302
        refused = client.post(NEW, valid(category, requester_phone="13900139000"), REMOTE_ADDR=HOME)
        assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
        assert Ticket.objects.count() == 10


class TestAStrangerCannotLockSomeoneOut:
    def test_five_complaints_with_a_strangers_phone_from_five_addresses(self, client, category):
        # given five complaints carrying the victim's phone number, each from another address
        victim = "13812345678"
        for n in range(5):
            sent = client.post(NEW, valid(category, requester_phone=victim), REMOTE_ADDR=f"203.0.113.{n}")
            assert sent.status_code == 302

        # when the owner of the number files from their own address
        response = client.post(NEW, valid(category, requester_phone=victim), REMOTE_ADDR=HOME)

        # then it is accepted
        assert response.status_code == 302
        assert Ticket.objects.filter(requester_phone="+8613812345678").count() == 6

    def test_one_address_still_cannot_flood_one_contact(self, client, category):
        for _ in range(5):
            assert (
                client.post(NEW, valid(category, requester_email="x@example.cn"), REMOTE_ADDR=HOME).status_code == 302
            )
        refused = client.post(NEW, valid(category, requester_email="x@example.cn"), REMOTE_ADDR=HOME)
        assert refused.status_code == 429


class TestFollowUp:
    @pytest.fixture
    def closed(self, category, agent):
        ticket = ticket_filed(category, requester_email="lina@example.cn", order_number="2026112300001")
        services.ticket_change_status(ticket=ticket, status="closed", actor=agent)
        return ticket

    def test_the_form_shows_the_contact_masked_and_not_the_name(self, client, closed):
        page = client.get(f"{NEW}?follows={closed.tracking_token}").content.decode()
        assert "138****5678" in page and "l***@example.cn" in page
        assert "13812345678" not in page and "lina@example.cn" not in page and "李娜" not in page
        assert 'value="2026112300001"' in page  # what the tracking page shows is filled in

    def test_fields_left_empty_keep_the_closed_complaints_name_and_contact(self, client, category, closed):
        data = valid(category, follows=closed.tracking_token, requester_name="", requester_phone="")
        assert client.post(NEW, data).status_code == 302
        follow_up = Ticket.objects.exclude(pk=closed.pk).get()
        assert (follow_up.requester_name, follow_up.requester_phone, follow_up.requester_email) == (
            "李娜",
            "+8613812345678",
            "lina@example.cn",
        )
        assert follow_up.follows == closed

    def test_a_new_contact_replaces_the_old_one(self, client, category, closed):
        data = valid(category, follows=closed.tracking_token, requester_phone="13900139000", requester_email="")
        assert client.post(NEW, data).status_code == 302
        follow_up = Ticket.objects.exclude(pk=closed.pk).get()
        assert (follow_up.requester_phone, follow_up.requester_email) == ("+8613900139000", "lina@example.cn")


class TestTrackingTokenGuessing:
    def test_twenty_wrong_tokens_pause_the_address_then_it_recovers(self, client, category):
        ticket = ticket_filed(category, **LINA)
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            # given twenty made-up tokens from one address: each a plain 404
            for n in range(20):
                assert client.get(f"/t/made-up-token-{n}/", REMOTE_ADDR=HOME).status_code == 404
            # when the same address opens a real tracking link
            paused = client.get(f"/t/{ticket.tracking_token}/", REMOTE_ADDR=HOME)
            # then it is refused too (a right guess must not show), with how long to wait
            assert paused.status_code == 429
            wait = int(paused["Retry-After"])
            assert 0 < wait <= 900
            minutes = -(-wait // 60)
            assert f"从您的网络打开了过多不存在的投诉链接。请 {minutes} 分钟后再试。" in paused.content.decode()
            assert ticket.reference not in paused.content.decode()
            # while another address opens it
            assert client.get(f"/t/{ticket.tracking_token}/", REMOTE_ADDR="192.0.2.9").status_code == 200
        with time_machine.travel(start + timedelta(minutes=31), tick=False):
            assert client.get(f"/t/{ticket.tracking_token}/", REMOTE_ADDR=HOME).status_code == 200

    def test_the_api_and_the_follow_up_link_count_as_guesses_too(self, client, category):
        ticket = ticket_filed(category, **LINA)
        for n in range(10):
            assert client.get(f"/api/v1/track/guess-{n}", REMOTE_ADDR=HOME).status_code == 404
        for n in range(10):
            assert client.get(f"{NEW}?follows=guess-{n}", REMOTE_ADDR=HOME).status_code == 200
        response = client.get(f"/api/v1/track/{ticket.tracking_token}", REMOTE_ADDR=HOME)
        assert response.status_code == 429
        assert response.json()["code"] == "throttled"
        assert int(response["Retry-After"]) > 0


class TestApiKeyGuessing:
    def test_ten_wrong_keys_pause_the_address_right_key_included(self, client, agent):
        _token, key = staff_token_create(user=agent, name="ERP")
        for n in range(10):
            wrong = client.get("/api/v1/tickets/", headers={"Authorization": f"Bearer css_wrong{n}"}, REMOTE_ADDR=HOME)
            assert wrong.status_code == 401
        paused = client.get("/api/v1/tickets/", headers={"Authorization": f"Bearer {key}"}, REMOTE_ADDR=HOME)
        assert paused.status_code == 429 and int(paused["Retry-After"]) > 0
        elsewhere = client.get("/api/v1/tickets/", headers={"Authorization": f"Bearer {key}"}, REMOTE_ADDR="192.0.2.9")
        assert elsewhere.status_code == 200
