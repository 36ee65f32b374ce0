"""The administrator's two calendar tools beside the plain day list:

* entering a year's official schedule (the State Council's notice) in one form,
  with, before saving, the days it changes and the open promises a re-date would
  move (``tickets.services.calendars.official_schedule_effect``);
* re-dating the open promises over the calendar as it is now, explicitly, after
  an edit (``calendar_targets_redate``): without it they keep their deadlines.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from django import forms
from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cs_desk.exceptions import ApplicationError
from tickets.calendars import working_calendar
from tickets.models import BusinessCalendar, CalendarDay
from tickets.services.calendars import (
    calendar_targets_redate,
    official_schedule_effect,
    official_schedule_enter,
    promises_moved,
)

_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
# What may stand between the two dates of a range.
_JOINER = re.compile(r"^(?:to|至|到|~|–|—|-)\s*", re.IGNORECASE)


def _festival_names() -> dict[str, str]:
    """Every way to write a festival (code, Chinese and English names), folded, to its code."""
    names = {}
    for code, label in CalendarDay.Festival.choices:
        names[code.casefold()] = code
        for language in ("zh-hans", "en"):
            with translation.override(language):
                names[str(label).casefold()] = code
    return names


def _parse_days(text: str) -> dict[date, str]:
    """Lines of ``2027-02-05 to 2027-02-11 春节`` (a range), ``2027-01-01 元旦`` or
    ``2027-02-14`` into {date: festival code or ""}."""
    names, days, errors = _festival_names(), {}, []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        found = _DATE.findall(line)
        words = _JOINER.sub("", _DATE.sub(" ", line).strip()).strip(" ,，、")
        dates = []
        for text in found:
            try:
                dates.append(date.fromisoformat("-".join(part.zfill(2) for part in text.split("-"))))
            except ValueError:
                errors.append(_("Line %(line)d: %(text)s is not a date.") % {"line": number, "text": text})
        if len(dates) != len(found):
            continue
        if not 1 <= len(dates) <= 2:
            errors.append(_("Line %(line)d: give one date, or a first and a last date.") % {"line": number})
            continue
        festival = ""
        if words:
            festival = names.get(words.casefold())
            if festival is None:
                errors.append(
                    _("Line %(line)d: unknown festival “%(name)s”; use one of: %(choices)s.")
                    % {
                        "line": number,
                        "name": words,
                        "choices": "、".join(str(label) for _code, label in CalendarDay.Festival.choices),
                    }
                )
                continue
        first, last = dates[0], dates[-1]
        if last < first or (last - first).days > 31:
            errors.append(_("Line %(line)d: the range must run forward, at most a month.") % {"line": number})
            continue
        for n in range((last - first).days + 1):
            days[first + timedelta(days=n)] = festival
    if errors:
        raise forms.ValidationError(errors)
    return days


class OfficialScheduleForm(forms.Form):
    year = forms.IntegerField(label=_("year"), min_value=2000, max_value=2100)
    holidays = forms.CharField(
        label=_("holidays (days off)"),
        widget=forms.Textarea(attrs={"rows": 8, "cols": 60}),
        help_text=_("One line per holiday or range, with its festival: 2027-02-05 to 2027-02-11 春节"),
    )
    workdays = forms.CharField(
        label=_("make-up working days (调休)"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        required=False,
        help_text=_("One line per Saturday or Sunday worked, with the festival it makes up for: 2027-02-14 春节"),
    )
    redate = forms.BooleanField(
        label=_("re-date the open promises"),
        required=False,
        help_text=_("Unticked, open tickets keep the deadlines they were promised; new tickets use the schedule."),
    )

    def clean_holidays(self) -> dict[date, str]:
        return _parse_days(self.cleaned_data["holidays"])

    def clean_workdays(self) -> dict[date, str]:
        return _parse_days(self.cleaned_data.get("workdays") or "")


def _check(request: HttpRequest, *perms: str) -> None:
    if not all(request.user.has_perm(perm) for perm in perms):
        raise PermissionDenied


def official_schedule_view(model_admin: ModelAdmin, request: HttpRequest, calendar_id: int) -> HttpResponse:
    """Enter a year's official schedule: preview first, then save."""
    _check(request, "tickets.add_calendarday", "tickets.change_businesscalendar")
    calendar = get_object_or_404(BusinessCalendar, pk=calendar_id)
    this_year = timezone.localdate().year
    missing = [year for year in (this_year, this_year + 1) if year not in calendar.official_years]
    form = OfficialScheduleForm(request.POST or None, initial={"year": missing[0] if missing else None})
    effect = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        arguments = {"calendar": calendar, **{key: data[key] for key in ("year", "holidays", "workdays")}}
        try:
            if "save" in request.POST:
                result = official_schedule_enter(**arguments, redate=data["redate"], actor=request.user)
                messages.success(request, _saved_text(data["year"], result))
                return HttpResponseRedirect(reverse("admin:tickets_businesscalendar_change", args=[calendar.pk]))
            effect = official_schedule_effect(**arguments)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": BusinessCalendar._meta,
        "original": calendar,
        "title": _("Enter a year's official schedule"),
        "form": form,
        "effect": effect,
        "changed_days": _days_changed(effect, working_calendar(calendar)) if effect else [],
    }
    return TemplateResponse(request, "admin/tickets/businesscalendar/official_schedule.html", context)


def _days_changed(effect, before) -> list[tuple[date, bool]]:
    """Each changed day with whether it becomes a working day."""
    return [(day, not before.is_working_day(day)) for day in effect.days]


def _saved_text(year: int, result: dict[str, int]) -> str:
    text = _(
        "The official schedule of %(year)s is entered (holidays: %(holidays)d; make-up working days: %(workdays)d)."
    ) % {"year": year, **result}
    if result["redated"]:
        text += " " + ngettext(
            "%(count)d open promise was re-dated.", "%(count)d open promises were re-dated.", result["redated"]
        ) % {"count": result["redated"]}
    return text


def redate_view(model_admin: ModelAdmin, request: HttpRequest, calendar_id: int) -> HttpResponse:
    """Re-date the open promises over the calendar as it is now, once confirmed."""
    _check(request, "tickets.change_businesscalendar")
    calendar = get_object_or_404(BusinessCalendar, pk=calendar_id)
    if request.method == "POST":
        count = calendar_targets_redate(calendar=calendar, actor=request.user)
        messages.success(
            request,
            ngettext("%(count)d open promise was re-dated.", "%(count)d open promises were re-dated.", count)
            % {"count": count},
        )
        return HttpResponseRedirect(reverse("admin:tickets_businesscalendar_change", args=[calendar.pk]))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": BusinessCalendar._meta,
        "original": calendar,
        "title": _("Re-date the open promises"),
        "count": promises_moved(calendar, working_calendar(calendar)),
    }
    return TemplateResponse(request, "admin/tickets/businesscalendar/redate.html", context)


def promises_notice(request: HttpRequest, calendar: BusinessCalendar, days: list[date]) -> None:
    """After a day is edited: open promises keep their deadlines; say how many a
    re-date would move, with the way to do it."""
    calendar.refresh_from_db(fields=["version"])
    count = promises_moved(calendar, working_calendar(calendar), days)
    if not count:
        return
    url = reverse("admin:tickets_businesscalendar_redate", args=[calendar.pk])
    message = ngettext(
        "Open tickets keep the deadlines they were promised: %(count)d promise would move if re-dated over "
        'this calendar. <a href="{url}">Re-date it</a>',
        "Open tickets keep the deadlines they were promised: %(count)d promises would move if re-dated over "
        'this calendar. <a href="{url}">Re-date them</a>',
        count,
    ) % {"count": count}
    messages.info(request, format_html(message, url=url))
