"""Agents' working time on tickets in the admin: read-only (written only by the
desk's reply box, through ``tickets.services.worktime.work_time_add``), scoped
like every ticket page."""

from __future__ import annotations

from django.contrib import admin

from tickets.admin.common import ReadOnlyAdminMixin, TicketScopedAdminMixin
from tickets.models import WorkTime


@admin.register(WorkTime)
class WorkTimeAdmin(TicketScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The seconds each agent spent writing on each ticket, per day."""

    list_display = ["ticket", "user", "day", "seconds"]
    list_filter = ["day"]
    list_select_related = ["ticket", "user"]
    search_fields = ["=ticket__reference", "user__username"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    ordering = ["-day", "-id"]
