"""Every endpoint under /api/v1/ except the merchant API (/api/v1/merchant/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from complaints import api as consumer
from desk.api.views import CategoryListView, SLAPreviewView, TicketViewSet
from feedback.api import FeedbackViewSet, SurveyViewSet
from merchants.api.staff import MerchantViewSet
from reports import api as reports

app_name = "api"

router = SimpleRouter()
router.trailing_slash = "/?"  # with or without the final slash (the constructor takes only a yes/no)
router.register("tickets", TicketViewSet, basename="ticket")
router.register("merchants", MerchantViewSet, basename="merchant")
router.register("feedback", FeedbackViewSet, basename="feedback")
router.register("surveys", SurveyViewSet, basename="survey")

urlpatterns = [
    path("sla/preview", SLAPreviewView.as_view(), name="sla-preview"),
    path("categories", CategoryListView.as_view(), name="categories"),
    path("track/<str:token>", consumer.TrackView.as_view(), name="track"),
    path("track/<str:token>/messages", consumer.TrackMessagesView.as_view(), name="track-messages"),
    path("track/<str:token>/survey", consumer.TrackSurveyView.as_view(), name="track-survey"),
    path("reports/sla", reports.SLAReportView.as_view(), name="reports-sla"),
    path("reports/backlog", reports.BacklogView.as_view(), name="reports-backlog"),
    path("reports/volume", reports.VolumeView.as_view(), name="reports-volume"),
    path("reports/satisfaction", reports.SatisfactionView.as_view(), name="reports-satisfaction"),
    *router.urls,
]
