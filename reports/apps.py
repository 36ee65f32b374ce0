from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """The managers' reports: SLA, backlog, volume (pages, CSV, API). Figures are
    read from the tickets domain's targets and events; its only models are the
    SLA report's rollups, derived data the database keeps (docs/reports.md)."""

    name = "reports"
    verbose_name = _("Reports")
