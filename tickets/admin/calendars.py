"""Business calendars, their working periods and their days. Every edit bumps the
calendar's version through :func:`tickets.calendars.calendar_changed`, so cached
compiled calendars notice (bulk deletes included)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tickets.calendars import calendar_changed, calendars_missing_years
from tickets.forms import (
    BusinessCalendarForm,
    CalendarDayForm,
    WorkingPeriodFormSet,
)
from tickets.models import (
    BusinessCalendar,
    CalendarDay,
    WorkingPeriod,
)


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


def index_with_calendar_warnings(index: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def view(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        calendar_coverage_warn(request)
        return index(request, extra_context)

    return view


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
