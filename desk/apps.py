from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeskConfig(AppConfig):
    """The agent desk: the queue, the ticket workspace, presence, phone calls.
    No models: it works the tickets domain through its services and selectors."""

    name = "desk"
    verbose_name = _("Agent desk")

    def ready(self) -> None:
        # The live desk hears of every committed change from the ticket events.
        from desk.live import desk_push
        from tickets.events import events_consumer_register

        events_consumer_register("desk", desk_push)
