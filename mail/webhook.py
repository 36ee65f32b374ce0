"""A provider's inbound webhook (django-anymail, mounted by ``cs_desk.urls``): each
message it has authenticated arrives as anymail's ``inbound`` signal and goes to
the pipeline like mail from any other door."""

from __future__ import annotations

import re
from email.encoders import encode_base64

from mail.inbound import mail_receive
from mail.models import InboundMail
from mail.smtpd import delivered_to_add

_SEVEN_BIT = re.compile(rb"[\t\n\r\x20-\x7e]*")


def webhook_mail_receive(sender, event, esp_name, **kwargs) -> None:
    """With a Delivered-To for its envelope recipients, as the SMTP receiver writes
    (a signed reply address in Bcc is only in the envelope). An exception answers
    the provider 500 and it posts again: the pipeline stored the message once and
    takes the repeat as the same one."""
    message = event.message
    for part in message.walk():
        # From a provider's parsed post (fields and files, not the raw message) anymail
        # builds each file as bare bytes without a Content-Transfer-Encoding: written
        # out so, its line endings would be rewritten (a picture broken).
        bare = not part.is_multipart() and "Content-Transfer-Encoding" not in part
        if bare and not _SEVEN_BIT.fullmatch(part.get_payload(decode=True) or b""):
            encode_base64(part)
    recipients = (message.envelope_recipient or "").split(",")
    raw = delivered_to_add(raw=message.as_bytes(), recipients=recipients)
    mail_receive(raw, via=InboundMail.Via.WEBHOOK)
