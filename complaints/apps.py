from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    """The consumer's pages and tracking API: file a complaint, follow it,
    reply, rate. No models: it files and reads tickets through the domain."""

    name = "complaints"
    verbose_name = _("Consumer pages")

    def ready(self) -> None:
        # The consumer's chat hears of every committed message and change of its chat.
        from complaints.live import chat_push
        from tickets.events import events_consumer_register

        events_consumer_register("chat", chat_push)
