"""The rule for where webhooks may go (integrations.destinations): every range
an internal address can hide in, IPv4 and IPv6, with the IPv6 forms that carry
an IPv4 address; names judged by what they resolve to (the resolver is faked:
nothing here connects anywhere)."""

import socket

import pytest

from integrations.destinations import (
    DestinationRefused,
    address_refusal,
    destination_resolve,
    destination_split,
    url_refusal,
)
from tests.api.receiver import fake_dns

REFUSED = [
    # loopback
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("::1", "loopback"),
    # private: RFC 1918, IPv6 unique local (fc00::/7) and the old site-local
    ("10.0.0.5", "private"),
    ("10.255.255.255", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("fc00::1", "private"),
    ("fd12:3456:789a::1", "private"),
    ("fec0::1", "private"),
    # link-local, with the cloud metadata service
    ("169.254.169.254", "link-local"),
    ("169.254.0.1", "link-local"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("febf:ffff::1", "link-local"),
    # unspecified
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    # multicast
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),
    # shared address space (carrier-grade NAT)
    ("100.64.0.1", "shared"),
    ("100.127.255.254", "shared"),
    # benchmarking
    ("198.18.0.1", "benchmarking"),
    ("198.19.255.255", "benchmarking"),
    ("2001:2::1", "benchmarking"),
    # reserved: "this network", IETF protocol assignments, documentation, class E, broadcast
    ("0.1.2.3", "reserved"),
    ("192.0.0.8", "reserved"),
    ("192.0.2.1", "reserved"),
    ("198.51.100.7", "reserved"),
    ("203.0.113.9", "reserved"),
    ("192.88.99.1", "reserved"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("2001:db8::1", "reserved"),
    ("3fff::1", "reserved"),
    ("2001::1", "reserved"),  # Teredo
    ("100::1", "reserved"),  # discard-only
    ("::127.0.0.1", "reserved"),  # IPv4-compatible (deprecated)
    ("64:ff9b:1::a00:5", "reserved"),  # local-use NAT64
    ("4000::1", "reserved"),  # outside global unicast
    # IPv6 forms carrying an internal IPv4 address
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:7f00:1", "loopback"),
    ("::ffff:169.254.169.254", "link-local"),
    ("::ffff:10.0.0.5", "private"),
    ("::ffff:100.64.0.1", "shared"),
    ("::ffff:0.0.0.0", "unspecified"),
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ("2002:a9fe:a9fe::1", "link-local"),  # 6to4 of 169.254.169.254
    ("2002:c0a8:101::", "private"),  # 6to4 of 192.168.1.1
    ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
    ("64:ff9b::e000:1", "multicast"),  # NAT64 of 224.0.0.1
]

PUBLIC = [
    "8.8.8.8",
    "223.5.5.5",
    "114.114.114.114",
    "93.184.215.14",
    "9.255.255.255",  # just below 10/8
    "11.0.0.0",
    "100.63.255.255",  # either side of 100.64/10
    "100.128.0.0",
    "172.15.255.255",  # either side of 172.16/12
    "172.32.0.0",
    "169.253.255.255",
    "192.167.255.255",
    "198.17.255.255",  # either side of 198.18/15
    "198.20.0.0",
    "223.255.255.255",  # just below multicast
    "2400:3200::1",
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",  # IPv4-mapped, 6to4 and NAT64 forms of a public address
    "2002:808:808::1",
    "64:ff9b::808:808",
]


@pytest.mark.parametrize(("address", "kind"), REFUSED)
def test_internal_addresses_are_refused(address, kind):
    refusal = address_refusal(address)

    assert refusal is not None and (refusal.address, refusal.kind) == (address, kind)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    assert address_refusal(address) is None


def test_a_refusal_says_what_the_address_is():
    assert str(address_refusal("127.0.0.1")) == "127.0.0.1 is a loopback address"
    assert str(address_refusal("0.0.0.0")) == "0.0.0.0 is an unspecified address"
    assert str(address_refusal("::ffff:169.254.169.254")) == (
        "::ffff:169.254.169.254 is an IPv4-mapped form of 169.254.169.254, a link-local address"
    )
    assert str(address_refusal("2002:7f00:1::")) == "2002:7f00:1:: is a 6to4 form of 127.0.0.1, a loopback address"
    assert str(address_refusal("64:ff9b::a00:5")) == "64:ff9b::a00:5 is a NAT64 form of 10.0.0.5, a private address"


def test_not_an_address_is_a_value_error():
    with pytest.raises(ValueError):
        address_refusal("metadata.google.internal")


# --- Names, at delivery ---------------------------------------------------------------


def test_a_name_is_refused_if_any_of_its_addresses_is_internal(settings, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    fake_dns(
        monkeypatch,
        {
            "intranet.example.test": ["10.0.0.5"],
            "mixed.example.test": ["93.184.215.14", "fd00::5"],
            "public.example.test": ["93.184.215.14", "2606:4700:4700::1111"],
        },
    )

    with pytest.raises(DestinationRefused) as intranet:
        destination_resolve(host="intranet.example.test", port=443)
    with pytest.raises(DestinationRefused) as mixed:
        destination_resolve(host="mixed.example.test", port=443)
    public = destination_resolve(host="public.example.test", port=443)

    assert str(intranet.value) == (
        "refused: intranet.example.test resolves to 10.0.0.5, a private address "
        "(WEBHOOK_ALLOW_PRIVATE_ADDRESSES is off)"
    )
    assert str(mixed.value) == (
        "refused: mixed.example.test resolves to fd00::5, a private address (WEBHOOK_ALLOW_PRIVATE_ADDRESSES is off)"
    )
    # What the connection will use: the very addresses checked, with the port.
    assert [entry[4][:2] for entry in public] == [("93.184.215.14", 443), ("2606:4700:4700::1111", 443)]


def test_an_address_literal_and_localhost_are_refused_too(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False

    with pytest.raises(DestinationRefused) as literal:
        destination_resolve(host="127.0.0.1", port=6379)
    with pytest.raises(DestinationRefused) as short_form:
        destination_resolve(host="127.1", port=80)  # read by the resolver as 127.0.0.1
    with pytest.raises(DestinationRefused) as localhost:
        destination_resolve(host="localhost", port=80)

    assert str(literal.value) == "refused: 127.0.0.1 is a loopback address (WEBHOOK_ALLOW_PRIVATE_ADDRESSES is off)"
    assert str(short_form.value) == (
        "refused: 127.1 resolves to 127.0.0.1, a loopback address (WEBHOOK_ALLOW_PRIVATE_ADDRESSES is off)"
    )
    assert localhost.value.refusal.kind == "loopback"  # 127.0.0.1 or ::1, as this host has it


def test_the_setting_lets_internal_addresses_through(settings, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    fake_dns(monkeypatch, {"intranet.example.test": ["10.0.0.5"]})

    entries = destination_resolve(host="intranet.example.test", port=8080)

    assert [entry[4][:2] for entry in entries] == [("10.0.0.5", 8080)]


def test_a_name_that_does_not_resolve_is_an_os_error(settings, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    fake_dns(monkeypatch, {"gone.example.test": []})

    with pytest.raises(socket.gaierror):
        destination_resolve(host="gone.example.test", port=443)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://hooks.example.cn/cs-desk", ("https", "hooks.example.cn", 443)),
        ("http://hooks.example.cn/cs-desk", ("http", "hooks.example.cn", 80)),
        ("HTTPS://Hooks.Example.CN:8443/x?y=1", ("https", "hooks.example.cn", 8443)),
        ("http://[2400:3200::1]:8080/", ("http", "2400:3200::1", 8080)),
    ],
)
def test_a_url_is_split_into_scheme_host_and_port(url, expected):
    assert destination_split(url) == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://hooks.example.cn/", "refused: the scheme 'ftp' is not http or https"),
        ("file:///etc/passwd", "refused: the scheme 'file' is not http or https"),
        ("gopher://127.0.0.1:6379/_INFO", "refused: the scheme 'gopher' is not http or https"),
        ("https:///no-host", "refused: the URL has no host"),
    ],
)
def test_only_http_and_https_urls_with_a_host(url, reason):
    with pytest.raises(DestinationRefused) as refused:
        destination_split(url)

    assert str(refused.value) == reason


# --- URLs, when the admin saves them ---------------------------------------------------


def test_the_admin_check_refuses_internal_literals_and_names_that_resolve_only_inside(settings, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    fake_dns(
        monkeypatch,
        {
            "intranet.example.test": ["10.0.0.5", "fd00::5"],
            "mixed.example.test": ["93.184.215.14", "10.0.0.5"],
            "gone.example.test": [],
        },
    )

    def kind(url):
        refusal = url_refusal(url)
        return refusal and (refusal.address, refusal.kind)

    assert kind("http://169.254.169.254/latest/meta-data/") == ("169.254.169.254", "link-local")
    assert kind("http://127.0.0.1:6379/") == ("127.0.0.1", "loopback")
    assert kind("http://[::ffff:a9fe:a9fe]/") == ("::ffff:a9fe:a9fe", "link-local")
    assert kind("https://intranet.example.test/hooks") == ("10.0.0.5", "private")
    assert kind("http://127.1/") == ("127.0.0.1", "loopback")
    # Not refused when saved: a public address, a name with a public address among its
    # addresses (the delivery refuses it), a name that does not resolve now.
    assert kind("https://93.184.215.14/hooks") is None
    assert kind("https://mixed.example.test/hooks") is None
    assert kind("https://gone.example.test/hooks") is None


def test_the_admin_check_follows_the_setting(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True

    assert url_refusal("http://169.254.169.254/latest/meta-data/") is None
