"""The admin app configured with cs_desk's own site: ``admin.site``, every
``@admin.register`` and the URLconf's ``admin.site.urls`` are then a
:class:`cs_desk.admin.CsDeskAdminSite` (Django's documented way to replace the
default site)."""

from django.contrib.admin.apps import AdminConfig


class CsDeskAdminConfig(AdminConfig):
    default_site = "cs_desk.admin.CsDeskAdminSite"
