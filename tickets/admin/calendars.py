"""Business calendars, their working periods and their days. Every edit bumps the
calendar's version through :func:`tickets.calendars.calendar_changed`, so cached
compiled calendars notice (bulk deletes included)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext

from tickets.admin.calendar_edits import official_schedule_view, promises_notice, redate_view
from tickets.calendars import calendar_changed, calendars_missing_years, provisional_festivals, working_calendar
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


def _dates_text(days: list[date]) -> str:
    """``2月5日至2月8日`` for three or more days in a row, else ``5月1日、5月2日``."""
    month_day = pgettext("a month and its day, in Django's date format", "F j")
    runs: list[list[date]] = []
    for day in days:
        if runs and day == runs[-1][-1] + timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        if len(run) >= 3:
            first, last = formats.date_format(run[0], month_day), formats.date_format(run[-1], month_day)
            parts.append(_("{first} to {last}").format(first=first, last=last))
        else:
            parts.extend(formats.date_format(day, month_day) for day in run)
    return pgettext("between dates", ", ").join(parts)


def _provisional_days_text(calendar: BusinessCalendar, year: int) -> str:
    """The provisional days off of ``year`` by festival, in the reader's language:
    ``元旦 1月1日；春节 2月5日至2月8日（补假 2月9日、2月10日）；…`` (empty if none)."""
    items = []
    for festival, days, given in provisional_festivals(working_calendar(calendar), year):
        label = CalendarDay.Festival(festival.value).label
        if not given:
            items.append(f"{label} {_dates_text(days)}")
        elif not days:
            items.append(_("{festival} in lieu: {given}").format(festival=label, given=_dates_text(given)))
        else:
            items.append(
                _("{festival} {days} (in lieu: {given})").format(
                    festival=label, days=_dates_text(days), given=_dates_text(given)
                )
            )
    return pgettext("between festivals", "; ").join(items)


def calendar_coverage_warn(request: HttpRequest) -> None:
    """Warn administrators about calendars missing this year's or next year's
    official schedule: deadlines then take the statutory holidays, listed, as
    provisional days off, and the make-up working days are unknown. Only those
    who may enter the days are told."""
    if not request.user.has_perm("tickets.add_calendarday"):
        return
    for calendar, years in calendars_missing_years(timezone.localdate()):
        url = reverse("admin:tickets_businesscalendar_official", args=[calendar.pk])
        for year in years:
            days = _provisional_days_text(calendar, year)
            if days:
                message = _(
                    "Calendar “{name}” has no official schedule for {year}. Until it is entered, deadlines that "
                    "year take the statutory holidays as provisional days off: {days}. The make-up working days "
                    "(调休) of {year} are unknown until then. Upgrade <code>chinesecalendar</code> and run "
                    '<code>calendar_seed_china</code>, or <a href="{url}">enter the days here</a>.'
                )
            else:
                message = _(
                    "Calendar “{name}” has no official schedule for {year}. The make-up working days (调休) of "
                    "{year} are unknown until it is entered. Upgrade <code>chinesecalendar</code> and run "
                    '<code>calendar_seed_china</code>, or <a href="{url}">enter the days here</a>.'
                )
            messages.warning(request, format_html(str(message), name=calendar.name, year=year, days=days, url=url))


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
    readonly_fields = ["official_years_display", "days_link", "schedule_tools", "version", "updated_at"]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "time_zone", "is_default"]}),
        (
            _("Holidays and make-up working days"),
            {
                "fields": ["official_years_display", "days_link", "schedule_tools"],
                "description": _(
                    "Business time runs Monday to Friday inside the working periods, minus the holidays and plus "
                    "the make-up working days (调休) listed for this calendar. Official days are loaded from "
                    "<code>chinesecalendar</code> by <code>manage.py calendar_seed_china</code>; days entered here "
                    "are kept when it runs again. A year without the official schedule counts the statutory "
                    "holidays and the days given back for them (补假) as provisional days off, plus the days you "
                    "enter; its make-up working days are unknown until you enter them."
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

    @admin.display(description=_("official schedule and open promises"))
    def schedule_tools(self, obj: BusinessCalendar) -> str:
        if obj.pk is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:tickets_businesscalendar_official", args=[obj.pk]),
            _("enter a year's official schedule"),
            reverse("admin:tickets_businesscalendar_redate", args=[obj.pk]),
            _("re-date the open promises"),
        )

    def get_urls(self):
        official = self.admin_site.admin_view(lambda request, pk: official_schedule_view(self, request, pk))
        redate = self.admin_site.admin_view(lambda request, pk: redate_view(self, request, pk))
        return [
            path("<int:pk>/official/", official, name="tickets_businesscalendar_official"),
            path("<int:pk>/redate/", redate, name="tickets_businesscalendar_redate"),
            *super().get_urls(),
        ]

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
        if change:
            promises_notice(request, form.instance, None)


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
    list_display = ["date", "weekday", "kind", "day_label", "source", "calendar"]
    list_filter = ["calendar", "kind", "festival", "source", CalendarDayYearFilter]
    list_select_related = ["calendar"]
    date_hierarchy = "date"
    search_fields = ["name"]
    ordering = ["-date"]
    fields = ["calendar", "date", "kind", "festival", "name", "source"]
    readonly_fields = ["source"]

    @admin.display(description=_("weekday"), ordering="date")
    def weekday(self, obj: CalendarDay) -> str:
        return formats.date_format(obj.date, "D")

    @admin.display(description=_("name"))
    def day_label(self, obj: CalendarDay) -> str:
        return obj.label

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        """The typed names, and the festivals whose name in the reader's language
        contains the term (国庆 finds National Day's official days)."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip().casefold()
        festivals = [code for code, label in CalendarDay.Festival.choices if term and term in str(label).casefold()]
        if festivals:
            found |= queryset.filter(festival__in=festivals)
        return found, may_have_duplicates

    # Every edit bumps the calendar's version; open promises keep their deadlines,
    # and the administrator is told how many a re-date would move.

    def save_model(self, request: HttpRequest, obj: CalendarDay, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        days = [obj.date, *([form.initial["date"]] if form.initial.get("date") else [])]
        for calendar_id in {obj.calendar_id, form.initial.get("calendar")} - {None}:
            calendar_changed(calendar_id)
            promises_notice(request, BusinessCalendar.objects.get(pk=calendar_id), days)

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        super().delete_model(request, obj)
        calendar_changed(obj.calendar_id)
        promises_notice(request, obj.calendar, [obj.date])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        days_by_calendar: dict[int, list[date]] = {}
        for calendar_id, day in queryset.values_list("calendar_id", "date"):
            days_by_calendar.setdefault(calendar_id, []).append(day)
        super().delete_queryset(request, queryset)
        for calendar_id, days in days_by_calendar.items():
            calendar_changed(calendar_id)
            promises_notice(request, BusinessCalendar.objects.get(pk=calendar_id), days)
