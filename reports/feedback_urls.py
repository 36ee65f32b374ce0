"""Satisfaction and the feedback inbox (inside i18n_patterns, under /reports/)."""

from django.urls import path

from reports import feedback_views as views

app_name = "feedback_reports"

urlpatterns = [
    path("satisfaction/", views.satisfaction, name="satisfaction"),
    path("feedback/", views.inbox, name="inbox"),
    path("feedback/<int:pk>/mark/", views.inbox_mark, name="mark"),
]
