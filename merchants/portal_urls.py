"""The merchant portal (inside i18n_patterns: Chinese at /merchant/, English at /en/merchant/)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from merchants.views import portal

app_name = "merchant"

urlpatterns = [
    path("login/", portal.MerchantLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="merchant:login"), name="logout"),
    path("", portal.complaints, name="complaints"),
    path("complaints/<int:pk>/", portal.complaint, name="complaint"),
    path("scorecard/", portal.scorecard, name="scorecard"),
    path("penalties/<int:pk>/", portal.penalty, name="penalty"),
    path("tokens/", portal.tokens, name="tokens"),
]
