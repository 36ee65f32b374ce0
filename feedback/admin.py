"""Administrators define the alert words (the ticket domain's model, kept here
beside the hits they cause); surveys, feedback and keyword hits are read-only
records of what consumers said (managers mark feedback handled in the feedback
inbox)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from feedback.models import Feedback, KeywordHit, Survey
from tickets.admin.common import MaskedContactMixin, TicketScopedAdminMixin
from tickets.models import AlertKeyword
from tickets.privacy import mask_email


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(AlertKeyword)
class AlertKeywordAdmin(admin.ModelAdmin):
    list_display = ["word", "is_active", "hit_count", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["word"]
    fields = ["word", "is_active"]

    @admin.display(description=_("complaints and feedback flagged"))
    def hit_count(self, obj: AlertKeyword) -> int:
        return obj.hits.count()


@admin.register(KeywordHit)
class KeywordHitAdmin(TicketScopedAdminMixin, _ReadOnly):
    """Hits in complaints follow the ticket rule; hits in feedback (no ticket) are
    for those who see every ticket."""

    list_display = ["created_at", "keyword", "ticket", "feedback"]
    list_filter = ["keyword"]
    list_select_related = ["keyword", "ticket", "feedback"]
    date_hierarchy = "created_at"


@admin.register(Survey)
class SurveyAdmin(TicketScopedAdminMixin, _ReadOnly):
    list_display = ["created_at", "ticket", "resolution", "rating", "team", "category", "agent", "comment"]
    list_filter = ["rating", "team", "category"]
    list_select_related = ["ticket", "team", "category", "agent"]
    search_fields = ["ticket__reference", "comment"]
    date_hierarchy = "created_at"


@admin.register(Feedback)
class FeedbackAdmin(MaskedContactMixin, _ReadOnly):
    contact_fields = ("contact",)
    list_display = ["created_at", "topic", "body", "contact", "is_flagged", "handled_at", "handled_by"]
    list_filter = ["topic", "is_flagged", ("handled_at", admin.EmptyFieldListFilter)]
    list_select_related = ["handled_by"]
    search_fields = ["body"]
    date_hierarchy = "created_at"

    @admin.display(description=_("contact"))
    def contact_masked(self, obj: Feedback) -> str:
        return mask_email(obj.contact) or "—"
