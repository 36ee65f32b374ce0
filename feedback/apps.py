from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    """Satisfaction surveys, public suggestions and keyword alerts (filled out by
    the consumer and reports work)."""

    name = "feedback"
    verbose_name = _("Feedback")
