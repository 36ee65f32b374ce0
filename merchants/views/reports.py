"""The managers' merchant pages (/reports/merchants/): scorecards ranked and
filtered, with CSV; one merchant's trend, penalties and strikes; and the risk
signals to review. Managers and supervisors read them; managers act on them."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import Merchant
from cs_desk.csv_export import csv_response
from cs_desk.exceptions import ApplicationError
from cs_desk.forms import TextField, form_problems
from cs_desk.pages import staff_page
from merchants.models import MerchantRiskSignal
from merchants.penalties import merchants_rescore
from merchants.risk import risk_signal_review
from merchants.selectors import (
    LIST_ORDERS,
    ScorecardRow,
    awaiting_reply,
    open_complaints,
    score_trend,
    scorecard_of,
    scorecard_page_rows,
    scorecard_rows,
    strikes_in_window,
)
from merchants.templatetags.merchant_format import duration_s
from tickets.access import reads_merchant_reports, reviews_merchants
from tickets.models import Ticket

report_reader = staff_page(reads_merchant_reports)


class RiskReviewForm(forms.Form):
    """A verdict on a signal (the service knows the verdicts) with a note, and
    the risk page's filters to go back to."""

    verdict = TextField(required=False)
    note = TextField(label=gettext_lazy("Note"), required=False)
    status = TextField(label=gettext_lazy("Status"), required=False)
    kind = TextField(label=gettext_lazy("Signal"), required=False)


def _params(request: HttpRequest) -> dict:
    """The list's filters and order, as asked (anything unknown dropped)."""
    params = {
        "q": request.GET.get("q", "").strip()[:100],
        "status": request.GET.get("status", ""),
        "verification": request.GET.get("verification", ""),
        "below": request.GET.get("below", "").strip(),
        "sort": request.GET.get("sort", "score") if request.GET.get("sort") in LIST_ORDERS else "score",
    }
    if params["status"] not in Merchant.Status.values:
        params["status"] = ""
    if params["verification"] not in Merchant.Verification.values:
        params["verification"] = ""
    try:
        below = Decimal(params["below"]) if params["below"] else None
    except ArithmeticError:
        below = None
    if below is not None and not below.is_finite():
        below = None
    if below is None:
        params["below"] = ""
    params["below_value"] = below
    return params


def _rows(params: dict):
    """Every merchant matching the filters with its stored scorecard (the score
    every door shows), in the order asked."""
    return scorecard_rows(
        q=params["q"],
        status=params["status"],
        verification=params["verification"],
        below=params["below_value"],
        sort=params["sort"],
    )


@report_reader
def scorecard_list(request: HttpRequest) -> HttpResponse:
    params = _params(request)
    page = Paginator(_rows(params), 50).get_page(request.GET.get("page"))
    page.object_list = scorecard_page_rows(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "merchants/reports/list.html",
        {
            "page": page,
            "params": params,
            "query": query.urlencode(),
            "statuses": Merchant.Status.choices,
            "verifications": Merchant.Verification.choices,
            "sorts": [
                ("score", _("Lowest score first")),
                ("-score", _("Highest score first")),
                ("reply_rate", _("Lowest reply rate first")),
                ("median", _("Slowest median reply first")),
                ("strikes", _("Most strikes first")),
                ("open", _("Most open complaints first")),
            ],
            "open_signals": MerchantRiskSignal.objects.filter(status=MerchantRiskSignal.Status.OPEN).count(),
        },
    )


@report_reader
def scorecard_export(request: HttpRequest) -> HttpResponse:
    rows = _rows(_params(request))
    tz = ZoneInfo(settings.TIME_ZONE)
    header = [
        _("Shop id"), _("Shop name"), _("Status"), _("Verification"), _("Score"), _("Reply rate %"),
        _("Answered in time"), _("Left unanswered"), _("Median reply time"), _("Median reply time (s)"),
        _("Strikes"), _("Open complaints"), _("Registered"),
    ]  # fmt: skip

    def line(r: ScorecardRow) -> list:
        m, c = r.merchant, r.card
        return [
            m.shop_id, m.name, m.get_status_display(), m.get_verification_display(), c.score,
            "" if c.reply_rate is None else c.reply_rate, c.answered, c.unanswered,
            duration_s(c.median_reply_seconds), "" if c.median_reply_seconds is None else c.median_reply_seconds,
            c.strikes, r.open_complaints, timezone.localtime(m.created_at, tz).strftime("%Y-%m-%d"),
        ]  # fmt: skip

    stamp = timezone.localtime(timezone.now(), tz).strftime("%Y%m%d-%H%M")
    counts = open_complaints()
    cards = rows.iterator(chunk_size=2000) if isinstance(rows, QuerySet) else rows
    lines = (line(ScorecardRow(c.merchant, c, counts.get(c.merchant_id, 0))) for c in cards)
    return csv_response(f"merchant-scorecards-{stamp}.csv", header, lines)


@report_reader
def merchant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    merchant = get_object_or_404(Merchant.objects.select_related("scorecard"), pk=pk)
    now = timezone.now()
    context = {
        "merchant": merchant,
        "card": scorecard_of(merchant),
        "pending": awaiting_reply(merchant),
        "window_days": settings.MERCHANT_SCORE_WINDOW_DAYS,
        "score_weight": settings.MERCHANT_SCORE_UNANSWERED_WEIGHT,
        "trend": score_trend(merchant, now=now),
        "penalties": merchant.penalties.select_related("decided_by").prefetch_related("tickets"),
        "strikes": strikes_in_window(merchant, now=now),
        "signals": merchant.risk_signals.all(),
        "recent": Ticket.objects.filter(merchant=merchant).select_related("category").order_by("-created_at")[:20],
        "documents": merchant.documents.all(),
    }
    return render(request, "merchants/reports/detail.html", context)


@report_reader
@require_POST
def merchant_recompute(request: HttpRequest, pk: int) -> HttpResponse:
    """Scoring on demand: the ladder and the score, now."""
    if not reviews_merchants(request.user):
        raise PermissionDenied
    merchant = get_object_or_404(Merchant, pk=pk)
    result = merchants_rescore(merchant_ids=[merchant.pk])
    card = scorecard_of(Merchant.objects.select_related("scorecard").get(pk=merchant.pk))
    messages.success(
        request,
        _("Score recomputed: %(score)s. Penalties imposed: %(imposed)d, lifted: %(lifted)d.")
        % {"score": card.score, "imposed": result["imposed"], "lifted": result["lifted"]},
    )
    return redirect("merchant_reports:detail", pk=merchant.pk)


@report_reader
def risk_signals(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", MerchantRiskSignal.Status.OPEN)
    kind = request.GET.get("kind", "")
    signals = MerchantRiskSignal.objects.prefetch_related("merchants").select_related("reviewed_by")
    if status in MerchantRiskSignal.Status.values:
        signals = signals.filter(status=status)
    else:
        status = "all"
    if kind in MerchantRiskSignal.Kind.values:
        signals = signals.filter(kind=kind)
    else:
        kind = ""
    page = Paginator(signals, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "merchants/reports/risk.html",
        {
            "page": page,
            "status": status,
            "kind": kind,
            "statuses": MerchantRiskSignal.Status.choices,
            "kinds": MerchantRiskSignal.Kind.choices,
            "can_review": reviews_merchants(request.user),
        },
    )


@report_reader
@require_POST
def risk_review(request: HttpRequest, pk: int) -> HttpResponse:
    if not reviews_merchants(request.user):
        raise PermissionDenied
    signal = get_object_or_404(MerchantRiskSignal, pk=pk)
    form = RiskReviewForm(request.POST)
    try:
        if not form.is_valid():
            raise ApplicationError(" ".join(form_problems(form)))
        risk_signal_review(
            signal=signal,
            actor=request.user,
            verdict=form.cleaned_data["verdict"],
            note=form.cleaned_data["note"][:2000],
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Signal updated."))
    back = {key: form.cleaned_data.get(key, "") for key in ("status", "kind")}
    return redirect(reverse("merchant_reports:risk") + "?" + urlencode(back))
