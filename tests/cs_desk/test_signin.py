"""Sign-in throttling on every login form (desk, merchant portal, admin): by
account and by client address, with a bounded cool-off, from the outside."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory
from tests.merchants.helpers import shop

# settings: LOGIN_FAILURE_LIMIT 5, LOGIN_COOLOFF_MINUTES 15 (the defaults).
LIMIT = 5
COOL_OFF = timedelta(minutes=15)

DOORS = {
    "desk": ("desk:login", "agent"),
    "portal": ("merchant:login", "shopkeeper"),
    "admin": ("admin:login", "agent"),
}


@pytest.fixture
def accounts(db):
    UserFactory(username="agent", groups=["agents"])
    shop()  # the merchant login "shopkeeper"


def sign_in(client, url_name: str, username: str, password: str, address: str = "203.0.113.7"):
    return client.post(
        reverse(url_name),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )


@pytest.mark.parametrize("door", DOORS)
def test_five_wrong_passwords_lock_the_account_for_the_cool_off(client, accounts, door):
    url_name, username = DOORS[door]
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        # given five wrong passwords: each is the form's ordinary error (200)
        for _ in range(LIMIT - 1):
            assert sign_in(client, url_name, username, "wrong").status_code == 200
        # when the fifth fails, and then the right password is typed
        locked = sign_in(client, url_name, username, "wrong")
        right = sign_in(client, url_name, username, "pass12345")

    # then both are refused with the reason and how long to wait, the password unchecked
    for response in (locked, right):
        assert response.status_code == 429
        assert response["Retry-After"] == "900"
        assert "登录失败次数过多" in response.content.decode()
        assert "15 分钟后再试" in response.content.decode()
    assert "_auth_user_id" not in client.session

    # and after the cool-off the right password works
    with time_machine.travel(start + COOL_OFF + timedelta(seconds=1), tick=False):
        response = sign_in(client, url_name, username, "pass12345")
    assert response.status_code == 302
    assert client.session["_auth_user_id"]


def test_the_account_is_locked_from_every_address(client, accounts):
    # given five wrong passwords for "agent", each from a different address
    for n in range(LIMIT):
        sign_in(client, "desk:login", "agent", "wrong", address=f"198.51.100.{n}")

    # when the agent signs in with the right password from a sixth address
    response = sign_in(client, "desk:login", "agent", "pass12345", address="192.0.2.50")

    # then the account stays locked
    assert response.status_code == 429


def test_an_address_guessing_many_accounts_is_locked(client, accounts):
    # given one address trying five different usernames
    for n in range(LIMIT):
        sign_in(client, "desk:login", f"nobody{n}", "wrong", address="198.51.100.9")

    # when it tries the real agent's right password
    response = sign_in(client, "desk:login", "agent", "pass12345", address="198.51.100.9")

    # then that address is refused, while the agent signs in from their own address
    assert response.status_code == 429
    assert sign_in(client, "desk:login", "agent", "pass12345", address="192.0.2.50").status_code == 302


def test_a_success_clears_the_count(client, accounts):
    # given four failures and then the right password
    for _ in range(LIMIT - 1):
        sign_in(client, "desk:login", "agent", "wrong")
    assert sign_in(client, "desk:login", "agent", "pass12345").status_code == 302
    client.logout()

    # when four more failures follow
    for _ in range(LIMIT - 1):
        assert sign_in(client, "desk:login", "agent", "wrong").status_code == 200

    # then the account is not locked: only consecutive failures count
    assert sign_in(client, "desk:login", "agent", "pass12345").status_code == 302


def test_the_lockout_page_is_in_english_on_request(client, accounts):
    for _ in range(LIMIT):
        response = client.post("/en/desk/login/", {"username": "agent", "password": "wrong"}, REMOTE_ADDR="203.0.113.8")
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert "try again in 15 minutes" in response.content.decode()
