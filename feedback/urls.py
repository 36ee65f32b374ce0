"""The public feedback form (inside i18n_patterns: /feedback/, /en/feedback/)."""

from django.urls import path

from feedback import views

app_name = "feedback"

urlpatterns = [
    path("", views.feedback_new, name="new"),
    path("thanks/", views.feedback_thanks, name="thanks"),
]
