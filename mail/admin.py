"""Incoming email in the admin: every message as it came, what became of it, and
the original, read as text (never rendered as HTML). Read-only: the pipeline
alone writes these rows. Staff see the mail of the tickets they may see."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from mail.models import InboundMail
from tickets.admin.common import ReadOnlyAdminMixin, TicketScopedAdminMixin


@admin.register(InboundMail)
class InboundMailAdmin(TicketScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["received_at", "via", "sender", "subject", "status", "outcome", "ticket_link"]
    list_filter = ["status", "outcome", "via"]
    list_select_related = ["ticket"]
    search_fields = ["sender", "subject", "header_message_id", "ticket__reference"]
    date_hierarchy = "received_at"
    fields = [
        "received_at",
        "via",
        "sender",
        "recipient",
        "subject",
        "header_message_id",
        "status",
        "outcome",
        "detail",
        "ticket_link",
        "processed_at",
        "attempts",
        "size",
        "text",
        "original_link",
    ]
    readonly_fields = fields

    @admin.display(description=_("ticket"), ordering="ticket__reference")
    def ticket_link(self, obj: InboundMail) -> str:
        if obj.ticket_id is None:
            return "—"
        url = reverse("admin:tickets_ticket_change", args=[obj.ticket_id])
        return format_html('<a href="{}">{}</a>', url, obj.ticket.reference)

    @admin.display(description=_("original message"))
    def original_link(self, obj: InboundMail) -> str:
        return format_html('<a href="{}">{}</a>', reverse("mail:original", args=[obj.pk]), _("read the original"))
