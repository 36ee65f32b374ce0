"""Pieces every admin page of the tickets app shares."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from tickets.access import rows_visible_to, sees_contact


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
