"""The rate limits and guessing guards (cs_desk.ratelimit), asked directly: the
sliding window worked out by hand, what counts and what does not, how long a
refused client waits, whose address is counted behind proxies, what a guess
guard refuses, and that a Redis outage lets requests through. The pages that
use them are tested in tests/cs_desk/test_limits_and_guessing.py.

The clock stands at 1 800 000 000 s (2027-01-15 08:00 UTC), where an hour's
window and a quarter of an hour's both begin."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import RequestFactory
from django.utils import translation

from cs_desk import ratelimit
from cs_desk.ratelimit import (
    GuessesExceeded,
    Verdict,
    client_ip,
    guess_guarded,
    rate_limit_count,
    rate_limit_hit,
    rate_limit_peek,
    rate_limited_text,
    rate_limits_check,
    rate_limits_count,
)
from cs_desk.redis import redis_client
from tests.ports import free_port
from tests.tickets.test_consumer import NEW, valid

WINDOW_START = datetime.fromtimestamp(1_800_000_000, UTC)
HOME = "198.51.100.20"


def at(seconds: float):
    """The clock ``seconds`` after the start of a window."""
    return time_machine.travel(WINDOW_START + timedelta(seconds=seconds), tick=False)


@pytest.fixture(autouse=True)
def limits(settings):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "per_hour": (10, 3600),
        "two_per_hour": (2, 3600),
        "token_guess": (3, 900),
        "complaint_ip": (10, 3600),
        "complaint_contact": (5, 3600),
    }


def count(scope: str, identity: str, times: int) -> None:
    for _ in range(times):
        rate_limit_count(scope, identity)


class TestTheSlidingWindow:
    def test_at_the_limit_the_client_waits_for_the_next_window(self):
        # given ten requests at the start of a window (limit 10 an hour)
        with at(0):
            count("per_hour", HOME, 10)
        # then half an hour later the eleventh is refused until the window ends, 1 800 s on
        with at(1800):
            assert rate_limit_peek("per_hour", HOME) == Verdict(False, 1801)

    def test_the_previous_window_weighs_what_is_left_of_it_in_the_last_hour(self):
        with at(0):
            count("per_hour", HOME, 10)
        # at the start of the next window all ten still lie within the last hour: refused,
        # until a tenth of the old window has slid out (10 × 0.9 + 1 ≤ 10): 360 s
        with at(3600):
            assert rate_limit_peek("per_hour", HOME) == Verdict(False, 361)
        with at(3600 + 360):
            assert rate_limit_peek("per_hour", HOME).allowed
        # a quarter into it, 7.5 of the ten still count: room for two more, not three
        with at(3600 + 900):
            count("per_hour", HOME, 2)
            assert rate_limit_peek("per_hour", HOME).allowed is False

    def test_two_periods_later_the_client_is_forgotten(self):
        with at(0):
            count("per_hour", HOME, 10)
        with at(7200):
            assert rate_limit_peek("per_hour", HOME) == Verdict(True, 0)

    def test_peeking_counts_nothing_a_refused_hit_is_not_counted(self):
        with at(0):
            assert [rate_limit_hit("two_per_hour", HOME).allowed for _ in range(5)] == [True, True, False, False, False]
            for _ in range(20):
                rate_limit_peek("two_per_hour", HOME)
        # half into the next window: 2 × 0.5 + 1 ≤ 2 allowed; had the refusals counted, 5 × 0.5 + 1 > 2
        with at(3600 + 1800):
            assert rate_limit_peek("two_per_hour", HOME).allowed

    def test_each_client_and_each_limit_is_counted_apart(self):
        with at(0):
            count("two_per_hour", HOME, 2)
            assert not rate_limit_peek("two_per_hour", HOME).allowed
            assert rate_limit_peek("two_per_hour", "192.0.2.9").allowed
            assert rate_limit_peek("per_hour", HOME).allowed


class TestIdentities:
    def test_an_identity_is_trimmed_and_case_folded(self):
        with at(0):
            count("two_per_hour", " LiNa@Example.CN ", 2)
            assert not rate_limit_peek("two_per_hour", "lina@example.cn").allowed

    def test_redis_holds_a_digest_never_the_phone_number_or_address(self):
        with at(0):
            rate_limit_count("two_per_hour", "+8613812345678 198.51.100.20")
            rate_limit_count("two_per_hour", "lina@example.cn")
        keys = [k.decode() for k in redis_client().scan_iter(match="*ratelimit:two_per_hour:*")]
        assert len(keys) == 2
        assert not [k for k in keys if "13812345678" in k or "198.51.100.20" in k or "lina" in k]

    def test_the_same_phone_typed_any_way_is_one_contact_for_the_complaint_limit(self, client, category):
        # given five complaints from one address, one phone number typed five ways
        typed = ["13812345678", "138 1234 5678", "+86 138-1234-5678", "+8613812345678", "+86 13812345678"]
        for phone in typed:
            response = client.post(NEW, valid(category, requester_phone=phone), REMOTE_ADDR=HOME)
            assert response.status_code == 302, phone
        # then the sixth with that number is refused: the limit is kept per number in E.164
        refused = client.post(NEW, valid(category, requester_phone="138-1234-5678"), REMOTE_ADDR=HOME)
        assert refused.status_code == 429
        # while another number from the same address is still within the address's ten
        assert client.post(NEW, valid(category, requester_phone="13900139000"), REMOTE_ADDR=HOME).status_code == 302


class TestSeveralLimitsAtOnce:
    def test_the_first_that_refuses_decides_empty_identities_are_skipped(self):
        with at(0):
            count("two_per_hour", "+8613812345678", 2)
            checks = [("per_hour", HOME), ("two_per_hour", ""), ("two_per_hour", "+8613812345678")]
            verdict = rate_limits_check(checks)
            assert (verdict.allowed, verdict.retry_after) == (False, 3601)
            assert rate_limits_check([("per_hour", HOME), ("two_per_hour", "")]).allowed

    def test_counting_counts_each_limit_once_and_skips_empty_identities(self):
        with at(0):
            rate_limits_count([("two_per_hour", HOME), ("two_per_hour", ""), ("per_hour", HOME)])
            rate_limits_count([("two_per_hour", HOME)])
            assert not rate_limit_peek("two_per_hour", HOME).allowed  # two counted
            assert rate_limit_peek("two_per_hour", "").allowed  # nothing counted for ""


class TestWhoseAddress:
    @pytest.mark.parametrize(
        ("proxies", "forwarded", "expected"),
        [
            (0, "203.0.113.7", "10.0.0.2"),  # no proxy: whatever the header says
            (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # what our proxy saw, not what the client wrote
            (2, "6.6.6.6, 203.0.113.7, 10.0.0.3", "203.0.113.7"),
            (2, "203.0.113.7", "10.0.0.2"),  # fewer hops than proxies: the direct peer
        ],
    )
    def test_behind_trusted_proxies(self, settings, proxies, forwarded, expected):
        settings.TRUSTED_PROXY_COUNT = proxies
        request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
        assert client_ip(request) == expected

    def test_no_address_at_all_is_one_client(self):
        request = RequestFactory().get("/")
        request.META.pop("REMOTE_ADDR")
        assert client_ip(request) == "unknown"


class TestGuessing:
    def test_misses_pause_the_address_whatever_it_presents_then_it_recovers(self):
        secrets = {"right-token": "ticket"}
        looked_up = []

        def lookup(token):
            def find():
                looked_up.append(token)
                return secrets.get(token)

            return find

        with at(0):
            # a right guess costs nothing, three wrong ones reach the limit
            assert guess_guarded("token_guess", HOME, lookup("right-token")) == "ticket"
            assert [guess_guarded("token_guess", HOME, lookup(f"wrong-{n}")) for n in range(3)] == [None] * 3
        with at(450):
            # the right token too is refused now, without even being looked up, for the rest of the window
            with pytest.raises(GuessesExceeded) as refused:
                guess_guarded("token_guess", HOME, lookup("right-token"))
            assert refused.value.verdict == Verdict(False, 451)
            assert looked_up == ["right-token", "wrong-0", "wrong-1", "wrong-2"]
            # another address is not concerned
            assert guess_guarded("token_guess", "192.0.2.9", lookup("right-token")) == "ticket"
        with at(1800):
            assert guess_guarded("token_guess", HOME, lookup("right-token")) == "ticket"


class TestTheMessage:
    @pytest.mark.parametrize(("wait", "minutes"), [(0, 1), (60, 1), (61, 2), (3601, 61)])
    def test_the_wait_in_whole_minutes_rounded_up(self, wait, minutes):
        with translation.override("en"):
            text = rate_limited_text(Verdict(False, wait))
        unit = "minute" if minutes == 1 else "minutes"
        assert text == f"You have sent too many messages in a short time. Please try again in {minutes} {unit}."


class TestARedisOutage:
    def test_lets_requests_through_and_counts_nothing(self, settings, caplog):
        settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there

        rate_limit_count("two_per_hour", HOME)  # no error for the request
        assert rate_limit_peek("two_per_hour", HOME) == Verdict(True, 0)
        assert rate_limit_hit("two_per_hour", HOME).allowed
        assert guess_guarded("token_guess", HOME, lambda: None) is None
        assert any("cache unavailable" in r.getMessage() for r in caplog.records if r.name == ratelimit.__name__)
