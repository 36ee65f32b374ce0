"""One raw message, read: who sent it, to whom, what it answers, its text, the reply
in it, its attachments, whether it must not be answered and whether its sender's
domain failed authentication. Pure: the standard library's email parser and the
converters of ``mail.decoding`` and ``mail.quotes``; no ORM, no settings.

``mail_parse`` never raises on what a sender wrote, only ``MailUnreadable`` for
bytes that are not a message at all. The pipeline (``mail.inbound``) decides what
to do with the result: it is the one to refuse an executable, hold a message whose
authentication failed, or record an auto-reply without answering it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import HeaderRegistry
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime

from mail.decoding import bytes_decode, header_decode, html_text, param_decode, plain_text, raw_bytes, text_clean
from mail.quotes import reply_extract


@dataclass(frozen=True)
class Attachment:
    filename: str  # decoded (RFC 2047 / RFC 2231), without a path, "" if none
    content_type: str
    content: bytes


@dataclass(frozen=True)
class ParsedMail:
    message_id: str  # without <>, "" when missing
    from_address: str  # addr-spec, lower-cased; "" when missing, unparseable or ambiguous
    from_name: str
    to: tuple[str, ...]  # addr-specs, lower-cased (To + Cc)
    delivered_to: tuple[str, ...]  # Delivered-To / X-Original-To / Envelope-To, lower-cased
    reply_to: str
    return_path: str | None  # None when absent, "" for Return-Path: <>
    in_reply_to: tuple[str, ...]  # Message-IDs without <>
    references: tuple[str, ...]
    subject: str  # decoded
    date: datetime | None  # aware
    text: str  # the whole text body (text/plain; else HTML converted to text)
    reply: str  # text without quoted history and signature (never empty if text is not)
    attachments: tuple[Attachment, ...]  # real attachments and inline images, not the body parts
    automatic: str  # "" or AUTO_REPLY | BOUNCE | LIST: why it must not be answered
    auth_failed: tuple[str, ...]  # of ("spf", "dkim", "dmarc"), per Authentication-Results
    size: int


class MailUnreadable(ValueError):
    """The bytes are not an email message. ``code`` says why, for the pipeline to tell staff in its
    own (translated) words: "no_header" (no message header at all), "too_deep" (MIME parts nested
    deeper than the standard library's parser goes)."""

    def __init__(self, reason: str, *, code: str) -> None:
        super().__init__(reason)
        self.code = code


AUTO_REPLY = "auto_reply"
BOUNCE = "bounce"
LIST = "list"

_MAX_DEPTH = 20  # MIME nesting read; deeper parts (only a hostile sender nests so) are left out
# Address headers are read up to these lengths: the parsers are quadratic on crafted input.
_MAX_FROM = 1_000
_MAX_ADDRESS_LIST = 16_000
# At least one of these makes bytes a message; garbage that merely holds a colon does not.
_MESSAGE_HEADERS = frozenset(
    [
        "from",
        "sender",
        "to",
        "cc",
        "subject",
        "date",
        "message-id",
        "received",
        "return-path",
        "mime-version",
        "content-type",
        "delivered-to",
        "in-reply-to",
        "references",
        "reply-to",
    ]
)
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_DAEMON = re.compile(r"(?:^|[\s<\"'(:])(?:mailer-daemon|postmaster)(?:@|>|[\s\"')]|$)", re.IGNORECASE)
_AUTO_SUBJECT = re.compile(
    r"^\s*(?:自动回复|自动答复|自動回覆|自動回復|自動答覆|自动回覆|休假通知|外出通知|"
    r"auto(?:matic)?[ _-]?(?:reply|response|answer)|autoreply|out of (?:the )?office(?: auto ?reply)?)"
    r"\s*(?:[:：]|$)",
    re.IGNORECASE,
)
_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"(?:^|;)\s*(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)
_FAILING = {
    "spf": {"fail", "softfail", "permerror", "hardfail"},
    "dkim": {"fail", "permerror"},
    "dmarc": {"fail", "permerror"},
}
_REGISTRY = HeaderRegistry()


def mail_parse(raw: bytes) -> ParsedMail:
    """Read one message as it arrived (the bytes an MTA delivered, CRLF or LF)."""
    try:
        message = BytesParser(policy=compat32).parsebytes(bytes(raw))
    except RecursionError as exc:  # the stdlib parser recurses once per MIME level
        raise MailUnreadable("MIME parts nested too deep", code="too_deep") from exc
    headers = _Headers(message)
    if not headers.names & _MESSAGE_HEADERS:
        raise MailUnreadable("no message header", code="no_header")
    from_address, from_name = _sender(headers.all("from"))
    return_path = _return_path(headers.first("return-path"))
    subject = header_decode(headers.first("subject") or "")
    texts: list[str] = []
    attachments: list[Attachment] = []
    _walk(message, texts, attachments, depth=0, text=True, files=True)
    text = "\n\n".join(t.strip("\n") for t in texts if t.strip()).strip()
    return ParsedMail(
        message_id=next(iter(_ids(headers.first("message-id") or "")), ""),
        from_address=from_address,
        from_name=from_name,
        to=_addresses(headers.all("to") + headers.all("cc")),
        delivered_to=_addresses(
            headers.all("delivered-to") + headers.all("x-original-to") + headers.all("envelope-to")
        ),
        reply_to=next(iter(_addresses(headers.all("reply-to"))), ""),
        return_path=return_path,
        in_reply_to=_ids(" ".join(headers.all("in-reply-to"))),
        references=_ids(" ".join(headers.all("references"))),
        subject=subject,
        date=_date(headers.first("date")),
        text=text,
        reply=reply_extract(text=text, subject=subject),
        attachments=tuple(attachments),
        automatic=_automatic(message, headers, from_address=from_address, return_path=return_path, subject=subject),
        auth_failed=_auth_failed(headers.all("authentication-results")),
        size=len(raw),
    )


class _Headers:
    """The top-level headers as they arrived (8-bit bytes as surrogates), by lower-cased name."""

    def __init__(self, message: Message) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in message.raw_items():
            self._values.setdefault(str(name).strip().lower(), []).append(str(value))
        self.names = frozenset(self._values)

    def all(self, name: str) -> list[str]:
        return self._values.get(name, [])

    def first(self, name: str) -> str | None:
        values = self._values.get(name)
        return values[0] if values else None


# --- addresses -------------------------------------------------------------


def _addr_spec(value: str) -> str:
    """A plausible addr-spec, lower-cased, or ""."""
    address = text_clean(bytes_decode(raw_bytes(value), "utf-8")).strip().lower()
    local, at, domain = address.rpartition("@")
    if not (at and local and domain) or any(c.isspace() or c in "<>,;" for c in address):
        return ""
    return address


def _addresses(values: list[str]) -> tuple[str, ...]:
    values = [v if len(v) <= _MAX_ADDRESS_LIST else v[: v.rfind(",", 0, _MAX_ADDRESS_LIST) + 1] for v in values]
    try:
        pairs = getaddresses([v.replace("\r", " ").replace("\n", " ") for v in values])
    except Exception:  # the stdlib's parser on garbage
        return ()
    return tuple(dict.fromkeys(a for _name, address in pairs if (a := _addr_spec(address))))


def _sender(values: list[str]) -> tuple[str, str]:
    """(address, name) of the one author. The address only when two parsers (the
    compat ``getaddresses`` and the RFC 5322 header registry) read one and the same
    mailbox from a single From header: a header crafted to read differently in two
    parsers (CVE-2023-27043), naming several authors, or too long to be a person's
    identifies nobody."""
    if len(values) != 1 or len(values[0]) > _MAX_FROM:
        return "", ""
    value = values[0].replace("\r", " ").replace("\n", " ")
    try:
        pairs = [(name, address) for name, address in getaddresses([value]) if name or address]
        registered = [a.addr_spec for a in _REGISTRY("from", value).addresses]
    except Exception:
        return "", ""
    if len(pairs) != 1:
        return "", ""
    name, address = pairs[0]
    name = header_decode(name)
    if len(registered) != 1 or registered[0].lower() != address.lower():
        return "", name
    return _addr_spec(address), name


def _return_path(value: str | None) -> str | None:
    if value is None:
        return None
    inner = value.strip()
    if inner.startswith("<"):
        inner = inner[1:].split(">", 1)[0]
    inner = inner.strip()
    return _addr_spec(inner) or text_clean(inner.lower()).replace("\ufffd", "")


def _ids(value: str) -> tuple[str, ...]:
    """Message-IDs without <>; bare ones (no brackets, as some clients write) when none is bracketed."""
    value = text_clean(value.replace("\r", " ").replace("\n", " "))
    found = _MESSAGE_ID.findall(value) or [token for token in value.split() if "@" in token]
    return tuple(dict.fromkeys(i for i in found if i))


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- the body --------------------------------------------------------------


def _walk(part: Message, texts: list[str], attachments: list[Attachment], *, depth: int, text: bool, files: bool):
    """Collect the body's texts (when ``text``) and the attachments (when ``files``) under ``part``."""
    if depth > _MAX_DEPTH:
        return
    content_type = part.get_content_type()
    if content_type.startswith("multipart/") and not part.is_multipart():
        content_type = "text/plain"  # a multipart without its boundary: its text, rather than nothing
    elif content_type.startswith("message/"):
        if files:
            attachments.append(Attachment(_filename(part), content_type, _serialised(part)))
        return
    if part.is_multipart():
        children = [child for child in part.get_payload() if isinstance(child, Message)]
        if content_type != "multipart/alternative":
            for child in children:
                _walk(child, texts, attachments, depth=depth + 1, text=text, files=files)
            return
        if text:  # the plain-text alternative, else the richest (last) one that has any text
            ranked = sorted(enumerate(children), key=lambda pair: (not _has_plain(pair[1], depth + 1), -pair[0]))
            for _index, child in ranked:
                found: list[str] = []
                _walk(child, found, [], depth=depth + 1, text=True, files=False)
                if any(t.strip() for t in found):
                    texts.extend(found)
                    break
        if files:  # inline images of every alternative (the HTML's related part)
            for child in children:
                _walk(child, [], attachments, depth=depth + 1, text=False, files=True)
        return
    filename = _filename(part)
    disposition = str(part.get("content-disposition") or "").split(";", 1)[0].strip().lower()
    if content_type in ("text/plain", "text/html") and not filename and disposition != "attachment":
        if text:
            texts.append(_part_text(part, content_type))
    elif files:
        attachments.append(Attachment(filename, content_type, _payload(part)))


def _has_plain(part: Message, depth: int) -> bool:
    if depth > _MAX_DEPTH:
        return False
    if part.is_multipart() and not part.get_content_type().startswith("message/"):
        return any(_has_plain(c, depth + 1) for c in part.get_payload() if isinstance(c, Message))
    return part.get_content_type() == "text/plain"


def _part_text(part: Message, content_type: str) -> str:
    charset = _param(part, "charset")
    if content_type == "text/html":
        return html_text(_payload(part), charset=charset or None)
    return plain_text(
        _payload(part),
        charset=charset or None,
        flowed=_param(part, "format").lower() == "flowed",
        delsp=_param(part, "delsp").lower() == "yes",
    )


def _param(part: Message, name: str, header: str = "content-type") -> str:
    try:
        value = part.get_param(name, header=header)
    except Exception:
        return ""
    return value if isinstance(value, str) else ""


def _filename(part: Message) -> str:
    try:
        value = part.get_param("filename", header="content-disposition") or part.get_param("name")
    except Exception:
        return ""
    name = param_decode(value if isinstance(value, str | tuple) else None)
    return name.replace("\\", "/").rsplit("/", 1)[-1].strip()


def _payload(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # a transfer encoding the stdlib chokes on: the bytes as they came
        payload = raw_bytes(str(part.get_payload()))
    return payload if isinstance(payload, bytes) else b""


def _serialised(part: Message) -> bytes:
    """A message/* part's content: the attached message or report as it was sent."""
    payload = part.get_payload()
    try:
        if isinstance(payload, list):
            return b"".join(p.as_bytes() if isinstance(p, Message) else raw_bytes(str(p)) for p in payload)
        return _payload(part)
    except Exception:
        return b""


# --- must it be answered, may its sender be believed -------------------------------------


def _automatic(message: Message, headers: _Headers, *, from_address: str, return_path: str | None, subject: str) -> str:
    """Why the message must not be answered (RFC 3834 and common practice), or ""."""
    content_type = message.get_content_type()
    report_type = _param(message, "report-type").lower()
    if (
        (content_type == "multipart/report" and report_type in ("delivery-status", ""))
        or _has_type(message, "message/delivery-status", 0)
        or _DAEMON.search(from_address)
        or any(_DAEMON.search(v) for v in headers.all("from"))
        or return_path == ""
    ):
        return BOUNCE
    submitted = (headers.first("auto-submitted") or "").split(";", 1)[0].strip().lower()
    precedence = (headers.first("precedence") or "").strip().lower()
    if (
        submitted == "auto-replied"
        or any(_yes(headers.first(h)) for h in ("x-autoreply", "x-autorespond", "x-autoresponder"))
        or precedence == "auto_reply"
        or content_type == "multipart/report"  # read receipts (disposition-notification) and other reports
        or _AUTO_SUBJECT.match(subject)
    ):
        return AUTO_REPLY
    if headers.first("list-id") is not None or headers.first("list-unsubscribe") is not None:
        return LIST
    if precedence in ("bulk", "junk", "list"):
        return LIST
    if submitted and submitted != "no":
        return AUTO_REPLY
    return ""


def _yes(value: str | None) -> bool:
    return value is not None and value.strip().lower() not in ("no", "false", "0")


def _has_type(part: Message, content_type: str, depth: int) -> bool:
    if depth > _MAX_DEPTH:
        return False
    if part.get_content_type() == content_type:
        return True
    if not part.is_multipart() or part.get_content_type().startswith("message/"):
        return False
    return any(_has_type(c, content_type, depth + 1) for c in part.get_payload() if isinstance(c, Message))


def _auth_failed(values: list[str]) -> tuple[str, ...]:
    """The methods an Authentication-Results header (any of them) reports failed. A
    header can only add a failure: one a sender forged never clears the receiver's.
    Within one header, DKIM fails only when no signature passed (a mailing list
    breaks one signature, the author's domain may still have signed)."""
    failed: set[str] = set()
    for value in values:
        value = value.replace("\r", " ").replace("\n", " ")
        for _ in range(3):  # comments, nested up to three deep
            value = _COMMENT.sub(" ", value)
        results: dict[str, set[str]] = {}
        for method, result in _RESULT.findall(value):
            results.setdefault(method.lower(), set()).add(result.lower())
        for method, found in results.items():
            if found & _FAILING[method] and not (method == "dkim" and "pass" in found):
                failed.add(method)
    return tuple(m for m in ("spf", "dkim", "dmarc") if m in failed)
