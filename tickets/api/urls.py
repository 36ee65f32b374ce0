from django.urls import path

from tickets.api.views import SLAPreviewView

app_name = "api"

urlpatterns = [
    path("sla/preview", SLAPreviewView.as_view(), name="sla-preview"),
]
