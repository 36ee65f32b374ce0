"""The managers' reports (inside i18n_patterns, at /reports/)."""

from django.urls import path
from django.views.generic import RedirectView

from reports import views as reports

app_name = "reports"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="reports:sla", permanent=False), name="index"),
    path("sla/", reports.sla, name="sla"),
    path("backlog/", reports.backlog, name="backlog"),
    path("volume/", reports.volume, name="volume"),
]
