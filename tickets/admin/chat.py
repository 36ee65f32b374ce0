"""Live chat in the admin: each chat's state (read-only, scoped like every ticket
page) and the agents' availability and capacity, changed through the same
service as the desk's switch (``tickets.services.chat.availability_set``)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from cs_desk.exceptions import ApplicationError
from tickets.admin.common import ReadOnlyAdminMixin, TicketScopedAdminMixin
from tickets.models import AgentAvailability, Chat
from tickets.services.chat import availability_set


@admin.register(Chat)
class ChatAdmin(TicketScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who each chat was offered to, who took it, when it started and ended."""

    list_display = ["ticket", "state", "agent", "offered_to", "started_at", "accepted_at", "ended_at"]
    list_filter = ["state"]
    list_select_related = ["ticket", "agent", "offered_to"]
    search_fields = ["=ticket__reference"]
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    ordering = ["-started_at"]
    fields = [
        "ticket",
        "state",
        "agent",
        "offered_to",
        "offer_expires_at",
        "passed_by",
        "started_at",
        "accepted_at",
        "ended_at",
        "consumer_read_upto",
        "agent_read_upto",
    ]

    @admin.display(description=_("agents who let it pass"))
    def passed_by(self, obj: Chat) -> str:
        users = get_user_model()
        names = users.objects.filter(pk__in=obj.passed).values_list(users.USERNAME_FIELD, flat=True)
        return "、".join(sorted(names)) or "—"


@admin.register(AgentAvailability)
class AgentAvailabilityAdmin(admin.ModelAdmin):
    """Whether each agent takes chats now, and how many at once."""

    list_display = ["user", "status", "capacity", "changed_at"]
    list_filter = ["status"]
    list_select_related = ["user"]
    fields = ["user", "status", "capacity"]
    autocomplete_fields = ["user"]
    ordering = ["user__username"]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return ["user"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: AgentAvailability, form, change: bool) -> None:
        try:
            saved = availability_set(user=obj.user, status=obj.status, capacity=obj.capacity)
        except ApplicationError as error:
            messages.error(request, error.message)
            return
        obj.pk, obj.changed_at = saved.pk, saved.changed_at
