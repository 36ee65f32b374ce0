from csp.constants import NONCE, SELF
from csp.decorators import csp_update
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from cs_desk.health import healthz

# ReDoc styles its page at run time with style elements: those it adds while
# rendering carry this response's nonce (tickets/redoc.js hands it over); the one
# its bundle adds as it loads, before it can know the nonce (perfect-scrollbar's
# rules, inserted empty and then filled), is allowed by its two hashes. Its
# search index runs in a worker it builds from a blob. A new ReDoc bundle
# (drf-spectacular-sidecar) may change that stylesheet: tests/browser/test_csp.py
# then fails and Chromium's message names the new hash.
REDOC_CSP = {
    "style-src": [
        NONCE,
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # the empty element
        "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",  # perfect-scrollbar's rules
    ],
    "worker-src": [SELF, "blob:"],
}

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/merchant/", include("merchants.api.urls")),
    path("api/v1/", include("cs_desk.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The API docs under the site's Content-Security-Policy: Swagger UI with its
    # script served from its own URL (the split view) and our page template; ReDoc
    # with the exceptions of REDOC_CSP, for its page only.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="tickets/api/swagger_ui.html"),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        csp_update(REDOC_CSP)(
            SpectacularRedocView.as_view(url_name="api-schema", template_name="tickets/api/redoc.html")
        ),
        name="api-redoc",
    ),
    path("", RedirectView.as_view(pattern_name="complaints:complaint_new", permanent=False)),
]
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("desk/", include("desk.urls")),
    path("merchant/", include("merchants.portal_urls")),
    path("reports/merchants/", include("merchants.report_urls")),
    path("reports/", include("reports.urls")),
    path("reports/", include("reports.feedback_urls")),
    path("feedback/", include("feedback.urls")),
    path("", include("complaints.urls")),
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
