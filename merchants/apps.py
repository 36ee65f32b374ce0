from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MerchantsConfig(AppConfig):
    name = "merchants"
    verbose_name = _("Merchants")

    def ready(self) -> None:
        # A merchant's miss is the ticket's own event; its strike is written in the
        # transaction that writes the event (the domain never imports this app).
        from merchants.accountability import merchant_strikes_record
        from tickets.events import events_written_register

        events_written_register("merchant_strikes", merchant_strikes_record)
