from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/merchant/", include("merchants.api.urls")),
    path("api/v1/", include("tickets.api.urls")),
    path("", RedirectView.as_view(pattern_name="tickets:complaint_new", permanent=False)),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("desk/", include("tickets.desk_urls")),
    path("merchant/", include("merchants.portal_urls")),
    path("reports/merchants/", include("merchants.report_urls")),
    path("reports/", include("tickets.report_urls")),
    path("reports/", include("feedback.report_urls")),
    path("feedback/", include("feedback.urls")),
    path("", include("tickets.urls")),
    prefix_default_language=False,
)
