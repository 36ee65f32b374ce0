from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        # Webhooks are an outbox channel, fed from the ticket events once they commit
        # (the domain never imports this app), and from a merchant's penalties in the
        # transaction that imposes them (the merchants app, beside this one, never
        # imports it either).
        from accounts.events import merchant_events_register
        from integrations.fanout import ticket_events_fan_out
        from integrations.webhooks import WEBHOOK, merchant_events_webhooks
        from tickets.events import events_consumer_register
        from tickets.outbox import outbox_channel_register

        outbox_channel_register(WEBHOOK)
        events_consumer_register("webhooks", ticket_events_fan_out)
        merchant_events_register("webhooks", merchant_events_webhooks)
