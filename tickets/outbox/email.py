"""The email channel: ``Notification`` rows sent through Django's email backend."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage

from tickets.models import Notification
from tickets.outbox.core import Channel, Outcome


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

    def send(self, row: Notification) -> Outcome:
        # The Message-ID made when the row was written, on every attempt (blank only on
        # rows sent before it was kept, which are never sent again by themselves).
        headers = {"Message-ID": row.message_id} if row.message_id else {}
        message = EmailMessage(
            subject=row.subject,
            body=row.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[row.recipient],
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


EMAIL = EmailChannel()
