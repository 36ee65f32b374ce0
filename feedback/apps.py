from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    """Satisfaction surveys, public suggestions and keyword hits (filled out by
    the consumer and reports work)."""

    name = "feedback"
    verbose_name = _("Feedback")

    def ready(self) -> None:
        from feedback.services import ticket_keyword_hits_write
        from tickets.events import events_written_register

        # A complaint's keyword hits are written from its keyword-alert event, in
        # the transaction that files it: the ticket domain does not import us.
        events_written_register("feedback.keyword_hits", ticket_keyword_hits_write)
