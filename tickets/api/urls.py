from django.urls import path
from rest_framework.routers import SimpleRouter

from tickets.api.views import SLAPreviewView, TicketViewSet

app_name = "api"

router = SimpleRouter(trailing_slash="/?")
router.register("tickets", TicketViewSet, basename="ticket")

urlpatterns = [
    path("sla/preview", SLAPreviewView.as_view(), name="sla-preview"),
    *router.urls,
]
