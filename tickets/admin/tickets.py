"""Tickets and what hangs off them: messages, evidence, SLA targets, the audit
trail and the notification outbox. Ticket changes go through the services."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from cs_desk.exceptions import ApplicationError
from tickets import services
from tickets.access import can_work
from tickets.admin.common import (
    MaskedContactMixin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    TicketScopedAdminMixin,
    code,
    code_block,
    compact_instant,
)
from tickets.event_text import event_details, reason_text
from tickets.forms import (
    TicketAdminForm,
)
from tickets.models import (
    Attachment,
    Message,
    Notification,
    SLATarget,
    StaffAlert,
    Ticket,
    TicketEvent,
)
from tickets.outbox import EMAIL, outbox_may_retry, outbox_retry
from tickets.privacy import mask_contact, mask_email, mask_phone
from tickets.sla.calendar import ClockKind
from tickets.templatetags.cs_desk_time import hours_minutes

# --- Tickets ------------------------------------------------------------------------


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ["created_at", "author_kind", "author_user", "is_public", "body"]

    @admin.display(description=_("user"))
    def author_user(self, obj: Message) -> str:
        return str(obj.author) if obj.author_id else "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("author")


class AttachmentInline(ReadOnlyInline):
    """Evidence files, listed (their contents are opened from the agent workspace)."""

    model = Attachment
    fields = ["created_at", "original_name", "file_type", "size", "width", "height", "checksum"]

    @admin.display(description=_("type"))
    def file_type(self, obj: Attachment) -> str:
        return code(obj.content_type)

    @admin.display(description=_("checksum (SHA-256)"))
    def checksum(self, obj: Attachment) -> str:
        return code(obj.sha256)


# A clock's short name, for a list column (the choices' labels explain them at length).
CLOCK_NAMES = {
    ClockKind.CALENDAR.value: pgettext_lazy("clock", "calendar"),
    ClockKind.BUSINESS.value: pgettext_lazy("clock", "business"),
}


@admin.display(description=_("duration"))
def target_duration(obj: SLATarget) -> str:
    """A target's length on its own clock, as the desk's SLA panel writes it (3h 05m, 1d 3h)."""
    return hours_minutes(obj.duration)


class SLATargetInline(ReadOnlyInline):
    model = SLATarget
    fields = ["kind", "cycle", "status", "clock", "length", "started_at", "due_at", "steps_taken", "met_at"]

    length = staticmethod(target_duration)


class TicketEventInline(ReadOnlyInline):
    model = TicketEvent
    fields = ["kind", "created_at", "target_kind", "step", "actor", "details"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._details: dict[int, dict[int, str]] = {}  # per ticket: made once a page, not once a row

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("actor")

    @admin.display(description=_("details"))
    def details(self, obj: TicketEvent) -> str:
        """What the event says beyond its kind, as the desk's audit trail says it."""
        if obj.ticket_id not in self._details:
            self._details[obj.ticket_id] = event_details(list(TicketEvent.objects.filter(ticket_id=obj.ticket_id)))
        return self._details[obj.ticket_id].get(obj.pk) or "—"


class EscalationLevelFilter(admin.SimpleListFilter):
    """Fixed levels: no ``SELECT DISTINCT`` over the whole ticket table."""

    title = _("escalation level")
    parameter_name = "escalation_level"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("0", _("0 — not escalated")), ("1", _("1 — breached")), ("2", _("2 — managers notified"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("0", "1", "2"):
            return queryset.filter(escalation_level=int(self.value()))
        return queryset


# Kept by the services and the sweep, shown read-only.
SLA_FIELDS = (
    "due_at",
    "is_overdue",
    "escalation_level",
    "first_responded_at",
    "resolved_at",
    "closed_at",
    "created_at",
    "updated_at",
)


@admin.register(Ticket)
class TicketAdmin(TicketScopedAdminMixin, MaskedContactMixin, admin.ModelAdmin):
    ticket_field = None
    contact_fields = ("requester_email", "requester_phone")
    form = TicketAdminForm
    inlines = [MessageInline, AttachmentInline, SLATargetInline, TicketEventInline]
    list_display = [
        "reference",
        "subject",
        "requester",
        "category",
        "priority",
        "status",
        "team",
        "assignee",
        "merchant",
        "due_at",
        "is_overdue",
        "escalation_level",
        "created_at",
    ]
    list_filter = ["status", "priority", "team", "category", "is_overdue", EscalationLevelFilter, "channel"]
    list_select_related = ["category", "team", "assignee", "merchant"]
    search_fields = ["reference", "order_number", "subject", "requester_email", "requester_phone"]
    search_help_text = _("Reference, order number, subject, or the requester's email or phone.")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts would scan a large table
    ordering = ["-created_at"]
    readonly_fields = ["reference", "category", "team", "merchant", *SLA_FIELDS]
    fieldsets = [
        (
            None,
            {
                "fields": ["reference", "subject", "category", "team", "merchant", "order_number"],
                "description": _(
                    "Tickets are filed by consumers (the complaint form and the API) and by agents (the agent "
                    "workspace, e.g. a phone call), never here: filing starts the SLA clocks and acknowledges the "
                    "consumer. Tickets are closed, not deleted, so that the audit trail stays complete."
                ),
            },
        ),
        (_("Requester"), {"fields": ["requester_name", "requester_email", "requester_phone", "language", "channel"]}),
        (
            _("Handling"),
            {
                "fields": ["status", "priority", "assignee", "loaded_version"],
                "description": _(
                    "Changes to status, priority and assignee are made by the same services as in the agent "
                    "workspace: each writes an event with your name, re-dates or pauses the SLA targets and "
                    "sends the notifications it causes."
                ),
            },
        ),
        (_("SLA"), {"fields": SLA_FIELDS}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # As on the desk: only those who work tickets change them (managers read).
        return super().has_change_permission(request, obj) and can_work(request.user)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("requester's email"))
    def requester_email_masked(self, obj: Ticket) -> str:
        return mask_email(obj.requester_email) or "—"

    @admin.display(description=_("requester's phone"))
    def requester_phone_masked(self, obj: Ticket) -> str:
        return mask_phone(obj.requester_phone) or "—"

    @admin.display(description=_("requester"))
    def requester(self, obj: Ticket) -> str:
        """Lists never show a consumer's full phone number or email address."""
        return f"{obj.requester_name} {mask_contact(phone=obj.requester_phone, email=obj.requester_email)}"

    def changeform_view(self, request: HttpRequest, object_id=None, form_url="", extra_context=None) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            # The service refused, under its lock, what the form had accepted: another writer
            # got there first. The admin's transaction is undone whole (the description fields
            # too, and no history entry), and the page shows the ticket as it now stands.
            messages.error(request, exc.message)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request: HttpRequest, obj: Ticket, form: TicketAdminForm, change: bool) -> None:
        changed = set(form.changed_data)
        direct = [name for name in form.Meta.fields if name in changed and name not in form.SERVICE_FIELDS]
        if direct:
            obj.save(update_fields=[*direct, "updated_at"])
        updates = {name: form.cleaned_data[name] for name in form.SERVICE_FIELDS if name in changed}
        if updates:
            # All or nothing, as on the API; a refusal rolls the whole page back (changeform_view).
            services.ticket_update(ticket=obj, actor=request.user, now=timezone.now(), **updates)
        obj.refresh_from_db()


@admin.register(SLATarget)
class SLATargetAdmin(TicketScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    # Readable at 1440 px with the app navigation open, in Chinese and in English
    # (tests/browser/test_admin_sla_targets.py): the ticket by its reference, the cycle only
    # when it is not the first, the length and its clock in one column, the due instant in a
    # compact form, short headings, and cells that do not wrap (tickets/admin_lists.css). The
    # status says met or missed; when the clock started, when it was met, the sweep's next
    # step and the rest of the promise are on the target's page.
    list_display = ["reference", "target", "status", "promise", "due", "steps"]
    list_display_links = ["target"]
    list_filter = ["kind", "status", "clock"]
    list_select_related = ["ticket"]
    search_fields = ["=ticket__reference"]
    search_help_text = _("Exact ticket reference.")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts would scan a large table
    ordering = ["-id"]
    fieldsets = [
        (None, {"fields": ["ticket", "kind", "cycle", "status", "policy"]}),
        (
            _("Promise"),
            {
                "fields": [
                    "clock",
                    "length",
                    "calendar",
                    ("warning_percent", "breach_percent", "level2_percent"),
                    "started_at",
                    "warning_at",
                    "due_at",
                    "level2_at",
                    "redated_at",
                    "redate_reason_text",
                ]
            },
        ),
        (_("Pauses"), {"fields": ["paused_at", "pauses_text"]}),
        (
            _("Escalation and outcome"),
            {
                "fields": [
                    "next_step_at",
                    "steps_taken",
                    "met_at",
                    "closed_at",
                    "business_time_to_meet",
                    "calendar_time_to_meet",
                ]
            },
        ),
    ]

    length = staticmethod(target_duration)

    @admin.display(description=_("ticket"), ordering="ticket")
    def reference(self, obj: SLATarget) -> str:
        return obj.ticket.reference

    @admin.display(description=_("target"), ordering="kind")
    def target(self, obj: SLATarget) -> str:
        """The target, and its cycle after the first (下次响应 #2), as its page's title says it."""
        return obj.get_kind_display() if obj.cycle == 1 else f"{obj.get_kind_display()} #{obj.cycle}"

    @admin.display(description=_("duration"), ordering="duration")
    def promise(self, obj: SLATarget) -> str:
        """``1天3小时 · 工作时间``: the target's length and the clock it runs on."""
        return f"{hours_minutes(obj.duration)} · {CLOCK_NAMES[obj.clock]}"

    @admin.display(description=_("due"), ordering="due_at")
    def due(self, obj: SLATarget) -> str:
        return compact_instant(obj.due_at)

    @admin.display(description=_("escalations"), ordering="steps_taken")
    def steps(self, obj: SLATarget) -> int:
        """Steps of the ladder taken: 1 warned, 2 breached, 3 level 2."""
        return obj.steps_taken

    @admin.display(description=_("re-dated because"))
    def redate_reason_text(self, obj: SLATarget) -> str:
        return reason_text(obj.redate_reason) or "—"

    @admin.display(description=_("pauses"))
    def pauses_text(self, obj: SLATarget) -> str:
        """The closed pauses, each from when to when, in the site's time zone."""
        spans = [
            f"{date_format(localtime(datetime.fromisoformat(start)), 'DATETIME_FORMAT')} – "
            f"{date_format(localtime(datetime.fromisoformat(end)), 'DATETIME_FORMAT')}"
            for start, end in obj.pauses or ()
        ]
        return format_html_join(mark_safe("<br>"), "{}", ((span,) for span in spans)) if spans else "—"

    @admin.display(description=_("business time to meet"))
    def business_time_to_meet(self, obj: SLATarget) -> str:
        return hours_minutes(None if obj.business_seconds is None else timedelta(seconds=obj.business_seconds))

    @admin.display(description=_("calendar time to meet"))
    def calendar_time_to_meet(self, obj: SLATarget) -> str:
        return hours_minutes(None if obj.calendar_seconds is None else timedelta(seconds=obj.calendar_seconds))


@admin.register(TicketEvent)
class TicketEventAdmin(TicketScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit trail: nobody edits or deletes it."""

    list_display = ["created_at", "ticket", "kind", "target_kind", "cycle", "step", "actor"]
    fieldsets = [
        (None, {"fields": ["ticket", "kind", "created_at", "actor", "details"]}),
        (_("SLA target"), {"fields": ["target", "target_kind", "cycle", "step"]}),
        (_("Recorded values"), {"fields": ["recorded"], "classes": ["collapse"]}),
    ]
    list_filter = ["kind", "target_kind"]
    list_select_related = ["ticket", "actor"]
    search_fields = ["=ticket__reference"]
    search_help_text = _("Exact ticket reference.")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts would scan a large table
    ordering = ["-id"]

    @admin.display(description=_("details"))
    def details(self, obj: TicketEvent) -> str:
        """What the event says beyond its kind, as the desk's audit trail says it."""
        return event_details([obj])[obj.pk] or "—"

    @admin.display(description=_("as recorded"))
    def recorded(self, obj: TicketEvent) -> str:
        return code_block(obj.data)


@admin.register(StaffAlert)
class StaffAlertAdmin(TicketScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who was alerted in the desk of which breach or escalation, and when they saw it."""

    list_display = ["created_at", "ticket", "kind", "target_kind", "user", "seen_at"]
    list_filter = ["kind"]
    list_select_related = ["ticket", "user"]
    search_fields = ["=ticket__reference"]
    search_help_text = _("Exact ticket reference.")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    ordering = ["-id"]


@admin.register(Notification)
class NotificationAdmin(TicketScopedAdminMixin, MaskedContactMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    contact_fields = ("recipient",)
    list_display = ["created_at", "kind", "recipient", "ticket", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["ticket"]
    search_fields = ["=recipient", "=ticket__reference"]
    search_help_text = _("Exact recipient address or ticket reference.")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts would scan a large table
    ordering = ["-id"]
    actions = ["retry_now"]

    @admin.display(description=_("recipient"))
    def recipient_masked(self, obj: Notification) -> str:
        return mask_email(obj.recipient)

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return outbox_may_retry(EMAIL, request.user)

    @admin.action(description=_("Retry delivery now"), permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Pending and failed rows go back to pending, due now, and are handed to
        the delivery task once this transaction commits; a sent one stays sent
        (the outbox's retry decides)."""
        ids = outbox_retry(channel=EMAIL, ids=queryset.values_list("pk", flat=True))
        messages.success(
            request,
            ngettext(
                "%(count)d notification queued for delivery now.",
                "%(count)d notifications queued for delivery now.",
                len(ids),
            )
            % {"count": len(ids)},
        )
