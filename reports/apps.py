from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """The managers' reports: SLA, backlog, volume (pages, CSV, API). No models:
    figures are read from the tickets domain's targets and events."""

    name = "reports"
    verbose_name = _("Reports")
