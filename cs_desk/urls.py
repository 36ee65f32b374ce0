from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from cs_desk.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/merchant/", include("merchants.api.urls")),
    path("api/v1/", include("tickets.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
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


def handler404(request, exception=None):
    """JSON under /api/ (like every API error), the site's page elsewhere."""
    from django.views.defaults import page_not_found

    from cs_desk.api import api_not_found

    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    return page_not_found(request, exception)


def handler500(request):
    from django.views.defaults import server_error

    from cs_desk.api import api_server_error

    if request.path.startswith("/api/"):
        return api_server_error(request)
    return server_error(request)
