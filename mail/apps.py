from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    """Email in: the mailbox (IMAP), a provider's inbound webhook and the local SMTP
    receiver hand each raw message to one pipeline (``mail.inbound``), which threads
    it to a ticket, a merchant's reply or a penalty's appeal, or opens a ticket."""

    name = "mail"
    verbose_name = _("Email")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # A provider's inbound webhook (django-anymail, mounted by cs_desk.urls) sends each
        # message it has authenticated as this signal; it goes to the pipeline like mail
        # from any other door, with a Delivered-To for its envelope recipients, as the SMTP
        # receiver writes (a signed reply address in Bcc is only in the envelope). An
        # exception answers the provider 500, and it posts again: the pipeline has stored
        # the message once and takes the repeat as the same one.
        import re
        from email.encoders import encode_base64

        from anymail.signals import inbound

        seven_bit = re.compile(rb"[\t\n\r\x20-\x7e]*")

        def webhook_mail_receive(sender, event, esp_name, **kwargs):
            from mail.inbound import mail_receive
            from mail.models import InboundMail
            from mail.smtpd import delivered_to_add

            message = event.message
            for part in message.walk():
                # From a provider's parsed post (fields and files, not the raw message)
                # anymail builds each file as bare bytes without a Content-Transfer-Encoding:
                # written out so, its line endings would be rewritten (a picture broken).
                bare = not part.is_multipart() and "Content-Transfer-Encoding" not in part
                if bare and not seven_bit.fullmatch(part.get_payload(decode=True) or b""):
                    encode_base64(part)
            recipients = (message.envelope_recipient or "").split(",")
            raw = delivered_to_add(raw=message.as_bytes(), recipients=recipients)
            mail_receive(raw, via=InboundMail.Via.WEBHOOK)

        inbound.connect(webhook_mail_receive, weak=False, dispatch_uid="mail.webhook_mail_receive")
