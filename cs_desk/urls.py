from csp.constants import NONCE, SELF
from csp.decorators import csp_update
from django.conf import settings
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


def anymail_inbound_urls() -> list:
    """django-anymail's inbound views (anymail.urls without its tracking views, which
    nothing here listens to) of the providers it can serve with the settings given:
    one whose own key is not set (Mailgun's signing key, Postal's, MailerSend's …)
    or whose package is missing (boto3 for Amazon SES) would answer every request
    500. Each view is CSRF-exempt and checks the basic auth of
    ANYMAIL["WEBHOOK_SECRET"] (and the provider's signature where it signs)."""
    import warnings

    from anymail import urls as anymail_urls
    from django.core.exceptions import ImproperlyConfigured

    mounted = []
    for pattern in anymail_urls.urlpatterns:
        if not pattern.name.endswith("_inbound_webhook") or pattern.name.startswith("sendinblue"):  # Brevo's old name
            continue
        view = pattern.callback
        try:
            with warnings.catch_warnings():  # "SendGrid no longer officially supported" and the like
                warnings.simplefilter("ignore")
                view.view_class(**view.view_initkwargs)
        except (ImproperlyConfigured, ImportError):
            continue
        mounted.append(pattern)
    return mounted


# Email in from a provider's webhook, at /mail/anymail/<provider>/inbound/ (mail.apps
# hands each message to the mail pipeline). Without a secret the endpoint would be
# open to anyone: it is not mounted.
if settings.ANYMAIL.get("WEBHOOK_SECRET"):
    urlpatterns.append(path("mail/anymail/", include((anymail_inbound_urls(), "anymail"))))
urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path("desk/", include("desk.urls")),
    path("merchant/", include("merchants.portal_urls")),
    path("reports/merchants/", include("merchants.report_urls")),
    path("reports/", include("reports.urls")),
    path("reports/", include("reports.feedback_urls")),
    path("feedback/", include("feedback.urls")),
    path("mail/", include("mail.urls")),
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
