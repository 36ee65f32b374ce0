from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets and SLAs")

    def ready(self) -> None:
        from tickets import checks  # noqa: F401  (registers the calendar coverage check)
        from tickets.events import events_written_register
        from tickets.staff_alerts import staff_alerts_write

        events_written_register("staff_alerts", staff_alerts_write)
