"""Teams, categories, SLA policies, staff profiles, canned answers, and two
tables shown for inspection only (reference counters, daily digests)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from tickets.access import canned_answers_kept_by
from tickets.admin.common import ReadOnlyAdminMixin
from tickets.forms import (
    PolicyWhichForm,
    SLAPolicyForm,
)
from tickets.models import (
    CannedAnswer,
    Category,
    ReportDigest,
    SLAPolicy,
    StaffProfile,
    Team,
    TicketCounter,
)
from tickets.selectors import sla_answer

# --- Organisation and policies ------------------------------------------------------


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "member_count", "supervisor_count"]
    search_fields = ["name"]
    filter_horizontal = ["members", "supervisors"]
    fields = ["name", "email", "members", "supervisors"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_count=Count("members", distinct=True),
                supervisor_count=Count("supervisors", distinct=True),
            )
        )

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, obj: Team) -> int:
        return obj.member_count

    @admin.display(description=_("supervisors"), ordering="supervisor_count")
    def supervisor_count(self, obj: Team) -> int:
        return obj.supervisor_count


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "default_priority", "team", "is_active", "sort_order"]
    list_filter = ["default_priority", "team", "is_active"]
    list_select_related = ["team"]
    search_fields = ["code", "name_zh", "name_en"]


def _target_display(name: str) -> Callable[[admin.ModelAdmin, SLAPolicy], str]:
    def display(model_admin: admin.ModelAdmin, obj: SLAPolicy) -> str:
        unit = SLAPolicy.Unit(getattr(obj, f"{name}_unit")).label
        clock = SLAPolicy.Clock(getattr(obj, f"{name}_clock")).label
        return f"{getattr(obj, f'{name}_amount')} {unit} · {clock}"

    return display


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    form = SLAPolicyForm
    change_list_template = "admin/tickets/slapolicy/change_list.html"
    list_display = [
        "position",
        "__str__",
        "conditions",
        "first_response",
        "next_response",
        "resolution",
        "merchant_reply",
        "ladder",
        "calendar",
    ]
    list_display_links = ["__str__"]
    list_editable = ["position"]
    sortable_by = ()  # always in matching order: a sort by one column would misrepresent it
    list_select_related = ["calendar", "category", "team", "merchant"]
    readonly_fields = ["updated_at"]
    fieldsets = [
        (
            None,
            {
                "fields": ["name", "position", "calendar", "updated_at"],
                "description": _(
                    "Edits apply to SLA targets opened after the edit: open targets keep the deadline they were "
                    "promised. “Days” on the business clock are working days (the calendar's daily working hours); "
                    "on the calendar clock they are 24 hours."
                ),
            },
        ),
        (
            _("Conditions"),
            {
                "fields": [("priority", "channel"), ("category", "team"), "merchant"],
                "description": _(
                    "A ticket gets the first policy whose conditions all hold, trying the policies with conditions "
                    "from the lowest order number up; an empty condition holds for every ticket. A policy with a "
                    "priority and nothing else is that priority's fallback, tried last."
                ),
            },
        ),
        (
            _("First response"),
            {
                "fields": [("first_response_amount", "first_response_unit", "first_response_clock")],
                "description": _("Due from creation; met by the first public reply from an agent."),
            },
        ),
        (
            _("Next response"),
            {
                "fields": [("next_response_amount", "next_response_unit", "next_response_clock")],
                "description": _("Opened by each new consumer message once the ticket has been answered."),
            },
        ),
        (
            _("Resolution"),
            {
                "fields": [("resolution_amount", "resolution_unit", "resolution_clock")],
                "description": _("Paused while the ticket is pending (waiting on the consumer)."),
            },
        ),
        (
            _("Merchant reply"),
            {
                "fields": [("merchant_reply_amount", "merchant_reply_unit", "merchant_reply_clock")],
                "description": _("The merchant's time to reply after a complaint is forwarded; a miss is a strike."),
            },
        ),
        (
            _("Escalation ladder"),
            {
                "fields": [("warning_percent", "breach_percent", "level2_percent")],
                "description": _(
                    "Warning notifies the assignee; breach marks the ticket overdue, raises its priority and hands "
                    "it to the team's supervisors; level 2 notifies the managers. Each must be later than the last."
                ),
            },
        ),
    ]

    first_response = admin.display(description=_("first response"))(_target_display("first_response"))
    next_response = admin.display(description=_("next response"))(_target_display("next_response"))
    resolution = admin.display(description=_("resolution"))(_target_display("resolution"))
    merchant_reply = admin.display(description=_("merchant reply"))(_target_display("merchant_reply"))

    # xgettext:no-python-format (the % is a literal percent sign)
    @admin.display(description=_("ladder (% elapsed)"))
    def ladder(self, obj: SLAPolicy) -> str:
        return f"{obj.warning_percent} / {obj.breach_percent} / {obj.level2_percent}"

    @admin.display(description=_("conditions"))
    def conditions(self, obj: SLAPolicy) -> str:
        if obj.is_fallback:
            return str(_("fallback for %(priority)s") % {"priority": obj.get_priority_display()})
        parts = [
            str(value)
            for value in (
                obj.get_priority_display() if obj.priority else "",
                obj.get_channel_display() if obj.channel else "",
                obj.category,
                obj.team,
                obj.merchant,
            )
            if value
        ]
        return " · ".join(parts) or str(_("every ticket"))

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).in_order()

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # A priority's fallback stays (tickets could not be filed without one);
        # a policy with conditions may go, one at a time from its own page.
        return obj is not None and not obj.is_fallback and super().has_delete_permission(request, obj)

    def get_urls(self):
        which = path("which/", self.admin_site.admin_view(self.which_view), name="tickets_slapolicy_which")
        return [which, *super().get_urls()]

    def which_view(self, request: HttpRequest) -> HttpResponse:
        """ "Which policy would a chat about a refund get?": the policy chosen, as
        for a real ticket, and the deadlines it would promise if filed now."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = PolicyWhichForm(request.GET or None)
        answer, dues = None, []
        if form.is_valid():
            answer = sla_answer(form.question(), at=timezone.now().replace(second=0, microsecond=0))
            dues = [
                (label, datetime.fromisoformat(answer[f"{name}_due"]))
                for name, label in (
                    ("first_response", _("First response due")),
                    ("next_response", _("Next response due")),
                    ("resolution", _("Resolution due")),
                )
            ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Which SLA policy applies?"),
            "form": form,
            "answer": answer,
            "dues": dues,
            "policy": SLAPolicy.objects.filter(pk=answer["policy"]["id"]).first() if answer else None,
        }
        return TemplateResponse(request, "admin/tickets/slapolicy/which.html", context)


@admin.register(TicketCounter)
class TicketCounterAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The per-day sequence behind ticket references (for inspection only)."""

    list_display = ["day", "value"]
    ordering = ["-day"]


@admin.register(ReportDigest)
class ReportDigestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The daily digests sent to managers, one per day reported (the emails are in the outbox)."""

    list_display = ["day", "recipients", "created_at"]
    ordering = ["-day"]


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "alias", "language", "time_zone"]
    search_fields = ["user__username", "alias"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]


@admin.register(CannedAnswer)
class CannedAnswerAdmin(admin.ModelAdmin):
    """Supervisors keep their teams' canned answers (their group has the add,
    change and delete permissions; :func:`tickets.access.canned_answers_kept_by`
    says which): they see those and the answers for every category, and change
    only their own teams'. Administrators keep them all."""

    list_display = ["title", "language", "category", "is_faq", "is_active", "updated_at"]
    list_filter = ["language", "is_faq", "is_active", "category"]
    search_fields = ["title", "body"]
    list_select_related = ["category"]
    fields = ["title", "language", "category", "is_faq", "is_active", "body", "variables"]
    readonly_fields = ["variables"]

    @admin.display(description=_("variables"))
    def variables(self, obj) -> str:
        return format_html_join(
            "", "<div><code>{{{}}}</code> {}</div>", ((name, label) for name, label in CannedAnswer.VARIABLES.items())
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        answers = super().get_queryset(request)
        kept = canned_answers_kept_by(request.user)
        return answers if kept is None else answers.filter(kept | Q(category__isnull=True))

    def _keeps(self, request: HttpRequest, obj: CannedAnswer | None) -> bool:
        kept = canned_answers_kept_by(request.user)
        return obj is None or kept is None or CannedAnswer.objects.filter(kept, pk=obj.pk).exists()

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self._keeps(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and self._keeps(request, obj)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        kept = canned_answers_kept_by(request.user)
        if db_field.name == "category" and kept is not None:
            # A supervisor files an answer under one of their teams' categories.
            field.queryset = field.queryset.filter(team__supervisors=request.user)
            field.required = True
        return field

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
