"""The managers' satisfaction report and feedback inbox (/reports/satisfaction/,
/reports/feedback/): what consumers said, read with the reports' period, scope
and CSV."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cs_desk.forms import TextField, form_problems
from feedback.models import Feedback
from feedback.services import feedback_mark
from reports import satisfaction as reports
from reports.selectors import GROUPINGS
from reports.views import Table, export, local_text, query_string, report_period, report_reader

# A contact is an email or a phone number; mask_email masks either.
from tickets.privacy import mask_email


def _csat_header(first: str) -> list[str]:
    return [first, _("Answers"), _("Average rating"), _("Satisfied % (4–5)"), "1★", "2★", "3★", "4★", "5★"]


def _csat_row(s: reports.Satisfaction) -> list:
    return [s.name, s.answers, s.average, s.satisfied, *s.distribution]


@report_reader
def satisfaction(request: HttpRequest) -> HttpResponse:
    form, period = report_period(request)
    overall = reports.csat_overall(period=period, reader=request.user)
    by = {code: reports.csat_by(period=period, reader=request.user, by=code) for code in reports.CSAT_GROUPINGS}
    comments = list(reports.latest_comments(period=period, reader=request.user))
    if "export" in request.GET:
        overall.name = _("All")
        tables = [Table("overall", _csat_header(""), [_csat_row(overall)])]
        tables += [
            Table(code, _csat_header(str(GROUPINGS[code].label)), [_csat_row(s) for s in by[code]]) for code in by
        ]
        tables.append(
            Table(
                "comments",
                [_("Answered"), _("Reference"), _("Rating"), _("Comment"), _("Category"), _("Team"), _("Agent")],
                [
                    [
                        local_text(s.created_at, period.zone),
                        s.ticket.reference,
                        s.rating,
                        s.comment,
                        s.category.name,
                        s.team.name,
                        s.agent.get_username() if s.agent else "",
                    ]
                    for s in comments
                ],
            )
        )
        return export(request, "satisfaction", period, tables)
    return render(
        request,
        "reports/feedback/satisfaction.html",
        {
            "form": form,
            "period": period,
            "overall": overall,
            "distribution": [(f"{r}★", n) for r, n in zip(reports.RATINGS, overall.distribution, strict=True)],
            "groups": [(code, GROUPINGS[code].label, by[code]) for code in reports.CSAT_GROUPINGS],
            "comments": comments,
            "query": query_string(period),
            "section": "satisfaction",
        },
    )


# --- The feedback inbox -----------------------------------------------------------------


@report_reader
def inbox(request: HttpRequest) -> HttpResponse:
    form, period = report_period(request)
    topic = request.GET.get("topic", "")
    topic = topic if topic in Feedback.Topic.values else ""
    unhandled = request.GET.get("unhandled") == "1"
    flagged = request.GET.get("flagged") == "1"
    items = reports.feedback_list(period=period, topic=topic, unhandled=unhandled, flagged=flagged)
    hits = list(reports.keyword_hits(period=period, reader=request.user))
    if "export" in request.GET:
        tables = [
            Table(
                "feedback",
                [_("Received"), _("Topic"), _("Feedback"), _("Contact"), _("Keywords"), _("Handled")],
                (
                    [
                        local_text(f.created_at, period.zone),
                        f.get_topic_display(),
                        f.body,
                        mask_email(f.contact),
                        ", ".join(h.keyword.word for h in f.keyword_hits.all()),
                        local_text(f.handled_at, period.zone),
                    ]
                    for f in items.iterator(chunk_size=500)
                ),
            ),
            Table(
                "topics",
                [_("Topic"), _("Received"), _("Unhandled")],
                [[label, n, open_] for _code, label, n, open_ in reports.feedback_topics(period=period)],
            ),
            Table(
                "keywords",
                [_("At"), _("Word"), _("Where"), _("Text")],
                [
                    [
                        local_text(h.created_at, period.zone),
                        h.keyword.word,
                        h.ticket.reference if h.ticket_id else _("Feedback #%(id)s") % {"id": h.feedback_id},
                        (h.ticket.subject if h.ticket_id else h.feedback.body)[:200],
                    ]
                    for h in hits
                ],
            ),
        ]
        return export(request, "feedback", period, tables)
    page = list(items[:100])
    return render(
        request,
        "reports/feedback/inbox.html",
        {
            "form": form,
            "period": period,
            "topics": reports.feedback_topics(period=period),
            "topic": topic,
            "unhandled": unhandled,
            "flagged": flagged,
            "items": [(f, mask_email(f.contact)) for f in page],
            "more": items.count() - len(page) if len(page) == 100 else 0,
            "hits": hits,
            "query": query_string(
                period, topic=topic, unhandled="1" if unhandled else "", flagged="1" if flagged else ""
            ),
            "section": "feedback",
        },
    )


class MarkForm(forms.Form):
    handled = TextField(required=False)  # "1" handled, anything else not
    next = TextField(required=False)  # the inbox page, with its filters, to go back to


@require_POST
@report_reader
def inbox_mark(request: HttpRequest, pk: int) -> HttpResponse:
    feedback = get_object_or_404(Feedback, pk=pk)
    form = MarkForm(request.POST)
    inbox_url = reverse("feedback_reports:inbox")
    if not form.is_valid():
        for problem in form_problems(form):
            messages.error(request, problem)
        return redirect(inbox_url)
    handled = form.cleaned_data["handled"] == "1"
    feedback_mark(feedback=feedback, handled=handled, by=request.user)
    messages.success(request, _("Marked as handled.") if handled else _("Marked as not handled."))
    back = form.cleaned_data["next"]
    return redirect(back if back.startswith(inbox_url) else inbox_url)
