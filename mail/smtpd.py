"""The local SMTP receiver (``manage.py mail_smtpd``; ``make run`` starts it): mail
sent to MAIL_DOMAIN over SMTP goes to the one pipeline (``mail.inbound``), like
the mailbox read over IMAP and a provider's webhook.

It is the last hop, as an MTA's local delivery is: it takes mail for MAIL_DOMAIN
only (anything else is 550, never relayed); it writes one ``Delivered-To`` header
per envelope recipient above the message (a signed reply address in Bcc is only
in the envelope); it refuses a message over MAIL_MAX_BYTES while it arrives
(552); and it answers 250 only once the pipeline has stored the message, 451 (the
sender keeps it and tries again) when the pipeline failed. The pipeline is safe to
call twice with the same message, so a retry after a lost answer is one message.

Point a real mailbox at it by routing MAIL_DOMAIN's mail to this host and port
(an MX record, or a relay such as Postfix's ``transport_maps``); keep it behind
that relay, on 127.0.0.1 or a private address: it speaks plain SMTP, without TLS
or authentication.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import close_old_connections

from mail.inbound import mail_receive
from mail.models import InboundMail

logger = logging.getLogger(__name__)

MAX_RECIPIENTS = 100  # per message: the least RFC 5321 (4.5.3.1.8) lets a server take
WORKERS = 4  # messages stored at once (one database connection each)
# An address as it may go into a header: no space, no control character, one "@" at least.
_HEADER_SAFE = re.compile(r"[^\s\x00-\x1f\x7f]{1,320}")


def delivered_to_add(*, raw: bytes, recipients: Iterable[str]) -> bytes:
    """``raw`` with one ``Delivered-To`` header per recipient above it, as an MTA
    writes on delivery, its lines ending as the message's first line does.
    Addresses that cannot be a header's value are left out."""
    newline = b"\r\n" if raw.split(b"\n", 1)[0].endswith(b"\r") else b"\n"
    lines = [
        b"Delivered-To: " + address.encode() + newline
        for address in (recipient.strip() for recipient in recipients)
        if "@" in address and _HEADER_SAFE.fullmatch(address)
    ]
    return b"".join(lines) + raw


def _receive(raw: bytes) -> int:
    """The pipeline, in a worker thread (the ORM is synchronous): the stored row's id."""
    close_old_connections()
    try:
        return mail_receive(raw, via=InboundMail.Via.SMTP).pk
    finally:
        close_old_connections()


class MailHandler:
    """aiosmtpd's handler: which recipients are taken, and what becomes of the data."""

    def __init__(self, *, workers: int = WORKERS) -> None:
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mail-smtpd")

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options: list[str]) -> str:
        _local, at, domain = address.rpartition("@")
        if not at or domain.lower() != settings.MAIL_DOMAIN.lower() or not _HEADER_SAFE.fullmatch(address):
            return f"550 5.7.1 Relaying denied: only mail for {settings.MAIL_DOMAIN} is taken here"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        raw = delivered_to_add(raw=envelope.original_content, recipients=envelope.rcpt_tos)
        loop = asyncio.get_running_loop()
        try:
            pk = await loop.run_in_executor(self.executor, _receive, raw)
        except Exception:
            # Nothing is lost: the sender keeps the message and tries again; the
            # pipeline takes a message it has already stored as the same one.
            logger.exception("a message over SMTP was not stored; answered 451")
            return "451 4.3.0 The message could not be stored; please try again later"
        logger.info("a message over SMTP stored as inbound mail %s", pk)
        return "250 2.0.0 OK: stored"

    def close(self) -> None:
        """Wait for the messages in hand, then release the workers."""
        self.executor.shutdown(wait=True)


def smtpd_controller(*, host: str, port: int, handler: MailHandler | None = None) -> Controller:
    """The receiver on ``host:port``, not started (``start()`` listens in a thread
    of its own, ``stop()`` closes it)."""
    return Controller(
        handler or MailHandler(),
        hostname=host,
        port=port,
        # Refused while it arrives (552), counted as the lines come in: never held whole in memory.
        data_size_limit=settings.MAIL_MAX_BYTES,
        # The name in the greeting (the default looks the host's name up in DNS, which may hang).
        server_hostname=settings.MAIL_DOMAIN,
        ident="cs_desk mail_smtpd",
    )


def smtpd_serve(*, host: str, port: int, stop: threading.Event) -> None:
    """Listen on ``host:port`` until ``stop`` is set. The messages in hand are stored
    before it returns; their senders, cut off before the answer, send them again
    (the same message, once)."""
    handler = MailHandler()
    controller = smtpd_controller(host=host, port=port, handler=handler)
    controller.start()
    logger.info("taking mail for %s on %s:%s", settings.MAIL_DOMAIN, host, port)
    try:
        stop.wait()
    finally:
        controller.stop()
        handler.close()
