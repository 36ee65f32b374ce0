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
        from anymail.signals import inbound

        from mail.webhook import webhook_mail_receive

        inbound.connect(webhook_mail_receive, weak=False, dispatch_uid="mail.webhook_mail_receive")
