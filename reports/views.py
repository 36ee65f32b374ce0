"""The managers' reports (/reports/…): SLA compliance, backlog and volume peaks.
Satisfaction and the feedback inbox are in feedback.views.

Every page reads its figures from reports.selectors (computed in PostgreSQL) over
the tickets the reader may see, and every table on it downloads as CSV with
``?export=<table>`` (the same rows, numbers unformatted)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cs_desk.csv_export import csv_response
from cs_desk.pages import staff_page
from reports import selectors as reports
from tickets.access import reads_reports

WEEKDAYS = [
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
]


report_reader = staff_page(reads_reports)


# --- The period form ------------------------------------------------------------------


class PeriodForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        for name, message in reports.period_problems(data.get("start"), data.get("end")).items():
            self.add_error(name, message)
        return data


class SLAForm(PeriodForm):
    group = forms.ChoiceField(
        label=gettext_lazy("Group by"),
        required=False,
        choices=[(g.code, g.label) for g in reports.GROUPINGS.values()],
    )


def report_period(request: HttpRequest, form_class=PeriodForm) -> tuple[forms.Form, reports.Period]:
    """The period asked for, in the reader's time zone; the last 30 days when
    nothing (or something invalid, shown as a field error) was asked for. A
    missing end is today, a missing start 30 days before the end."""
    zone = reports.reader_zone(request.user)
    form = form_class(request.GET or None)
    now = timezone.now()
    default = reports.Period.last_days(reports.DEFAULT_DAYS, now=now, zone=zone)
    if not form.is_bound or not form.is_valid():
        return form, default
    period = reports.period_asked(form.cleaned_data.get("start"), form.cleaned_data.get("end"), now=now, zone=zone)
    if period.first > period.last:
        form.add_error("start", _("The start date is after the end date."))
        return form, default
    return form, period


# --- Tables and CSV ---------------------------------------------------------------------


@dataclass
class Table:
    """One table of a report page: what its CSV download holds."""

    name: str
    header: Sequence[str]
    rows: Sequence[Sequence]


def export(request: HttpRequest, page: str, period: reports.Period | None, tables: Sequence[Table]) -> HttpResponse:
    name = request.GET.get("export", "")
    for table in tables:
        if table.name == name:
            suffix = f"-{period.first:%Y%m%d}-{period.last:%Y%m%d}" if period else ""
            return csv_response(f"{page}-{name}{suffix}.csv", table.header, table.rows)
    raise Http404("No such table.")


def local_text(value, zone) -> str:
    """An instant as the reader's wall-clock time, to the minute (CSV cells)."""
    return timezone.localtime(value, zone).strftime("%Y-%m-%d %H:%M") if value else ""


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def query_string(period: reports.Period, **extra) -> str:
    params = {"start": period.first.isoformat(), "end": period.last.isoformat(), **extra}
    return urlencode({k: v for k, v in params.items() if v})


def _target_row(t: reports.TargetFigures) -> list:
    return [
        t.met,
        t.breached,
        t.open,
        t.compliance,
        hours(t.business[0]),
        hours(t.business[1]),
        hours(t.calendar[0]),
        hours(t.calendar[1]),
    ]


def _target_header() -> list[str]:
    return [
        _("Met"),
        _("Breached"),
        _("Still open"),
        _("Compliance %"),
        _("p50 business hours"),
        _("p90 business hours"),
        _("p50 calendar hours"),
        _("p90 calendar hours"),
    ]


# --- Pages ------------------------------------------------------------------------------


@report_reader
def sla(request: HttpRequest) -> HttpResponse:
    form, period = report_period(request, SLAForm)
    code = request.GET.get("group", "")
    grouping = reports.GROUPINGS.get(code) or reports.GROUPINGS["team"]
    now = timezone.now()
    report = reports.sla_report(period=period, reader=request.user, grouping=grouping)
    summary, groups = report.summary, report.groups
    trend = reports.sla_trend(period=period, reader=request.user, report=report)
    # The page lists the first 100; its CSV, every overdue ticket.
    exporting = "export" in request.GET
    overdue, overdue_count = reports.overdue_tickets(reader=request.user, limit=None if exporting else 100)
    overdue = list(overdue)
    if exporting:
        tables = [
            Table("targets", [_("Target"), *_target_header()], [[t.kind_label, *_target_row(t)] for t in summary]),
            Table(
                "groups",
                [str(grouping.label), _("Target"), *_target_header()],
                [[g.name, t.kind_label, *_target_row(t)] for g in groups for t in g.targets],
            ),
            Table(
                "escalations",
                [str(grouping.label), _("Warnings (75%)"), _("Level 1 (breach)"), _("Level 2 (150%)")],
                [[g.name, g.warnings, g.level1, g.level2] for g in groups],
            ),
            Table(
                "trend",
                [_("Day"), _("Tickets created"), _("Met"), _("Breached"), _("Compliance %")],
                [[d.day.isoformat(), d.tickets, d.met, d.breached, d.compliance] for d in trend],
            ),
            Table(
                "overdue",
                [
                    _("Reference"),
                    _("Subject"),
                    _("Priority"),
                    _("Status"),
                    _("Team"),
                    _("Assignee"),
                    _("Due"),
                    _("Overdue by (hours)"),
                    _("Link"),
                ],
                [
                    [
                        t.reference,
                        t.subject,
                        t.get_priority_display(),
                        t.get_status_display(),
                        t.team.name,
                        t.assignee.get_username() if t.assignee else "",
                        local_text(t.due_at, period.zone),
                        hours((now - t.due_at).total_seconds()) if t.due_at else "",
                        request.build_absolute_uri(reverse("desk:ticket", args=[t.pk])),
                    ]
                    for t in overdue
                ],
            ),
        ]
        return export(request, "sla", period, tables)
    totals = reports.TargetFigures.total(summary)
    escalated = report.escalated
    return render(
        request,
        "reports/sla.html",
        {
            "form": form,
            "period": period,
            "grouping": grouping,
            "groupings": reports.GROUPINGS.values(),
            "summary": summary,
            "totals": totals,
            "escalated": escalated,
            "groups": groups,
            "trend": trend,
            "overdue": overdue,
            "overdue_count": overdue_count,
            "now": now,
            "query": query_string(period, group=grouping.code),
            "section": "sla",
        },
    )


@report_reader
def backlog(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    data = reports.backlog(now=now, reader=request.user)
    if "export" in request.GET:
        priority_names = [str(label) for _code, label in data.priorities]
        tables = [
            Table(
                "age",
                [_("Age"), *priority_names, _("Total")],
                [
                    [bucket, *[row[c] for c, _l in data.priorities], total]
                    for bucket, row, total in zip(data.buckets, data.cells, data.bucket_totals(), strict=True)
                ],
            ),
            Table(
                "breaching",
                [_("Priority"), _("Will breach within 4 hours"), _("Will breach within 24 hours")],
                [[label, data.breaching_4h[c], data.breaching_24h[c]] for c, label in data.priorities],
            ),
        ]
        return export(request, "backlog", None, tables)
    rows = [
        {"bucket": bucket, "cells": [row[c] for c, _l in data.priorities], "total": total}
        for bucket, row, total in zip(data.buckets, data.cells, data.bucket_totals(), strict=True)
    ]
    return render(
        request,
        "reports/backlog.html",
        {
            "data": data,
            "rows": rows,
            "priority_totals": [data.priority_totals()[c] for c, _l in data.priorities],
            "age_bars": list(zip(data.buckets, data.bucket_totals(), strict=True)),
            "breaching": [
                {"label": label, "code": c, "h4": data.breaching_4h[c], "h24": data.breaching_24h[c]}
                for c, label in data.priorities
            ],
            "breaching_4h": sum(data.breaching_4h.values()),
            "breaching_24h": sum(data.breaching_24h.values()),
            "now": now,
            "section": "backlog",
        },
    )


def _grid_rows(grid) -> list[list]:
    return [[str(WEEKDAYS[d]), *row, round(sum(row), 2)] for d, row in enumerate(grid)]


def _staffing_rows(plan: reports.StaffingPlan) -> list[list]:
    return [
        [
            h.day.isoformat(),
            str(WEEKDAYS[h.day.weekday()]),
            f"{h.hour:02d}:00",
            h.chats,
            h.chat_agents,
            h.tickets,
            h.ticket_agents,
        ]
        for h in plan.hours
    ]


def _staffing_header() -> list[str]:
    return [
        _("Day"),
        _("Weekday"),
        _("Hour"),
        _("Chats per hour"),
        _("Chat agents needed"),
        _("Tickets per hour"),
        _("Ticket agents needed"),
    ]


@report_reader
def volume(request: HttpRequest) -> HttpResponse:
    form, period = report_period(request)
    now = timezone.now()
    grid = reports.heatmap(period=period, reader=request.user)
    outlook = reports.forecast(now=now, zone=period.zone, reader=request.user)
    staffing = reports.staffing_plan(now=now, zone=period.zone, reader=request.user)
    if "export" in request.GET:
        header = [_("Weekday"), *[f"{h:02d}:00" for h in range(24)], _("Total")]
        tables = [
            Table("heatmap", header, _grid_rows(grid)),
            Table("forecast", header, _grid_rows(outlook.grid)),
            Table("staffing", _staffing_header(), _staffing_rows(staffing)),
        ]
        return export(request, "volume", period, tables)
    total = sum(sum(row) for row in grid)
    busiest = max(((d, h, n) for d, row in enumerate(grid) for h, n in enumerate(row)), key=lambda c: c[2])
    return render(
        request,
        "reports/volume.html",
        {
            "form": form,
            "period": period,
            "grid": grid,
            "total": total,
            "busiest": {"day": WEEKDAYS[busiest[0]], "hour": busiest[1], "n": busiest[2]} if total else None,
            "forecast": outlook,
            "peaks": [
                {
                    "day": WEEKDAYS[d],
                    "hour": h,
                    "n": n,
                    "date": outlook.first + timedelta(days=(d - outlook.first.weekday()) % 7),
                }
                for d, h, n in outlook.peaks()
            ],
            "weekdays": WEEKDAYS,
            "staffing": staffing,
            "measure_days": reports.MEASURE_DAYS,
            "measured_min": reports.MEASURED_MIN,
            "staffing_hours": [{"weekday": WEEKDAYS[h.day.weekday()], "row": h} for h in staffing.hours],
            "query": query_string(period),
            "section": "volume",
        },
    )
