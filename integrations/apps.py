from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        # Webhooks are an outbox channel, fed from the ticket events once they commit
        # (the domain never imports this app).
        from integrations.fanout import ticket_events_fan_out
        from integrations.webhooks import WEBHOOK
        from tickets.events import events_consumer_register
        from tickets.outbox import outbox_channel_register

        outbox_channel_register(WEBHOOK)
        events_consumer_register("webhooks", ticket_events_fan_out)
