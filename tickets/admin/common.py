"""Pieces every admin page of the tickets app shares."""

from __future__ import annotations

import json
from datetime import datetime

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime

from tickets.access import rows_visible_to, sees_contact


def code_block(value) -> str:
    """A stored JSON value (a payload, recorded values, evidence) shown as it is
    kept, in a code block: its keys and codes are the system's, not prose."""
    if value in (None, {}, []):
        return "—"
    return format_html("<pre><code>{}</code></pre>", json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True))


def compact_instant(value: datetime | None) -> str:
    """An instant in the site's time zone as ``2026-11-23 10:00``, for narrow list columns."""
    return date_format(localtime(value), "Y-m-d H:i") if value is not None else "—"


def code(value: str) -> str:
    """A code (a MIME type, a checksum, a header) marked as one."""
    return format_html("<code>{}</code>", value) if value else "—"


class ReadOnlyAdminMixin:
    """View only: no add, change or delete, for superusers too."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return list(self.fields)


class TicketScopedAdminMixin:
    """Admin pages of tickets and of rows hanging off one (``ticket_field``; None
    for tickets themselves) see exactly the tickets the desk and the API show
    their user (:func:`tickets.access.rows_visible_to`). Everything the admin
    does starts from this queryset: the list, its filters, search and actions,
    the object pages (another team's row is "not found", like a missing one),
    the history and the autocompletes."""

    ticket_field: str | None = "ticket"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return rows_visible_to(request.user, super().get_queryset(request), ticket_field=self.ticket_field)


class MaskedContactMixin:
    """Shows a consumer's phone and email masked to those whose role does not
    need them (:func:`tickets.access.sees_contact`): each field named in
    ``contact_fields`` is replaced, in lists and forms, by the admin's read-only
    display ``<field>_masked``."""

    contact_fields: tuple[str, ...] = ()

    def masked(self, request: HttpRequest) -> bool:
        return bool(self.contact_fields) and not sees_contact(request.user)

    def get_fields(self, request: HttpRequest, obj=None):
        return self._swap(request, super().get_fields(request, obj))

    def get_fieldsets(self, request: HttpRequest, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self.masked(request):
            return fieldsets
        return [(name, {**options, "fields": self._swap(request, options["fields"])}) for name, options in fieldsets]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly + [f"{name}_masked" for name in self.contact_fields] if self.masked(request) else readonly

    def get_list_display(self, request: HttpRequest):
        return self._swap(request, super().get_list_display(request))

    def _swap(self, request: HttpRequest, names):
        if not self.masked(request):
            return names
        swap = {name: f"{name}_masked" for name in self.contact_fields}
        return [
            tuple(swap.get(n, n) for n in name) if isinstance(name, (list, tuple)) else swap.get(name, name)
            for name in names
        ]
