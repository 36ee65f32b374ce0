"""The Django admin: configuration (calendars and their days, SLA policies,
teams, categories) and read-mostly views of tickets, their SLA targets, the
audit trail and the notification outbox.

Nothing here goes around the domain code:

* ticket changes are applied by :mod:`tickets.services` (an event, re-dated
  targets and notifications, as in the agent workspace); tickets are not added
  or deleted here;
* every calendar edit (the calendar, its working periods, its days, including
  bulk deletes) bumps the calendar's version through
  :func:`tickets.calendars.calendar_changed`, so cached compiled calendars notice;
* the audit trail (events) and the SLA targets are read-only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.db import transaction
from django.db.models import Case, Count, F, PositiveSmallIntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cs_desk.exceptions import ApplicationError
from tickets import services
from tickets.calendars import calendar_changed, calendars_missing_years
from tickets.forms import (
    BusinessCalendarForm,
    CalendarDayForm,
    SLAPolicyForm,
    TicketAdminForm,
    WorkingPeriodFormSet,
)
from tickets.models import (
    Attachment,
    BusinessCalendar,
    CalendarDay,
    CannedAnswer,
    Category,
    Message,
    Notification,
    ReportDigest,
    SLAPolicy,
    SLATarget,
    StaffProfile,
    Team,
    Ticket,
    TicketCounter,
    TicketEvent,
    WorkingPeriod,
)
from tickets.notifications import TEMPLATES as NOTIFICATION_TEMPLATES
from tickets.notifications import notifications_dispatch
from tickets.privacy import mask_contact

# --- Shared pieces ---------------------------------------------------------------


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


def _year_ranges(years: Iterable[int]) -> str:
    """``[2004, 2005, 2006, 2010]`` → ``"2004–2006, 2010"``."""
    ranges: list[list[int]] = []
    for year in sorted(years):
        if ranges and year == ranges[-1][1] + 1:
            ranges[-1][1] = year
        else:
            ranges.append([year, year])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in ranges) or "—"


def calendar_coverage_warn(request: HttpRequest) -> None:
    """Warn administrators about calendars missing this year's or next year's
    official schedule (deadlines then count plain Monday–Friday). Only those
    who may enter the days are told."""
    if not request.user.has_perm("tickets.add_calendarday"):
        return
    for calendar, years in calendars_missing_years(timezone.localdate()):
        url = reverse("admin:tickets_calendarday_add") + f"?calendar={calendar.pk}"
        messages.warning(
            request,
            format_html(
                str(
                    _(
                        "Calendar “{name}” has no official schedule for {years}: deadlines count Monday–Friday "
                        "plus the days you enter. Upgrade chinesecalendar and run calendar_seed_china, "
                        'or <a href="{url}">enter the days here</a>.'
                    )
                ),
                name=calendar.name,
                years=", ".join(map(str, years)),
                url=url,
            ),
        )


def _index_with_calendar_warnings(index: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def view(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        calendar_coverage_warn(request)
        return index(request, extra_context)

    return view


# The admin index shows the same warning. The default site is kept (the project's
# URLconf mounts ``admin.site``); its index view is wrapped before the URLconf is
# built, which happens after admin autodiscovery has imported this module.
admin.site.index = _index_with_calendar_warnings(admin.site.index)


# --- Calendars --------------------------------------------------------------------


class WorkingPeriodInline(admin.TabularInline):
    model = WorkingPeriod
    formset = WorkingPeriodFormSet
    fields = ["opens", "closes"]
    extra = 0
    min_num = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    form = BusinessCalendarForm
    inlines = [WorkingPeriodInline]
    list_display = ["name", "time_zone", "is_default", "working_hours", "official_years_display", "days_link"]
    readonly_fields = ["official_years_display", "days_link", "version", "updated_at"]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "time_zone", "is_default"]}),
        (
            _("Holidays and make-up working days"),
            {
                "fields": ["official_years_display", "days_link"],
                "description": _(
                    "Business time runs Monday to Friday inside the working periods, minus the holidays and plus "
                    "the make-up working days (调休) listed for this calendar. Official days are loaded from "
                    "chinesecalendar by “manage.py calendar_seed_china”; days entered here are kept when it runs "
                    "again. A year without the official schedule counts Monday–Friday plus the days you enter."
                ),
            },
        ),
        (_("Cache"), {"fields": ["version", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super().get_queryset(request).annotate(day_count=Count("days", distinct=True)).prefetch_related("periods")
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if request.method == "GET":
            calendar_coverage_warn(request)
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("working hours"))
    def working_hours(self, obj: BusinessCalendar) -> str:
        return ", ".join(str(period) for period in obj.periods.all()) or "—"

    @admin.display(description=_("years with the official schedule"))
    def official_years_display(self, obj: BusinessCalendar) -> str:
        return _year_ranges(obj.official_years or ())

    @admin.display(description=_("holidays and make-up working days"))
    def days_link(self, obj: BusinessCalendar) -> str:
        if obj.pk is None:
            return _("Save the calendar first, then enter its days.")
        count = getattr(obj, "day_count", None)
        if count is None:
            count = obj.days.count()
        changelist = reverse("admin:tickets_calendarday_changelist") + f"?calendar__id__exact={obj.pk}"
        add = reverse("admin:tickets_calendarday_add") + f"?calendar={obj.pk}"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            changelist,
            ngettext("%(count)d day", "%(count)d days", count) % {"count": count},
            add,
            _("add a day"),
        )

    def save_model(self, request: HttpRequest, obj: BusinessCalendar, form, change: bool) -> None:
        if change:
            # Never write back the version read with the form: another edit may
            # have bumped it since (save_related bumps it once more).
            obj.save(update_fields=["name", "time_zone", "is_default", "updated_at"])
        else:
            obj.save()

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        calendar_changed(form.instance.pk)


class CalendarDayYearFilter(admin.SimpleListFilter):
    title = _("year")
    parameter_name = "year"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [(str(d.year), str(d.year)) for d in CalendarDay.objects.dates("date", "year", order="DESC")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if not self.value():
            return queryset
        try:
            year = int(self.value())
        except ValueError as exc:
            raise IncorrectLookupParameters(exc) from exc
        return queryset.filter(date__gte=date(year, 1, 1), date__lt=date(year + 1, 1, 1))


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    form = CalendarDayForm
    list_display = ["date", "weekday", "kind", "name", "source", "calendar"]
    list_filter = ["calendar", "kind", "source", CalendarDayYearFilter]
    list_select_related = ["calendar"]
    date_hierarchy = "date"
    search_fields = ["name"]
    ordering = ["-date"]
    fields = ["calendar", "date", "kind", "name", "source"]
    readonly_fields = ["source"]

    @admin.display(description=_("weekday"), ordering="date")
    def weekday(self, obj: CalendarDay) -> str:
        return formats.date_format(obj.date, "D")

    def save_model(self, request: HttpRequest, obj: CalendarDay, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        for calendar_id in {obj.calendar_id, form.initial.get("calendar")} - {None}:
            calendar_changed(calendar_id)

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        super().delete_model(request, obj)
        calendar_changed(obj.calendar_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        calendar_ids = set(queryset.values_list("calendar_id", flat=True))
        super().delete_queryset(request, queryset)
        for calendar_id in calendar_ids:
            calendar_changed(calendar_id)


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
    list_display = ["priority", "first_response", "next_response", "resolution", "merchant_reply", "ladder", "calendar"]
    list_select_related = ["calendar"]
    readonly_fields = ["updated_at"]
    fieldsets = [
        (
            None,
            {
                "fields": ["priority", "calendar", "updated_at"],
                "description": _(
                    "Edits apply to SLA targets opened after the edit: open targets keep the deadline they were "
                    "promised. “Days” on the business clock are working days (the calendar's daily working hours); "
                    "on the calendar clock they are 24 hours."
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

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Every priority needs its policy: tickets could not be filed without one.
        return False


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
    fields = ["created_at", "original_name", "content_type", "size", "width", "height", "sha256"]


class SLATargetInline(ReadOnlyInline):
    model = SLATarget
    fields = ["kind", "cycle", "status", "clock", "duration", "started_at", "due_at", "steps_taken", "met_at"]


class TicketEventInline(ReadOnlyInline):
    model = TicketEvent
    fields = ["kind", "created_at", "target_kind", "step", "actor", "data"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("actor")


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


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
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
    readonly_fields = [
        "reference",
        "category",
        "team",
        "merchant",
        "due_at",
        "is_overdue",
        "escalation_level",
        "first_responded_at",
        "resolved_at",
        "closed_at",
        "created_at",
        "updated_at",
    ]
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
        (
            _("SLA"),
            {
                "fields": [
                    "due_at",
                    "is_overdue",
                    "escalation_level",
                    "first_responded_at",
                    "resolved_at",
                    "closed_at",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("requester"))
    def requester(self, obj: Ticket) -> str:
        """Lists never show a consumer's full phone number or email address."""
        return f"{obj.requester_name} {mask_contact(phone=obj.requester_phone, email=obj.requester_email)}"

    def save_model(self, request: HttpRequest, obj: Ticket, form: TicketAdminForm, change: bool) -> None:
        changed = set(form.changed_data)
        direct = [name for name in form.Meta.fields if name in changed and name not in form.SERVICE_FIELDS]
        if direct:
            obj.save(update_fields=[*direct, "updated_at"])
        now = timezone.now()
        data = form.cleaned_data
        try:
            if "assignee" in changed:
                services.ticket_assign(ticket=obj, assignee=data["assignee"], actor=request.user, now=now)
            if "priority" in changed:
                services.ticket_change_priority(ticket=obj, priority=data["priority"], actor=request.user, now=now)
            if "status" in changed:
                services.ticket_change_status(ticket=obj, status=data["status"], actor=request.user, now=now)
        except ApplicationError as exc:
            # The form checked the move; this is a race with another writer.
            messages.error(request, exc.message)
        obj.refresh_from_db()


@admin.register(SLATarget)
class SLATargetAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "ticket",
        "kind",
        "cycle",
        "status",
        "clock",
        "duration",
        "started_at",
        "due_at",
        "next_step_at",
        "steps_taken",
        "met_at",
    ]
    list_filter = ["kind", "status"]
    list_select_related = ["ticket"]
    search_fields = ["=ticket__reference"]
    search_help_text = _("Exact ticket reference.")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts would scan a large table
    ordering = ["-id"]


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit trail: nobody edits or deletes it."""

    list_display = ["created_at", "ticket", "kind", "target_kind", "cycle", "step", "actor"]
    list_filter = ["kind", "target_kind"]
    list_select_related = ["ticket", "actor"]
    search_fields = ["=ticket__reference"]
    search_help_text = _("Exact ticket reference.")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts would scan a large table
    ordering = ["-id"]


class NotificationKindFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [(kind, kind) for kind in NOTIFICATION_TEMPLATES]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "recipient", "ticket", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["status", NotificationKindFilter]
    list_select_related = ["ticket"]
    search_fields = ["=recipient", "=ticket__reference"]
    search_help_text = _("Exact recipient address or ticket reference.")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts would scan a large table
    ordering = ["-id"]
    actions = ["retry_now"]

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("tickets.change_notification")

    @admin.action(description=_("Retry delivery now"), permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Pending and failed rows go back to pending, due now, and are handed to
        the delivery task once this transaction commits. A failed row starts its
        attempts afresh; rows already sent, or being sent right now, are left alone."""
        now = timezone.now()
        with transaction.atomic():
            ids = list(
                Notification.objects.select_for_update(skip_locked=True)
                .filter(
                    pk__in=queryset.values("pk"),
                    status__in=(Notification.Status.PENDING, Notification.Status.FAILED),
                )
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            Notification.objects.filter(pk__in=ids).update(
                status=Notification.Status.PENDING,
                next_attempt_at=now,
                attempts=Case(
                    When(status=Notification.Status.FAILED, then=Value(0)),
                    default=F("attempts"),
                    output_field=PositiveSmallIntegerField(),
                ),
            )
            if ids:
                transaction.on_commit(lambda: notifications_dispatch(ids))
        messages.success(
            request,
            ngettext(
                "%(count)d notification queued for delivery now.",
                "%(count)d notifications queued for delivery now.",
                len(ids),
            )
            % {"count": len(ids)},
        )


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
    """Kept by supervisors (their group has the add/change/delete permissions)."""

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

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
