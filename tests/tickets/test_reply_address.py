"""Signed reply addresses (tickets/reply_address.py): what a reply by mail may
speak for, read back only when its signature holds for exactly that party."""

import re

import pytest

from tickets.reply_address import ReplyTo, reply_address, reply_address_read


def test_an_address_names_its_party_and_reads_back(settings):
    settings.MAIL_DOMAIN = "cs-desk.example"
    address = reply_address("m", 12, 345)
    assert re.fullmatch(r"reply\+m12-t345-[0-9a-f]{20}@cs-desk\.example", address)
    assert reply_address_read(address) == ReplyTo(party="m", party_id=12, ticket_id=345)
    assert reply_address_read(address.upper()) == ReplyTo(party="m", party_id=12, ticket_id=345)  # case folded
    assert reply_address_read(reply_address("p", 7)) == ReplyTo(party="p", party_id=7, ticket_id=None)


@pytest.mark.parametrize(
    "change",
    [
        lambda a: a.replace("reply+m12", "reply+m13"),  # another merchant
        lambda a: a.replace("-t345-", "-t346-"),  # another ticket
        lambda a: a.replace("reply+m", "reply+c"),  # another party
        lambda a: a[: a.index("@") - 1] + ("0" if a[a.index("@") - 1] != "0" else "1") + a[a.index("@") :],
        lambda a: a.replace("@cs-desk.example", "@evil.example"),
        lambda a: "reply+m12-t345@cs-desk.example",  # no signature
    ],
    ids=["merchant", "ticket", "party", "signature", "domain", "unsigned"],
)
def test_an_address_changed_in_any_way_reads_as_nothing(settings, change):
    settings.MAIL_DOMAIN = "cs-desk.example"
    assert reply_address_read(change(reply_address("m", 12, 345))) is None


def test_a_new_secret_key_voids_the_old_addresses(settings):
    address = reply_address("c", 1, 1)
    settings.SECRET_KEY = "another secret key, after a rotation, long enough for Django"
    assert reply_address_read(address) is None
