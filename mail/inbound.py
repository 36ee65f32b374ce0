"""The one pipeline every incoming email goes through, whatever brought it (the
mailbox over IMAP, a provider's webhook, the local SMTP receiver):

1. **Once.** ``mail_receive`` stores the raw message under a key made from its
   Message-ID (else its bytes), in a transaction of its own: the same message
   delivered twice is one row. Processing then runs under that row's lock, in
   one transaction with everything it writes, so a worker that dies half-way
   leaves the row *received* and the next delivery (or the re-sweep of rows
   left behind) does it again; a row already processed is never processed again.
2. **Noise.** Automatic mail (auto-replies, bounces, list mail) is recorded and
   never answered; a sender over ``MAIL_SENDER_LIMIT`` is recorded and ignored.
3. **Threading.** Matched by the signed reply address it came to
   (``tickets.reply_address``) first, then by ``In-Reply-To``/``References`` to a
   mail we sent, never by subject. A mail that matches nothing is a new
   complaint on the email channel, its category chosen by the address it was
   sent to (``MAIL_CATEGORY_ADDRESSES``), through the same intake service as the
   web form (acknowledgement, tracking link, promise, SLA).
4. **Who wrote it.** A reply posts as the consumer, the merchant or an appeal
   only when its sender fits the party of the signed address and no SPF, DKIM or
   DMARC check failed; otherwise it is kept on the ticket as an unverified
   internal note for an agent (``ticket_unverified_note``), or held here.

Attachments go through the evidence checks of every upload; a file refused is
named back to the sender in a polite reply.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from email.parser import BytesHeaderParser
from email.policy import default as default_policy

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import MerchantUser
from cs_desk.exceptions import ApplicationError
from mail.models import InboundMail
from mail.parsing import MailUnreadable, ParsedMail, mail_parse
from merchants.appeals import penalty_appeal_file
from merchants.models import MerchantPenalty
from tickets import services
from tickets.models import Category, Notification, Ticket
from tickets.notifications import notifications_for, notifications_insert
from tickets.reply_address import CONSUMER, MERCHANT, ReplyTo, reply_address_read
from tickets.uploads import CleanFile, evidence_clean

logger = logging.getLogger(__name__)

Status, Outcome = InboundMail.Status, InboundMail.Outcome
HEADER_BYTES = 256 * 1024  # enough for any header block worth reading


# --- 1. Once ---------------------------------------------------------------------------


def mail_key(raw: bytes) -> tuple[str, str]:
    """(key, Message-ID) of a raw message: the key is the SHA-256 of its
    Message-ID, else of its bytes."""
    headers = BytesHeaderParser(policy=default_policy).parsebytes(raw[:HEADER_BYTES])
    try:
        message_id = str(headers.get("Message-ID") or "").strip().strip("<>").strip()
    except (TypeError, ValueError, IndexError):
        message_id = ""
    basis = f"message-id:{message_id.lower()}".encode() if message_id else b"raw:" + raw
    return hashlib.sha256(basis).hexdigest(), message_id[:998]


def mail_receive(raw: bytes, *, via: str) -> InboundMail:
    """Take one raw message: store it once, then process it unless that is done.
    Safe to call again with the same bytes (a second delivery, a retry)."""
    row = _stored(raw, via)
    if row.status == Status.RECEIVED:
        row = mail_process(row.pk, raw=raw)
    return row


def _stored(raw: bytes, via: str) -> InboundMail:
    """The row of ``raw``: inserted at once (one statement in the common case, a
    message seen for the first time), else the one already there (pk and status
    only, not the raw bytes again)."""
    key, message_id = mail_key(raw)
    too_large = len(raw) > settings.MAIL_MAX_BYTES
    row = InboundMail(
        key=key,
        header_message_id=message_id,
        via=via,
        raw=_headers_only(raw) if too_large else raw,  # never half-stored: an oversized message keeps its headers
        size=len(raw),
    )
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # delivered before (a retry, a re-read mailbox, another worker a moment ago)
        return InboundMail.objects.only("pk", "status").get(key=key)
    if too_large:
        _refuse_oversized(row)
    return row


def _headers_only(raw: bytes) -> bytes:
    """The header block of ``raw`` (up to the first empty line), at most HEADER_BYTES."""
    ends = [at + len(mark) for mark in (b"\r\n\r\n", b"\n\n") if (at := raw.find(mark, 0, HEADER_BYTES)) >= 0]
    return raw[: min(ends)] if ends else raw[:HEADER_BYTES]


def mail_unfinished(*, older_than: timedelta = timedelta(minutes=2)) -> list[int]:
    """Rows stored but not processed (a worker died in between), for the re-sweep."""
    before = timezone.now() - older_than
    return list(
        InboundMail.objects.filter(status=Status.RECEIVED, received_at__lt=before).values_list("pk", flat=True)[:500]
    )


def mail_process(pk: int, *, raw: bytes | None = None) -> InboundMail:
    """Process one stored message, under its row's lock, in one transaction with
    everything it causes. Does nothing to a row already processed. ``raw``: the
    bytes stored a moment ago by the caller, so they are not read back."""
    with transaction.atomic():
        rows = InboundMail.objects.select_for_update()
        row = (rows.defer("raw") if raw is not None else rows).get(pk=pk)
        if row.status != Status.RECEIVED:
            return row
        row.attempts += 1
        try:
            parsed = mail_parse(bytes(row.raw) if raw is None else raw)
        except MailUnreadable as exc:
            return _finish(row, Status.REFUSED, Outcome.UNREADABLE, detail=str(exc))
        row.sender, row.subject = parsed.from_address[:320], parsed.subject[:255]
        row.text = parsed.reply
        _handle(row, parsed)
        if row.status == Status.RECEIVED:  # every branch decides; this is a guard
            _finish(row, Status.IGNORED, Outcome.UNREADABLE, detail="no decision")
        return row


def _finish(row: InboundMail, status: str, outcome: str, *, detail: str = "", ticket=None, message=None):
    row.status, row.outcome, row.detail = status, outcome, detail[:2000]
    row.ticket = ticket or row.ticket
    row.message = message or row.message
    row.processed_at = timezone.now()
    row.save(update_fields=_DECIDED)  # never the raw bytes again
    return row


_DECIDED = ["status", "outcome", "detail", "ticket", "message", "processed_at", "attempts", "sender", "subject", "text"]


# --- 2. Noise ----------------------------------------------------------------------------

_AUTOMATIC = {"auto_reply": Outcome.AUTO_REPLY, "bounce": Outcome.BOUNCE, "list": Outcome.LIST}


def _over_limit(sender: str, row: InboundMail) -> bool:
    count, per = settings.MAIL_SENDER_LIMIT.split("/")
    window = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}[per[0]]
    recent = InboundMail.objects.filter(sender=sender, received_at__gte=timezone.now() - window).exclude(pk=row.pk)
    return recent.exclude(outcome=Outcome.RATE_LIMITED).count() >= int(count)


def _handle(row: InboundMail, parsed: ParsedMail) -> None:
    if parsed.automatic:
        _finish(row, Status.IGNORED, _AUTOMATIC[parsed.automatic])
        return
    if not parsed.from_address:
        _finish(row, Status.REFUSED, Outcome.UNREADABLE, detail="no sender")
        return
    if _over_limit(parsed.from_address, row):
        _finish(row, Status.IGNORED, Outcome.RATE_LIMITED)
        return
    to = _reply_to(parsed)
    if to is None:
        _new_ticket(row, parsed)
    elif to.party == CONSUMER:
        _consumer_reply(row, parsed, to)
    elif to.party == MERCHANT:
        _merchant_reply(row, parsed, to)
    else:
        _appeal(row, parsed, to)


# --- 3. Threading ------------------------------------------------------------------------


def _reply_to(parsed: ParsedMail) -> ReplyTo | None:
    """The party a reply speaks for: by the signed address it came to, then by
    the mail of ours it answers."""
    for address in (*parsed.delivered_to, *parsed.to):
        found = reply_address_read(address)
        if found is not None:
            return found
    answered = [*parsed.in_reply_to, *reversed(parsed.references)]
    if not answered:
        return None
    ids = [f"<{mid}>" for mid in answered] + answered
    for reply_to in (
        Notification.objects.filter(message_id__in=ids).exclude(reply_to="").values_list("reply_to", flat=True)
    ):
        found = reply_address_read(reply_to)
        if found is not None:
            return found
    earlier = InboundMail.objects.filter(header_message_id__in=answered, ticket__isnull=False).first()
    if earlier is not None and earlier.ticket.requester_email.lower() == parsed.from_address:
        return ReplyTo(party=CONSUMER, party_id=earlier.ticket_id, ticket_id=earlier.ticket_id)
    return None


def _category_for(parsed: ParsedMail) -> Category | None:
    """The category chosen by the address the mail was sent to."""
    domain = settings.MAIL_DOMAIN.lower()
    for address in (*parsed.delivered_to, *parsed.to):
        local, _, at = address.rpartition("@")
        code = settings.MAIL_CATEGORY_ADDRESSES.get(local) if at == domain else None
        if code:
            found = Category.objects.filter(code=code, is_active=True).first()
            if found is not None:
                return found
    return Category.objects.filter(code=settings.MAIL_DEFAULT_CATEGORY, is_active=True).first()


# --- 4. Who wrote it, and what it becomes -------------------------------------------------


def _unverified(row: InboundMail, parsed: ParsedMail, ticket: Ticket | None, outcome: str) -> None:
    """Kept for an agent: an internal note on the ticket when there is one."""
    reason = str(InboundMail.Outcome(outcome).label)
    message = None
    if ticket is not None:
        message = services.ticket_unverified_note(
            ticket=ticket, sender=parsed.from_address, reason=reason, body=parsed.reply or parsed.text or "—"
        )
    _finish(row, Status.HELD, outcome, ticket=ticket, message=message)


def _body(parsed: ParsedMail, files: list[CleanFile]) -> str:
    text = parsed.reply.strip() or parsed.text.strip()
    return text or (_("(files only)") if files else "")


def _evidence(row: InboundMail, parsed: ParsedMail) -> tuple[list[CleanFile], list[str]]:
    """The attachments that pass the evidence checks, and why each other was refused."""
    kept, refused = [], []
    for attachment in parsed.attachments:
        name = attachment.filename or _("attachment")
        if len(kept) >= settings.EVIDENCE_MAX_FILES:
            refused.append(_("“%(name)s”: at most %(count)d files per message.") % {
                "name": name, "count": settings.EVIDENCE_MAX_FILES
            })  # fmt: skip
            continue
        upload = SimpleUploadedFile(name, attachment.content, content_type=attachment.content_type)
        try:
            kept.append(evidence_clean(upload))
        except ValidationError as exc:
            refused.extend(exc.messages)
    return kept, refused


def _consumer_reply(row: InboundMail, parsed: ParsedMail, to: ReplyTo) -> None:
    ticket = Ticket.objects.filter(pk=to.party_id).first()
    while ticket is not None and ticket.merged_into_id:
        ticket = ticket.merged_into
    if ticket is None:
        _new_ticket(row, parsed)
        return
    if parsed.auth_failed:
        _unverified(row, parsed, ticket, Outcome.AUTH_FAILED)
        return
    if not ticket.requester_email or ticket.requester_email.lower() != parsed.from_address:
        _unverified(row, parsed, ticket, Outcome.SENDER_MISMATCH)
        return
    if ticket.status == Ticket.Status.CLOSED:
        _new_ticket(row, parsed, follows=ticket)
        return
    files, refused = _evidence(row, parsed)
    try:
        message = services.ticket_consumer_message(ticket=ticket, body=_body(parsed, files), evidence=files)
    except ApplicationError as exc:
        _refuse(row, parsed, Outcome.INVALID, str(exc.message), ticket=ticket)
        return
    _files_refused(parsed, refused, ticket)
    _finish(row, Status.POSTED, Outcome.CONSUMER_MESSAGE, ticket=ticket, message=message)


def _merchant_user(merchant_id: int, address: str):
    """The active user of ``merchant_id`` whose address sent the mail, or None."""
    link = (
        MerchantUser.objects.filter(merchant_id=merchant_id, user__is_active=True, user__email__iexact=address)
        .select_related("user")
        .first()
    )
    return link.user if link is not None else None


def _merchant_reply(row: InboundMail, parsed: ParsedMail, to: ReplyTo) -> None:
    ticket = Ticket.objects.filter(pk=to.ticket_id, merchant_id=to.party_id).first()
    if ticket is None:
        _finish(row, Status.REFUSED, Outcome.INVALID, detail="no such complaint for this merchant")
        return
    author = _merchant_user(to.party_id, parsed.from_address)
    if parsed.auth_failed or author is None:
        _unverified(row, parsed, ticket, Outcome.AUTH_FAILED if parsed.auth_failed else Outcome.SENDER_MISMATCH)
        return
    try:
        message = services.ticket_merchant_reply(ticket=ticket, author=author, body=_body(parsed, []))
    except ApplicationError as exc:
        _refuse(row, parsed, Outcome.INVALID, str(exc.message), ticket=ticket)
        return
    _finish(row, Status.POSTED, Outcome.MERCHANT_REPLY, ticket=ticket, message=message)


def _appeal(row: InboundMail, parsed: ParsedMail, to: ReplyTo) -> None:
    penalty = MerchantPenalty.objects.filter(pk=to.party_id).select_related("merchant").first()
    if penalty is None:
        _finish(row, Status.REFUSED, Outcome.INVALID, detail="no such penalty")
        return
    author = _merchant_user(penalty.merchant_id, parsed.from_address)
    if parsed.auth_failed or author is None:
        outcome = Outcome.AUTH_FAILED if parsed.auth_failed else Outcome.SENDER_MISMATCH
        _finish(row, Status.HELD, outcome, detail=f"penalty {penalty.pk}")
        return
    try:
        appeal = penalty_appeal_file(
            penalty=penalty, body=_body(parsed, []), source="email", filed_by=author, from_address=parsed.from_address
        )
    except ApplicationError as exc:
        _refuse(row, parsed, Outcome.INVALID, str(exc.message))
        return
    _finish(row, Status.POSTED, Outcome.APPEAL, detail=f"appeal {appeal.pk} on penalty {penalty.pk}")


def _new_ticket(row: InboundMail, parsed: ParsedMail, *, follows: Ticket | None = None) -> None:
    if parsed.auth_failed:
        _unverified(row, parsed, None, Outcome.AUTH_FAILED)
        return
    category = follows.category if follows is not None else _category_for(parsed)
    if category is None:
        _finish(row, Status.REFUSED, Outcome.INVALID, detail="no category to file it under (MAIL_DEFAULT_CATEGORY)")
        return
    files, refused = _evidence(row, parsed)
    name = parsed.from_name.strip() or parsed.from_address.partition("@")[0]
    try:
        ticket = services.ticket_create(
            category=category,
            subject=(parsed.subject.strip() or _("Email without a subject"))[:200],
            body=_body(parsed, files),
            requester_name=name[:100],
            requester_email=parsed.from_address,
            channel=Ticket.Channel.EMAIL,
            follows=follows,
            evidence=files,
            mail_thread=parsed.message_id,
        )
    except ApplicationError as exc:
        _refuse(row, parsed, Outcome.INVALID, str(exc.message))
        return
    _files_refused(parsed, refused, ticket)
    first = ticket.messages.order_by("created_at", "id").first()
    _finish(row, Status.POSTED, Outcome.NEW_TICKET, ticket=ticket, message=first)


# --- Replies we send -----------------------------------------------------------------------


def _tell(parsed: ParsedMail, kind: str, ticket: Ticket | None = None, **context) -> None:
    """A polite automatic reply to the sender (never to automatic mail: the callers
    come after that check)."""
    context = {"subject": parsed.subject or "—", "reference": ticket.reference if ticket else "", **context}
    language = ticket.language if ticket is not None else settings.LANGUAGE_CODE
    outgoing = notifications_for(
        kind,
        context,
        addresses=[(parsed.from_address, None)],
        language=language,
        ticket_id=ticket.pk if ticket else None,
    )
    notifications_insert(outgoing, at=timezone.now())


def _refuse(row: InboundMail, parsed: ParsedMail, outcome: str, reason: str, *, ticket=None) -> None:
    _tell(parsed, "mail_refused", ticket, reason=reason)
    _finish(row, Status.REFUSED, outcome, detail=reason, ticket=ticket)


def _files_refused(parsed: ParsedMail, refused: list[str], ticket: Ticket) -> None:
    if refused:
        _tell(parsed, "mail_files_refused", ticket, files="\n".join(refused))


def _refuse_oversized(row: InboundMail) -> None:
    """Refused with a reply, the headers kept, nothing else stored."""
    try:
        parsed = mail_parse(bytes(row.raw) + b"\r\n")
    except MailUnreadable:
        parsed = None
    with transaction.atomic():
        if parsed is not None and parsed.from_address and not parsed.automatic:
            limit = settings.MAIL_MAX_BYTES // (1024 * 1024)
            _tell(parsed, "mail_refused", reason=_("it is larger than %(mb)d MB.") % {"mb": limit})
        row.sender = parsed.from_address[:320] if parsed else ""
        row.subject = parsed.subject[:255] if parsed else ""
        _finish(row, Status.REFUSED, Outcome.TOO_LARGE)
