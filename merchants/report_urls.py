"""Managers' merchant pages (inside i18n_patterns, at /reports/merchants/)."""

from django.urls import path

from merchants.views import reports

app_name = "merchant_reports"

urlpatterns = [
    path("", reports.scorecard_list, name="list"),
    path("export.csv", reports.scorecard_export, name="export"),
    path("risk/", reports.risk_signals, name="risk"),
    path("risk/<int:pk>/review/", reports.risk_review, name="risk_review"),
    path("<int:pk>/", reports.merchant_detail, name="detail"),
    path("<int:pk>/recompute/", reports.merchant_recompute, name="recompute"),
]
