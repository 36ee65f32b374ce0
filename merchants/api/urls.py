from django.urls import re_path
from rest_framework.routers import SimpleRouter

from merchants.api.views import ComplaintViewSet, ScorecardView

app_name = "merchant_api"

router = SimpleRouter()
router.trailing_slash = "/?"  # with or without the final slash (the constructor takes only a yes/no)
router.register("complaints", ComplaintViewSet, basename="complaint")

urlpatterns = [
    re_path(r"^scorecard/?$", ScorecardView.as_view(), name="scorecard"),
    *router.urls,
]
