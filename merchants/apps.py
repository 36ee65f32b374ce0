from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MerchantsConfig(AppConfig):
    name = "merchants"
    verbose_name = _("Merchants")

    def ready(self) -> None:
        # A merchant's miss and reply are the ticket's own events; the strike is
        # written in the transaction that writes the event, and the ladder and the
        # score follow on commit (the domain never imports this app).
        from merchants.accountability import merchant_events_record
        from tickets.events import events_written_register

        events_written_register("merchant_strikes", merchant_events_record)
