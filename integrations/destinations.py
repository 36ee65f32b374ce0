"""Where webhooks may go: public addresses only.

An administrator types a webhook's URL and the helpdesk posts to it, so the URL
must not become a way into what only the helpdesk can reach: its own services
on loopback (Redis on 127.0.0.1:6379), the private network, the cloud's metadata
service (169.254.169.254). An address is refused when it is loopback, private
(RFC 1918, IPv6 ULA fc00::/7, the old site-local fec0::/10), link-local
(169.254.0.0/16, fe80::/10), unspecified (0.0.0.0, ::), multicast, shared
(carrier-grade NAT, 100.64.0.0/10), benchmarking (198.18.0.0/15, 2001:2::/48)
or otherwise reserved (0.0.0.0/8, 192.0.0.0/24, the documentation ranges,
240.0.0.0/4 and the broadcast address, IPv6 outside 2000::/3 and the IETF
protocol block 2001::/23 with Teredo); an IPv6 address that carries an IPv4
address (IPv4-mapped ``::ffff:a.b.c.d``, 6to4 ``2002::/16``, NAT64
``64:ff9b::/96``) is judged by the IPv4 address it carries.

* **Delivery** (``destination_resolve``): the host is resolved once, every
  address it resolves to must pass, and the connection is made to those very
  addresses, so a DNS server that answers differently a second time (DNS
  rebinding) is never asked a second time.
* **The admin** (``url_refusal``): an endpoint whose host is an internal address,
  or a name that resolves only to internal addresses, is refused when saved. A
  name that does not resolve then is not an error; the delivery-time check is
  the guard.

``WEBHOOK_ALLOW_PRIVATE_ADDRESSES`` turns the rule off, for a receiver on the
same host or network (the tests' receiver listens on 127.0.0.1).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_noop

# The schemes a webhook may use, with their default ports.
SCHEMES = {"http": 80, "https": 443}

LOOPBACK = "loopback"
PRIVATE = "private"
LINK_LOCAL = "link-local"
UNSPECIFIED = "unspecified"
MULTICAST = "multicast"
SHARED = "shared"
BENCHMARKING = "benchmarking"
RESERVED = "reserved"

# What each kind of address is: English in logs and attempts, translated in the admin.
KIND_TEXT = {
    LOOPBACK: gettext_noop("a loopback address"),
    PRIVATE: gettext_noop("a private address"),
    LINK_LOCAL: gettext_noop("a link-local address"),
    UNSPECIFIED: gettext_noop("an unspecified address"),
    MULTICAST: gettext_noop("a multicast address"),
    SHARED: gettext_noop("a shared (carrier-grade NAT) address"),
    BENCHMARKING: gettext_noop("a benchmarking address"),
    RESERVED: gettext_noop("a reserved address"),
}

# The first range an address falls in decides its kind.
_IPV4_REFUSED = tuple(
    (ipaddress.IPv4Network(network), kind)
    for network, kind in (
        ("0.0.0.0/32", UNSPECIFIED),
        ("0.0.0.0/8", RESERVED),  # "this network"
        ("10.0.0.0/8", PRIVATE),
        ("100.64.0.0/10", SHARED),
        ("127.0.0.0/8", LOOPBACK),
        ("169.254.0.0/16", LINK_LOCAL),  # with the cloud metadata service, 169.254.169.254
        ("172.16.0.0/12", PRIVATE),
        ("192.0.0.0/24", RESERVED),  # IETF protocol assignments
        ("192.0.2.0/24", RESERVED),  # documentation (TEST-NET-1)
        ("192.88.99.0/24", RESERVED),  # the former 6to4 relay anycast
        ("192.168.0.0/16", PRIVATE),
        ("198.18.0.0/15", BENCHMARKING),
        ("198.51.100.0/24", RESERVED),  # documentation (TEST-NET-2)
        ("203.0.113.0/24", RESERVED),  # documentation (TEST-NET-3)
        ("224.0.0.0/4", MULTICAST),
        ("240.0.0.0/4", RESERVED),  # with the broadcast address 255.255.255.255
    )
)
_IPV6_REFUSED = tuple(
    (ipaddress.IPv6Network(network), kind)
    for network, kind in (
        ("::/128", UNSPECIFIED),
        ("::1/128", LOOPBACK),
        ("fc00::/7", PRIVATE),  # unique local addresses
        ("fec0::/10", PRIVATE),  # site-local (deprecated)
        ("fe80::/10", LINK_LOCAL),
        ("ff00::/8", MULTICAST),
        ("2001:2::/48", BENCHMARKING),
        ("2001::/23", RESERVED),  # IETF protocol assignments, with Teredo (2001::/32)
        ("2001:db8::/32", RESERVED),  # documentation
        ("3fff::/20", RESERVED),  # documentation
    )
)
_IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")  # outside it (and the above): reserved
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # the well-known prefix; the IPv4 address is the last 32 bits


@dataclass(frozen=True)
class Refusal:
    """Why ``address`` is no place for a webhook: it is of ``kind`` (a key of
    ``KIND_TEXT``), itself or through the IPv4 address ``carries`` it embeds."""

    address: str
    kind: str
    carries: str = ""
    form: str = ""  # how it carries it: IPv4-mapped, 6to4, NAT64

    def what(self) -> str:
        """In English: "a loopback address", "a 6to4 form of 127.0.0.1, a loopback address"."""
        if self.carries:
            article = "an" if self.form[0] in "AEIOU" else "a"
            return f"{article} {self.form} form of {self.carries}, {KIND_TEXT[self.kind]}"
        return KIND_TEXT[self.kind]

    def __str__(self) -> str:
        return f"{self.address} is {self.what()}"


class DestinationRefused(Exception):
    """A webhook's URL leads somewhere it may not go. The text says why, in
    English (the attempt log and the worker's log show it)."""

    def __init__(self, *, url_host: str, refusal: Refusal | None = None, reason: str = ""):
        self.url_host = url_host
        self.refusal = refusal
        if refusal is not None:
            if refusal.address == url_host:
                reason = str(refusal)
            else:
                reason = f"{url_host} resolves to {refusal.address}, {refusal.what()}"
            reason += " (WEBHOOK_ALLOW_PRIVATE_ADDRESSES is off)"
        super().__init__(f"refused: {reason}")


def private_addresses_allowed() -> bool:
    return getattr(settings, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)


def address_refusal(address: str) -> Refusal | None:
    """Why the IP address ``address`` (text, as ``getaddrinfo`` gives it) is
    refused as a webhook destination, or None if it is public. Raises
    ValueError if it is not an IP address."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv4Address):
        return next((Refusal(address, kind) for network, kind in _IPV4_REFUSED if ip in network), None)
    carried = _carried_ipv4(ip)
    if carried is not None:
        form, ipv4 = carried
        inner = address_refusal(str(ipv4))
        return None if inner is None else Refusal(address, inner.kind, carries=str(ipv4), form=form)
    for network, kind in _IPV6_REFUSED:
        if ip in network:
            return Refusal(address, kind)
    return None if ip in _IPV6_GLOBAL_UNICAST else Refusal(address, RESERVED)


def _carried_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped", ip.ipv4_mapped
    if ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    if ip in _NAT64:
        return "NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def destination_resolve(*, host: str, port: int) -> list[tuple]:
    """Resolve ``host`` once, for a TCP connection to ``port``: the
    ``getaddrinfo`` entries to connect to, every one of them public (unless the
    setting allows private ones). Raises ``DestinationRefused`` if any is not,
    and ``OSError`` if the name does not resolve."""
    entries = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if not private_addresses_allowed():
        for _family, _type, _proto, _canonname, sockaddr in entries:
            refusal = address_refusal(sockaddr[0])
            if refusal is not None:
                raise DestinationRefused(url_host=host, refusal=refusal)
    return entries


def destination_split(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a webhook URL. Raises ``DestinationRefused``
    for a scheme other than http or https, or a URL without a host."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise DestinationRefused(url_host=parts.hostname or "", reason=f"the scheme {scheme!r} is not http or https")
    if not parts.hostname:
        raise DestinationRefused(url_host="", reason="the URL has no host")
    return scheme, parts.hostname, parts.port or SCHEMES[scheme]


def url_refusal(url: str) -> Refusal | None:
    """For the admin, when an endpoint is saved: why ``url`` plainly leads
    inside — its host is a refused address, or a name all of whose addresses
    are refused — or None. A name that does not resolve now is not refused
    here (the delivery-time check decides when it does)."""
    if private_addresses_allowed():
        return None
    host = urlsplit(url).hostname
    if not host:
        return None
    try:
        return address_refusal(host)
    except ValueError:
        pass  # a name, or an IPv4 address in a form only the resolver reads ("127.1")
    try:
        entries = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    refusals = [address_refusal(sockaddr[0]) for _f, _t, _p, _c, sockaddr in entries]
    if refusals and all(refusals):
        return refusals[0]
    return None
