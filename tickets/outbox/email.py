"""The email channel: ``Notification`` rows sent through Django's email backend."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage

from tickets.models import Notification, Ticket
from tickets.outbox.core import Channel, Outcome
from tickets.reply_address import CONSUMER, reply_address_read

# RFC 3834's Auto-Submitted for each notice, so that other systems' auto-replies
# leave them alone: a notice that carries a person's words is not automatic, one
# that answers a message is an auto-reply, every other one is auto-generated.
PERSONAL_KINDS = frozenset({"agent_replied", "merchant_answered"})
AUTO_REPLY_KINDS = frozenset({"ticket_received", "mail_refused"})


def auto_submitted(kind: str) -> str:
    """The ``Auto-Submitted`` header of a notice of ``kind`` ("" for none)."""
    if kind in PERSONAL_KINDS:
        return ""
    return "auto-replied" if kind in AUTO_REPLY_KINDS else "auto-generated"


class EmailChannel(Channel):
    name = "email"
    model = Notification
    done = Notification.Status.SENT.value
    done_at = "sent_at"
    backoff_cap = timedelta(hours=1)
    retry_permission = "tickets.change_notification"
    # A sent email is not sent again: the consumer would read it twice.
    resend_done = False

    def max_attempts(self) -> int:
        return settings.NOTIFICATION_MAX_ATTEMPTS

    def grace(self) -> timedelta:
        return settings.NOTIFICATION_RESWEEP_AFTER

    def load(self, pk: int) -> Notification:
        """The row, rendered first if the sweep wrote it as its values: the text is
        kept on the row (once), so the admin and a retry show what was sent."""
        row = super().load(pk)
        if row.context is not None and not row.subject:
            from tickets.notifications import notification_render

            row.subject, row.body = notification_render(row)
            Notification.objects.filter(pk=pk, subject="").update(subject=row.subject, body=row.body)
        return row

    def send(self, row: Notification) -> Outcome:
        # The Message-ID made when the row was written, on every attempt (blank only on
        # rows sent before it was kept, which are never sent again by themselves).
        headers = {"Message-ID": row.message_id} if row.message_id else {}
        if automatic := auto_submitted(row.kind):
            headers["Auto-Submitted"] = automatic
        thread = _thread(row)
        if thread:
            headers["In-Reply-To"] = headers["References"] = thread
        message = EmailMessage(
            subject=row.subject,
            body=row.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[row.recipient],
            reply_to=[row.reply_to] if row.reply_to else None,
            headers=headers,
        )
        try:
            message.send()
        except Exception as exc:  # refused, timed out, disconnected: all worth a retry
            return Outcome(ok=False, error=f"{type(exc).__name__}: {exc}")
        return Outcome(ok=True)

    def dispatch_chunk(self, ids: list[int]) -> None:
        from tickets.tasks import notifications_deliver_task

        notifications_deliver_task.delay(ids)


def _thread(row: Notification) -> str:
    """The email a notice to the consumer answers: the one that opened their
    ticket, when it came by mail ("" otherwise)."""
    if not row.ticket_id or not row.reply_to:
        return ""
    to = reply_address_read(row.reply_to)
    if to is None or to.party != CONSUMER:
        return ""
    thread = Ticket.objects.filter(pk=row.ticket_id).values_list("mail_thread", flat=True).first() or ""
    return f"<{thread}>" if thread else ""


EMAIL = EmailChannel()
