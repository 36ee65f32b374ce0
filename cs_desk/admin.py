"""cs_desk's admin site: its brand, in the reader's language, and the index's
warnings. Installed as the default site (``cs_desk.apps.CsDeskAdminConfig``), so
the apps register their pages on it with ``@admin.register`` as usual."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _


class CsDeskAdminSite(admin.AdminSite):
    site_header = _("cs_desk customer service")
    site_title = _("cs_desk admin")
    index_title = _("Configuration and records")

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> TemplateResponse:
        # Imported here: this module is loaded while the apps' admin modules are
        # being imported (the first @admin.register builds the site).
        from tickets.admin.calendars import calendar_coverage_warn

        # Calendars missing this or next year's official schedule, told to those who enter days.
        calendar_coverage_warn(request)
        return super().index(request, extra_context)
