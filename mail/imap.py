"""The support mailbox over IMAP: each message in MAIL_IMAP_FOLDER goes, exactly as
the server holds it, to a handler (the mail pipeline), then to MAIL_IMAP_DONE_FOLDER.

Nothing read twice, nothing lost, with what IMAP offers:

* A message leaves the folder only after its handler has returned. A worker that
  dies mid-message (killed, out of memory, the server gone) leaves it where it was
  and the next run hands it over again. The pipeline (``mail.inbound.mail_receive``)
  keys every message by its Message-ID, so a second hand-over is a no-op: at least
  once here, exactly once there.
* Every attempt is counted on the message itself with a keyword (``$CsDeskAttempt1``,
  ``2``, ``3``), set *before* the handler runs, so that a message which kills its
  worker counts too. After ``MAX_ATTEMPTS`` it goes to MAIL_IMAP_FAILED_FOLDER for an
  administrator to look at: one poisoned message cannot hold up the others. A server
  that keeps no keywords (its PERMANENTFLAGS lack ``\\*``) gets the count kept in this
  process's memory instead, which a restart forgets.
* The database being away is no fault of the message: such an attempt is taken back
  and the message waits for the next run, instead of the whole mailbox going to the
  failed folder during an outage.

``imap_fetch_once`` reads the folder once (the beat task, ``manage.py mail_imap --once``);
``imap_idle`` keeps reading, in IDLE (RFC 2177) where the server offers it, else by
polling, and reconnects with back-off when the server goes away.

The handler is a function, run here, one message after the other, or ``MailLanes``:
processes of their own that run the pipeline side by side (``manage.py mail_imap``
starts MAIL_IMAP_WORKERS of them), one sender's messages always in the same lane, so
in the order they came. This process keeps the mailbox: it counts each attempt before
handing a message over and moves it only once its lane has finished it."""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import hashlib
import itertools
import logging
import multiprocessing
import selectors
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import cached_property

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import InterfaceError, OperationalError, close_old_connections
from imap_tools import BaseMailBox, MailBox, MailboxFolderCreateError, MailBoxStartTls, MailBoxUnencrypted, MailMessage

from mail.inbound import mail_receive
from mail.lane import lane_ready, lane_start
from mail.models import InboundMail

logger = logging.getLogger(__name__)

Handler = Callable[[bytes], object]

MAX_ATTEMPTS = 3
ATTEMPT_KEYWORD = "$CsDeskAttempt"  # + the attempt's number: $CsDeskAttempt1, $CsDeskAttempt2 …
SECURITY = ("ssl", "starttls", "none")
BULK = 10  # messages per FETCH, STORE and MOVE; in memory at once: this many, twice with lanes (each ≤ MAIL_MAX_BYTES)
TIMEOUT_S = 30  # connect and every read, unless the settings give MAIL_IMAP_TIMEOUT_S
# IDLE is re-issued this often: well inside RFC 2177's 29 minutes, and before the idle
# timeout of common NAT gateways (AWS: 350 s), which drop a silent connection unseen.
IDLE_RENEW_S = 4 * 60
BACKOFF_MIN_S, BACKOFF_MAX_S = 1.0, 60.0  # between reconnection attempts, doubling
_DATABASE_AWAY = (OperationalError, InterfaceError)

# Attempts per message (sha256 of its bytes), for servers that keep no keywords.
_attempts_here: dict[str, int] = {}


class _RawMessage(MailMessage):
    """A fetched message that keeps its bytes exactly as the server sent them (parsing
    and serialising again would break a DKIM signature), parsed only when asked."""

    def __init__(self, fetch_data: list) -> None:
        self.raw, self._raw_uid_data, self._raw_flag_data = self._get_message_data_parts(fetch_data)

    @cached_property
    def obj(self):
        return email.message_from_bytes(self.raw)

    @cached_property
    def _headers(self):
        return email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(self.raw)

    @cached_property
    def message_id(self) -> str:
        return str(self._headers.get("Message-ID", "")).strip()

    @cached_property
    def sender(self) -> str:
        """The From address, as written (only to keep one sender's messages in one lane)."""
        return email.utils.parseaddr(str(self._headers.get("From", "")))[1].strip().lower()

    @cached_property
    def digest(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()


def imap_mail_receive(raw: bytes) -> int:
    """The mail pipeline, for a message read from the mailbox (the default handler);
    the pk of its row."""
    return mail_receive(raw, via=InboundMail.Via.IMAP).pk


class MailLanes:
    """``count`` processes that run ``handle`` side by side, each on one message at a
    time. A message goes to the lane of its sender, so one sender's replies are
    processed in the order they came. A lane whose process died (killed, out of
    memory) fails the messages it held, and a new process takes its place."""

    def __init__(self, handle: Handler, count: int) -> None:
        self.handle, self.count = handle, count
        self._lanes: list[ProcessPoolExecutor | None] = [None] * count

    def _lane(self, number: int) -> ProcessPoolExecutor:
        lane = self._lanes[number]
        if lane is None:
            context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited connection
            lane = self._lanes[number] = ProcessPoolExecutor(1, mp_context=context, initializer=lane_start)
        return lane

    def start(self) -> None:
        """Start every lane's process now and wait until each has set Django up, so
        that the first message does not wait for it."""
        for future in [self._lane(number).submit(lane_ready) for number in range(self.count)]:
            future.result()

    def lane_of(self, sender: str) -> int:
        return int(hashlib.sha256(sender.encode()).hexdigest()[:8], 16) % self.count

    def submit(self, message: _RawMessage) -> Future:
        number = self.lane_of(message.sender)
        try:
            return self._lane(number).submit(self.handle, message.raw)
        except BrokenProcessPool:  # it died since its last message: a new one
            self._drop(number)
            return self._lane(number).submit(self.handle, message.raw)

    def _drop(self, number: int, *, wait: bool = False) -> None:
        lane, self._lanes[number] = self._lanes[number], None
        if lane is not None:
            lane.shutdown(wait=wait, cancel_futures=True)

    def close(self) -> None:
        for number in range(self.count):
            self._drop(number, wait=True)


def _mailbox_new() -> BaseMailBox:
    """An IMAP connection as MAIL_IMAP_SECURITY says (ssl, starttls or none), not logged in."""
    host, port, security = settings.MAIL_IMAP_HOST, settings.MAIL_IMAP_PORT, settings.MAIL_IMAP_SECURITY
    timeout = getattr(settings, "MAIL_IMAP_TIMEOUT_S", TIMEOUT_S)
    if security == "ssl":
        return MailBox(host, port, timeout=timeout, ssl_context=ssl.create_default_context())
    if security == "starttls":
        return MailBoxStartTls(host, port, timeout=timeout, ssl_context=ssl.create_default_context())
    if security == "none":
        return MailBoxUnencrypted(host, port, timeout=timeout)
    raise ImproperlyConfigured(f"MAIL_IMAP_SECURITY must be one of {SECURITY}, not {security!r}.")


def imap_connect() -> BaseMailBox:
    """A connection to the mailbox of the MAIL_IMAP_* settings, logged in, no folder
    selected. The caller logs out (``imap_close``)."""
    box = _mailbox_new()
    box.email_message_class = _RawMessage
    try:
        box.login(settings.MAIL_IMAP_USER, settings.MAIL_IMAP_PASSWORD, initial_folder=None)
        # What the server offers once logged in (MOVE, IDLE …): imaplib keeps the list it
        # was given before the login, which servers keep short (Dovecot's lacks MOVE).
        _, data = box.client.capability()
        box.client.capabilities = tuple(data[-1].decode().upper().split())
    except BaseException:
        imap_close(box)
        raise
    return box


def imap_close(box: BaseMailBox) -> None:
    """Log out, or at least drop the connection (the server may be gone already)."""
    try:
        box.logout()
    except Exception:
        try:
            box.client.shutdown()
        except Exception:
            logger.debug("Closing a dead IMAP connection", exc_info=True)


@contextmanager
def _connected() -> Iterator[BaseMailBox]:
    box = imap_connect()
    try:
        yield box
    finally:
        imap_close(box)


def _folders_open(box: BaseMailBox) -> tuple[str, str]:
    """Select MAIL_IMAP_FOLDER; return the server's names for the done and the failed
    folder, created when missing. The settings write them with ``/``; the server's
    hierarchy delimiter (``.`` on some) takes its place."""
    delimiter = next((folder.delim for folder in box.folder.list("", "")), "NIL")
    names = []
    for path in (settings.MAIL_IMAP_DONE_FOLDER, settings.MAIL_IMAP_FAILED_FOLDER):
        name = path if delimiter in ("NIL", "") else path.replace("/", delimiter)
        if not box.folder.exists(name):
            try:
                box.folder.create(name)
            except MailboxFolderCreateError:
                if not box.folder.exists(name):  # else another worker created it just now
                    raise
        names.append(name)
    box.folder.set(settings.MAIL_IMAP_FOLDER)
    return names[0], names[1]


def _keywords_kept(box: BaseMailBox) -> bool:
    """Whether the selected folder keeps keywords (``\\*`` in the PERMANENTFLAGS of SELECT)."""
    return any(b"\\*" in flags for flags in box.client.untagged_responses.get("PERMANENTFLAGS", []))


def _attempts(message: _RawMessage, *, keywords: bool) -> int:
    if not keywords:
        return _attempts_here.get(message.digest, 0)
    prefix = ATTEMPT_KEYWORD.lower()
    numbers = [flag.lower().removeprefix(prefix) for flag in message.flags if flag.lower().startswith(prefix)]
    return max((int(number) for number in numbers if number.isdigit()), default=0)


def _attempt_record(
    box: BaseMailBox, messages: list[_RawMessage], attempt: int, *, keywords: bool, taken: bool
) -> None:
    """Count attempt number ``attempt`` on each of ``messages`` (one STORE), or take it
    back (``taken=False``)."""
    if keywords:
        uids = ",".join(message.uid for message in messages)
        typ, data = box.client.uid(
            "STORE", uids, "+FLAGS.SILENT" if taken else "-FLAGS.SILENT", f"({ATTEMPT_KEYWORD}{attempt})"
        )
        if typ != "OK":
            raise ConnectionError(f"The server refused to flag UID {uids}: {data!r}")
        return
    for message in messages:
        _attempts_here[message.digest] = attempt if taken else attempt - 1


def _move(box: BaseMailBox, messages: list[_RawMessage], folder: str) -> None:
    """Move ``messages`` to ``folder`` (one MOVE)."""
    box.move([message.uid for message in messages], folder)
    for message in messages:
        _attempts_here.pop(message.digest, None)


def _give_up(box: BaseMailBox, message: _RawMessage, folder: str) -> str:
    logger.error("Mail %s (UID %s) failed %d times; moved to %s", message.message_id, message.uid, MAX_ATTEMPTS, folder)
    _move(box, [message], folder)
    return "failed"


def _outcome(
    box: BaseMailBox, message: _RawMessage, attempt: int, run: Callable[[], object], *, keywords: bool, failed: str
) -> str:
    """``run()`` the handler (or wait for its lane): done, retry, or failed (then moved
    to the ``failed`` folder). A lane whose process died fails like a handler that raised."""
    try:
        run()
    except _DATABASE_AWAY:
        logger.warning("Database unavailable; mail %s waits for the next run", message.message_id, exc_info=True)
        _attempt_record(box, [message], attempt, keywords=keywords, taken=False)
        return "retry"
    except Exception:
        logger.exception(
            "Mail %s (UID %s) failed, attempt %d of %d", message.message_id, message.uid, attempt, MAX_ATTEMPTS
        )
        return "retry" if attempt < MAX_ATTEMPTS else _give_up(box, message, failed)
    return "done"


def _next_attempts(box, messages, *, keywords: bool, failed: str, counts: dict) -> list[tuple[_RawMessage, int]]:
    """Count one more attempt on each of ``messages`` (one STORE per attempt number),
    before any is handed over; a message that has had them all goes to ``failed``."""
    taking, by_attempt = [], {}
    for message in messages:
        attempt = _attempts(message, keywords=keywords) + 1
        if attempt > MAX_ATTEMPTS:  # its last attempt died with its worker
            counts[_give_up(box, message, failed)] += 1
            continue
        taking.append((message, attempt))
        by_attempt.setdefault(attempt, []).append(message)
    for attempt, group in by_attempt.items():
        _attempt_record(box, group, attempt, keywords=keywords, taken=True)
    return taking


def _one_by_one(box, messages, handle: Handler, *, keywords: bool, done: str, failed: str, counts: dict) -> None:
    """In this process: each message counted, handled and moved before the next is
    touched, so that one which kills the process costs no other an attempt."""
    for fetched in messages:
        for message, attempt in _next_attempts(box, [fetched], keywords=keywords, failed=failed, counts=counts):
            run = lambda m=message: handle(m.raw)  # noqa: E731
            outcome = _outcome(box, message, attempt, run, keywords=keywords, failed=failed)
            if outcome == "done":
                # A crash here, before the move, only means that the message is handed over
                # again next time, and that the pipeline finds it done already.
                _move(box, [message], done)
            counts[outcome] += 1


def _in_lanes(box, messages, lanes: MailLanes, *, keywords: bool, done: str, failed: str, counts: dict) -> None:
    """In lanes, ``BULK`` at a time: a bulk is counted (one STORE) and handed over while
    the one before is finished and moved (one MOVE), so the reader's round trips to the
    server are per bulk, not per message; at most two bulks are in hand."""

    def settle(in_hand: list[tuple[_RawMessage, int, Future]]) -> None:
        finished = []
        for message, attempt, future in in_hand:
            outcome = _outcome(box, message, attempt, future.result, keywords=keywords, failed=failed)
            counts[outcome] += 1
            finished += [message] if outcome == "done" else []
        if finished:
            _move(box, finished, done)

    previous: list[tuple[_RawMessage, int, Future]] = []
    while bulk := list(itertools.islice(messages, BULK)):
        taking = _next_attempts(box, bulk, keywords=keywords, failed=failed, counts=counts)
        in_hand = [(message, attempt, lanes.submit(message)) for message, attempt in taking]
        settle(previous)
        previous = in_hand
    settle(previous)


def _fetch(
    box: BaseMailBox, handle: Handler | MailLanes, *, limit: int, done_folder: str, failed_folder: str
) -> dict[str, int]:
    """Each message of the selected folder (oldest UID first, at most ``limit``) to
    ``handle``, then to ``done_folder``; see the module's docstring."""
    counts = {"done": 0, "retry": 0, "failed": 0}
    uids = sorted(box.uids("UNDELETED", charset=None), key=int)[:limit]  # deleted: a move by copy and delete, half done
    if not uids:
        return counts
    messages = box.fetch(uid_list=uids, mark_seen=False, bulk=BULK)
    how = {"keywords": _keywords_kept(box), "done": done_folder, "failed": failed_folder, "counts": counts}
    if isinstance(handle, MailLanes):
        _in_lanes(box, messages, handle, **how)
    else:
        _one_by_one(box, messages, handle, **how)
    return counts


def imap_fetch_once(handle: Handler | MailLanes, *, limit: int = 100) -> dict[str, int]:
    """Read MAIL_IMAP_FOLDER once: each message (raw bytes, left unread, oldest UID first,
    at most ``limit``) to ``handle``, then to MAIL_IMAP_DONE_FOLDER; a message whose
    handler raised stays for the next run, counted, and after ``MAX_ATTEMPTS`` goes to
    MAIL_IMAP_FAILED_FOLDER. Folders are created when missing.

    Safe to run again and alongside itself, because ``handle`` must be idempotent by
    Message-ID (the pipeline is): a crash between ``handle`` and the move, or two runs
    taking the same message, only hand it over twice, and the second is a no-op.

    Returns how many messages were done, left for a retry, and moved to the failed folder."""
    with _connected() as box:
        done_folder, failed_folder = _folders_open(box)
        return _fetch(box, handle, limit=limit, done_folder=done_folder, failed_folder=failed_folder)


def _buffered(box: BaseMailBox) -> bool:
    """Whether a line from the server already waits in the client's read buffer (a
    notification that came in the same packet as the reply to IDLE): the socket then
    looks quiet though there is something to read."""
    sock = box.client.sock
    timeout = sock.gettimeout()
    sock.settimeout(0)
    try:
        return bool(box.client.file.peek(1))
    except OSError:  # nothing there yet (the TLS layer says "want read")
        return False
    finally:
        sock.settimeout(timeout)


def _idle_wait(box: BaseMailBox, *, stop: threading.Event, seconds: float) -> None:
    """Wait in IDLE until the server says anything (a new message, a keep-alive, BYE),
    ``seconds`` have passed or ``stop`` is set (looked at every second). A dead
    connection shows when IDLE is ended: the caller reconnects."""
    box.idle.start()
    try:
        if _buffered(box):
            return
        deadline = time.monotonic() + seconds
        with selectors.DefaultSelector() as selector:
            selector.register(box.client.sock, selectors.EVENT_READ)
            while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
                if selector.select(min(left, 1.0)):
                    return
    finally:
        box.idle.stop()


def imap_idle(handle: Handler | MailLanes, *, stop: threading.Event | None = None, limit: int = 100) -> None:
    """Keep reading MAIL_IMAP_FOLDER (each message as in ``imap_fetch_once``) until
    ``stop`` is set. Where the server announces IDLE, wait in IDLE and read on each
    wake-up, IDLE being re-issued every ``IDLE_RENEW_S``; otherwise read every
    MAIL_IMAP_POLL_S seconds. When the server goes away (a restart, the network),
    reconnect after 1 s, 2 s, 4 s … up to a minute: nothing but ``stop`` ends the loop."""
    stop = stop or threading.Event()
    if settings.MAIL_IMAP_SECURITY not in SECURITY:  # fail now, not once per reconnection
        raise ImproperlyConfigured(f"MAIL_IMAP_SECURITY must be one of {SECURITY}.")
    backoff = BACKOFF_MIN_S
    while not stop.is_set():
        try:
            with _connected() as box:
                done_folder, failed_folder = _folders_open(box)
                idle = "IDLE" in box.client.capabilities
                how = "IDLE" if idle else f"polling every {settings.MAIL_IMAP_POLL_S:g} s"
                logger.info("Reading %s on %s by %s", settings.MAIL_IMAP_FOLDER, settings.MAIL_IMAP_HOST, how)
                while not stop.is_set():
                    read_at = time.monotonic()
                    close_old_connections()  # a database connection broken since the last wake-up
                    box.client.untagged_responses.clear()  # read; it would otherwise grow with every move
                    counts = _fetch(box, handle, limit=limit, done_folder=done_folder, failed_folder=failed_folder)
                    backoff = BACKOFF_MIN_S
                    if counts["done"] + counts["failed"] >= limit or "EXISTS" in box.client.untagged_responses:
                        continue  # more came in while we read, or more than one batch was waiting
                    if idle:
                        _idle_wait(box, stop=stop, seconds=IDLE_RENEW_S)
                    else:
                        # A fixed rhythm: reads start every MAIL_IMAP_POLL_S, however long one took,
                        # so a message waits at most the interval (plus its own processing).
                        stop.wait(max(0.0, settings.MAIL_IMAP_POLL_S - (time.monotonic() - read_at)))
        except Exception:
            if stop.is_set():
                break
            logger.warning("Mailbox connection lost; reconnecting in %g s", backoff, exc_info=True)
            stop.wait(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_S)
